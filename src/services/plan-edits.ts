/**
 * A person's edits to a plan that waits for approval (approvePlan, issue 13): change steps, add
 * steps, remove steps. The edited plan is checked by the planner's own rules (planProblem and
 * PlanSchema's limits), so a person cannot approve a plan a model could not have written.
 * Pure: no graph, no model.
 */
import { planProblem, PlanSchema, type Plan } from '../agents/plan.js';
import { BadInputError } from '../domain/errors.js';
import type { TaskPriority } from '../domain/task.js';
import {
  atPosition,
  distinctNames,
  LIMITS,
  listOfAtMost,
  optionalText,
  requiredName,
  requiredText,
} from '../domain/validate.js';

/** A step of the waiting plan as the graph holds it (the synthesis step left out). */
export interface PlanStepState {
  id: string;
  key: string;
  title: string;
  description: string | null;
  priority: TaskPriority;
  condition: string | null;
  capabilities: string[];
  /** Keys of the steps it depends on. */
  dependsOn: string[];
}

/** Fields to change on one step; omitted or null fields stay (condition: "" clears it). */
export interface PlanStepChange {
  key: string;
  title?: string | null;
  description?: string | null;
  capabilities?: string[] | null;
  priority?: TaskPriority | null;
  dependsOn?: string[] | null;
  condition?: string | null;
}

export interface PlanStepAddition {
  key: string;
  title: string;
  description?: string | null;
  capabilities?: string[] | null;
  /** Default: the task's priority. */
  priority?: TaskPriority | null;
  dependsOn?: string[] | null;
  condition?: string | null;
}

export interface PlanEdits {
  change?: PlanStepChange[] | null;
  add?: PlanStepAddition[] | null;
  /** Keys of the steps to remove. */
  remove?: string[] | null;
}

/** A step of the edited plan: `id` null for an added one; `changed` when an edit touched it. */
export interface EditedStep extends Omit<PlanStepState, 'id'> {
  id: string | null;
  changed: boolean;
}

export interface EditedPlan {
  steps: EditedStep[];
  removed: PlanStepState[];
}

/**
 * Applies the edits to the plan and checks the result like a model's plan. Throws
 * BAD_USER_INPUT naming the edit (e.g. `edits.add[0].dependsOn`) or the step and the field;
 * nothing is written by the caller then.
 */
export function editPlan(
  current: PlanStepState[],
  edits: PlanEdits | null | undefined,
  rootPriority: TaskPriority,
): EditedPlan {
  const change = listOfAtMost('edits.change', edits?.change ?? [], LIMITS.batch);
  const add = listOfAtMost('edits.add', edits?.add ?? [], LIMITS.batch);
  const remove = listOfAtMost('edits.remove', edits?.remove ?? [], LIMITS.batch);
  const byKey = new Map(current.map((s) => [s.key, s]));
  const known = () => current.map((s) => s.key).join(', ') || 'none';
  /** Where each key was edited, to name the edit in a refusal. */
  const editedAt = new Map<string, string>();

  remove.forEach((key, i) => {
    if (!byKey.has(key))
      throw new BadInputError(
        `edits.remove[${i}]: the plan has no step "${key}" (its steps: ${known()})`,
        { step: key, field: 'remove' },
      );
    editedAt.set(key, `edits.remove[${i}]`);
  });
  const removed = new Set(remove);
  const steps: EditedStep[] = current
    .filter((s) => !removed.has(s.key))
    .map((s) => ({ ...s, changed: false }));
  const live = new Map(steps.map((s) => [s.key, s]));

  change.forEach((c, i) => {
    const at = `edits.change[${i}]`;
    const step = live.get(c.key);
    if (!step) {
      const why = removed.has(c.key)
        ? `the step "${c.key}" is removed by ${editedAt.get(c.key)}`
        : `the plan has no step "${c.key}" (its steps: ${known()})`;
      throw new BadInputError(`${at}.key: ${why}`, { step: c.key, field: 'key' });
    }
    if (step.changed)
      throw new BadInputError(`${at}.key: the step "${c.key}" is changed twice; merge the edits`, {
        step: c.key,
        field: 'key',
      });
    atPosition(`${at}.`, () => {
      if (c.title != null) step.title = requiredName('title', c.title, LIMITS.title);
      if (c.description != null)
        step.description = optionalText('description', c.description, LIMITS.description) ?? null;
      if (c.capabilities != null) step.capabilities = names(c.capabilities);
      if (c.priority != null) step.priority = c.priority;
      if (c.dependsOn != null) step.dependsOn = keys(c.dependsOn);
      if (c.condition != null) step.condition = c.condition.trim() || null;
    });
    step.changed = true;
    editedAt.set(c.key, at);
  });

  add.forEach((a, i) => {
    const at = `edits.add[${i}]`;
    if (byKey.has(a.key))
      throw new BadInputError(
        `${at}.key: the plan already has a step "${a.key}"${removed.has(a.key) ? ' (removed in these edits: choose a new key)' : ''}`,
        { step: a.key, field: 'key' },
      );
    const step = atPosition(`${at}.`, (): EditedStep => ({
      id: null,
      key: a.key,
      title: requiredName('title', a.title, LIMITS.title),
      description: optionalText('description', a.description, LIMITS.description) ?? null,
      priority: a.priority ?? rootPriority,
      condition: a.condition?.trim() || null,
      capabilities: names(a.capabilities ?? []),
      dependsOn: keys(a.dependsOn ?? []),
      changed: true,
    }));
    editedAt.set(a.key, at);
    steps.push(step);
  });

  // The planner's rules, on the plan as it would run.
  const plan: Plan = {
    steps: steps.map((s) => ({
      key: s.key,
      title: s.title,
      instructions: s.description ?? s.title,
      capability: s.capabilities[0] ?? '',
      dependsOn: s.dependsOn,
      condition: s.condition,
      output: '',
    })),
  };
  const shape = PlanSchema.safeParse(plan);
  if (!shape.success) {
    // The number of steps, or a step's field (a step of the plan without a key, say).
    const issue = shape.error.issues[0]!;
    const [, index, field] = issue.path;
    const step = typeof index === 'number' ? steps[index] : undefined;
    if (step) {
      throw new BadInputError(`edits: step "${step.key}" (${String(field)}): ${issue.message}`, {
        step: step.key,
        field: String(field),
      });
    }
    throw new BadInputError(
      `edits: a plan has 1 to 20 steps, but the edited plan has ${steps.length}`,
      { field: 'steps', count: steps.length },
    );
  }
  const problem = planProblem(plan);
  if (problem) {
    const where = editedAt.get(problem.step);
    const at = where
      ? `${where}.${problem.field}`
      : `edits: step "${problem.step}" (${problem.field})`;
    throw new BadInputError(`${at}: ${problem.message}`, {
      step: problem.step,
      field: problem.field,
    });
  }
  return { steps, removed: current.filter((s) => removed.has(s.key)) };
}

function names(values: string[]): string[] {
  return distinctNames('capabilities', values, LIMITS.capabilities, LIMITS.name);
}

function keys(values: string[]): string[] {
  return [...new Set(listOfAtMost('dependsOn', values, LIMITS.dependencies).map((k) => k.trim()))];
}
