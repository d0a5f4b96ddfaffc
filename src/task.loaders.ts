import type { Tx } from '../graph/cypher.js';
import * as tasks from '../graph/task.repository.js';
import type { TaskStatus } from './domain/task.js';
import { groupedBy } from './loaders.js';

type Read = <T>(work: (tx: Tx) => Promise<T>) => Promise<T>;

/** The task fields' loaders for one request; see createLoaders. */
export function createTaskLoaders(read: Read, tenantId: string) {
  const related = (relation: tasks.TaskRelation) =>
    groupedBy(
      (ids) => read((tx) => tasks.relatedTasks(tx, tenantId, ids, relation)),
      (r) => r.ownerId,
    );
  return {
    subtasks: related('subtasks'),
    parent: related('parent'),
    dependencies: related('dependencies'),
    dependents: related('dependents'),
    assignment: groupedBy(
      (ids) => read((tx) => tasks.assignmentsByTaskIds(tx, tenantId, ids)),
      (a) => a.taskId,
    ),
    requirements: groupedBy(
      (ids) => read((tx) => tasks.requirementsByTaskIds(tx, tenantId, ids)),
      (r) => r.taskId,
    ),
    delegator: groupedBy(
      (ids) => read((tx) => tasks.delegatorsByTaskIds(tx, tenantId, ids)),
      (r) => r.taskId,
    ),
    agentTaskCounts: groupedBy(
      (ids) => read((tx) => tasks.taskCountsByAssigneeIds(tx, tenantId, ids)),
      (r) => r.agentId,
    ),
    /** agent.tasks for one set of arguments. */
    agentTasks: (statuses: TaskStatus[] | null, limit: number) =>
      groupedBy(
        (ids) => read((tx) => tasks.tasksByAssigneeIds(tx, tenantId, ids, statuses, limit)),
        (r) => r.agentId,
      ),
  };
}
