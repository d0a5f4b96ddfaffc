import { parseCondition, ConditionError, conditionKeysProblem } from '../engine/conditions.js';
import { BadInputError } from '../domain/errors.js';
import { FailurePolicy } from '../domain/task.js';
import { LIMITS, numberInRange, optionalText } from '../domain/validate.js';
import { consensusSpec, type ConsensusSpec } from '../domain/consensus.js';

export interface StepOptionsInput {
  key?: string | null;
  maxAttempts?: number | null;
  condition?: string | null;
  requiresApproval?: boolean | null;
  failurePolicy?: FailurePolicy | null;
  /** What the step should produce: the judge checks its result against it (issue 12). */
  expectedOutput?: string | null;
  /** Answered by several operators, then decided (issue 12). */
  consensus?: { voters?: number | null; strategy?: string | null } | null;
}

export interface StepOptions {
  key: string | null;
  maxAttempts: number;
  condition: string | null;
  requiresApproval: boolean;
  failurePolicy: FailurePolicy;
  expectedOutput: string | null;
  consensus: ConsensusSpec | null;
}

const KEY = /^[A-Za-z0-9_-]{1,64}$/;

/** Validates how the engine is to run a task: its key, attempts, condition and approval. */
export function stepOptions(input: StepOptionsInput): StepOptions {
  if (input.key != null && !KEY.test(input.key)) {
    throw new BadInputError(
      `key must be 1 to 64 letters, digits, "_" or "-", but got "${input.key.slice(0, 80)}"`,
      { field: 'key' },
    );
  }
  const condition = input.condition?.trim() || null;
  if (condition) {
    try {
      parseCondition(condition);
    } catch (err) {
      if (err instanceof ConditionError) {
        throw new BadInputError(`condition is not valid: ${err.message}`, { field: 'condition' });
      }
      throw err;
    }
  }
  return {
    key: input.key ?? null,
    maxAttempts: numberInRange('maxAttempts', input.maxAttempts ?? 3, 1, 10),
    condition,
    requiresApproval: input.requiresApproval ?? false,
    failurePolicy: input.failurePolicy ?? FailurePolicy.FAIL_FAST,
    expectedOutput:
      optionalText('expectedOutput', input.expectedOutput, LIMITS.description)?.trim() || null,
    consensus: consensusSpec(input.consensus),
  };
}

/**
 * A condition reads `steps.<key>` of the task's own dependencies only: that is the data the
 * engine has when it evaluates it. Throws BAD_USER_INPUT naming a key that is not one.
 */
export function assertConditionKeys(condition: string | null, dependencyKeys: string[]): void {
  const problem = condition ? conditionKeysProblem(condition, dependencyKeys) : null;
  if (problem) throw new BadInputError(problem, { field: 'condition' });
}

/**
 * Refuses removing the dependency `dependsOnId` of `task` when its condition reads the key it
 * takes away (`keysLeft`: the keys of the dependencies left): the key would read null, and the
 * engine would skip the step on a check nobody made.
 */
export function assertConditionKeepsKeys(
  task: { id: string; condition: string | null },
  dependsOnId: string,
  keysLeft: (string | null)[],
): void {
  try {
    assertConditionKeys(
      task.condition,
      keysLeft.filter((k): k is string => !!k),
    );
  } catch (err) {
    if (!(err instanceof BadInputError)) throw err;
    throw new BadInputError(
      `removeTaskDependency would leave the condition of Task "${task.id}" reading a step it no longer depends on: ${err.message}; keep the dependency`,
      { id: task.id, dependsOnId },
    );
  }
}
