import type { Tx } from '../../graph/cypher.js';
import * as relations from '../../graph/task-relations.repository.js';
import type DataLoader from 'dataloader';
import type { Task, TaskStatus } from '../domain/task.js';
import { NotFoundError } from '../domain/errors.js';
import { agentPropertiesOnly, taskPropertiesOnly } from '../../graph/mappers.js';
import type { Agent } from '../domain/agent.js';
import { groupedBy } from './loaders.js';

type Read = <T>(work: (tx: Tx) => Promise<T>) => Promise<T>;

/** Task fields that read a relation taskWithRelations can fetch with the task. */
const AHEAD: Record<string, relations.TaskRelation | 'assignment'> = {
  subtasks: 'subtasks',
  parent: 'parent',
  dependencies: 'dependencies',
  dependents: 'dependents',
  assignee: 'assignment',
  assignment: 'assignment',
};

/** The task fields' loaders for one request; see createLoaders. */
export function createTaskLoaders(read: Read, tenantId: string, task: DataLoader<string, Task>) {
  const related = (relation: relations.TaskRelation) =>
    groupedBy(
      (ids) => read((tx) => relations.relatedTasks(tx, tenantId, ids, relation)),
      (r) => r.ownerId,
    );
  const loaders = {
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
    agentTasks: (statuses: TaskStatus[] | null, limit: number, fields: readonly string[] | null) =>
      groupedBy(
        (ids) =>
          read((tx) => relations.tasksByAssigneeIds(tx, tenantId, ids, statuses, limit, fields)),
        (r) => r.agentId,
      ),
  };
  /**
   * One task whose query selects `fields` (and `under(field)` on a field's value): with the
   * relations among them read in the same statement, as `answers` (the values of the task's
   * own fields: resolvers/read-ahead.ts) and primed into their loaders when read whole, so no
   * field makes a round trip of its own (issue 15), and of the task and of each relation only
   * the properties selected, when all that is selected of it are properties
   * (taskPropertiesOnly). Without such fields, the plain batched read.
   */
  const withRelations = async (
    id: string,
    fields: readonly string[],
    under: (field: string) => string[],
  ): Promise<{ task: Task; answers: Record<string, unknown> }> => {
    const wanted = new Set(fields.flatMap((f) => (AHEAD[f] ? [AHEAD[f]] : [])));
    if (wanted.size === 0) return { task: await task.load(id), answers: {} };
    const list = [...wanted].filter((w) => w !== 'assignment') as relations.TaskRelation[];
    const only: NonNullable<relations.TaskLookahead['only']> = {};
    const own = taskPropertiesOnly(fields.filter((f) => !AHEAD[f]));
    if (own) only.task = own;
    for (const relation of list) {
      const selected = taskPropertiesOnly(under(relation));
      if (selected) only[relation] = selected;
    }
    // The assignee read in part when it is all that is selected of the assignment.
    const assigneeOnly = fields.includes('assignment')
      ? null
      : agentPropertiesOnly(under('assignee'));
    const ahead: relations.TaskLookahead = {
      assignment: wanted.has('assignment'),
      relations: list,
      only,
    };
    if (assigneeOnly) ahead.assigneeOnly = assigneeOnly;
    const found = await read((tx) => relations.taskWithRelations(tx, tenantId, id, ahead));
    if (!found) throw new NotFoundError('Task', id);
    // A task read in part answers this field only: another that loads it must read it whole.
    // Read whole, others get a copy: the answers below stay this field's.
    if (!own) task.prime(id, { ...found.task });
    // Read in part, a relation answers this field only; read whole, other fields too.
    const answers: Record<string, unknown> = {};
    for (const [relation, tasks] of Object.entries(found.related) as [
      relations.TaskRelation,
      Task[],
    ][]) {
      answers[relation] = relation === 'parent' ? (tasks[0] ?? null) : tasks;
      if (!only[relation]) {
        loaders[relation].prime(
          id,
          tasks.map((t) => ({ ownerId: id, task: t })),
        );
      }
    }
    if (found.assignments) {
      answers.assignee = found.assignments[0]?.agent ?? null;
      if (!assigneeOnly) {
        answers.assignment = found.assignments[0] ?? null;
        loaders.assignment.prime(id, found.assignments);
      }
    }
    return { task: found.task, answers };
  };
  /** A task's related tasks (those read with it by withRelations are answered before). */
  const relatedTo = async (of: { id: string }, relation: relations.TaskRelation): Promise<Task[]> =>
    (await loaders[relation].load(of.id)).map((r) => r.task);
  /** A task's assignee, as relatedTo. */
  const assigneeOf = async (of: { id: string }): Promise<Agent | null> => {
    const [assignment] = await loaders.assignment.load(of.id);
    return assignment?.agent ?? null;
  };
  return { ...loaders, withRelations, relatedTo, assigneeOf };
}
