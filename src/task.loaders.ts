import type { Tx } from '../graph/cypher.js';
import * as relations from '../graph/task-relations.repository.js';
import type { TaskStatus } from './domain/task.js';
import { groupedBy } from './loaders.js';

type Read = <T>(work: (tx: Tx) => Promise<T>) => Promise<T>;

/** The task fields' loaders for one request; see createLoaders. */
export function createTaskLoaders(read: Read, tenantId: string) {
  const related = (relation: relations.TaskRelation) =>
    groupedBy(
      (ids) => read((tx) => relations.relatedTasks(tx, tenantId, ids, relation)),
      (r) => r.ownerId,
    );
  return {
    subtasks: related('subtasks'),
    parent: related('parent'),
    dependencies: related('dependencies'),
    dependents: related('dependents'),
    assignment: groupedBy(
      (ids) => read((tx) => relations.assignmentsByTaskIds(tx, tenantId, ids)),
      (a) => a.taskId,
    ),
    requirements: groupedBy(
      (ids) => read((tx) => relations.requirementsByTaskIds(tx, tenantId, ids)),
      (r) => r.taskId,
    ),
    delegator: groupedBy(
      (ids) => read((tx) => relations.delegatorsByTaskIds(tx, tenantId, ids)),
      (r) => r.taskId,
    ),
    agentTaskCounts: groupedBy(
      (ids) => read((tx) => relations.taskCountsByAssigneeIds(tx, tenantId, ids)),
      (r) => r.agentId,
    ),
    /** agent.tasks for one set of arguments and selected fields (null: all properties). */
    agentTasks: (statuses: TaskStatus[] | null, limit: number, fields: string[] | null) =>
      groupedBy(
        (ids) =>
          read((tx) => relations.tasksByAssigneeIds(tx, tenantId, ids, statuses, limit, fields)),
        (r) => r.agentId,
      ),
  };
}
