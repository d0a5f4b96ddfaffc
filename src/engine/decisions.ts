import type { DependencyState, Promotable } from '../../graph/promotion.repository.js';
import type { ParentState } from '../../graph/settlement.repository.js';
import {
  ApprovalDecision,
  FailurePolicy,
  SKIPPED_BECAUSE,
  TaskStatus,
  inPlan,
  isFinished,
} from '../domain/task.js';
import { evaluateCondition, parseCondition } from './conditions.js';
import { outputOf, type StepInput } from './executor.js';

/** What the dependencies left, by step key (or id), as conditions and executors read it. */
export function inputsOf(dependencies: DependencyState[]): Record<string, StepInput> {
  const inputs: Record<string, StepInput> = {};
  for (const d of dependencies) {
    if (!d) continue;
    inputs[d.key ?? `step${Object.keys(inputs).length}`] = {
      status: d.status,
      result: d.result,
      output: outputOf(d.result),
    };
  }
  return inputs;
}

export interface Promotion {
  to: TaskStatus;
  error?: string;
}

/**
 * Where a PENDING task goes once its dependencies have ended. The stated rules:
 * - a dependency that FAILED or was CANCELLED: the task is SKIPPED (it can never run);
 * - all dependencies SKIPPED: SKIPPED too; a join after a branch runs if any branch ran;
 * - its condition false: SKIPPED;
 * - it needs approval not yet given: AWAITING_APPROVAL;
 * - otherwise READY, or IN_PROGRESS for a parent, whose steps then start.
 */
export function promotion(p: Promotable): Promotion {
  const deps = p.dependencies.filter(Boolean);
  const broken = deps.find(
    (d) => d.status === TaskStatus.FAILED || d.status === TaskStatus.CANCELLED,
  );
  if (broken) {
    return {
      to: TaskStatus.SKIPPED,
      error:
        `${SKIPPED_BECAUSE.brokenDependency}${broken.key ?? ''} ended ${broken.status}`.replace(
          '  ',
          ' ',
        ),
    };
  }
  if (deps.length > 0 && deps.every((d) => d.status === TaskStatus.SKIPPED)) {
    return { to: TaskStatus.SKIPPED, error: SKIPPED_BECAUSE.skippedDependencies };
  }
  if (p.task.condition) {
    const steps = inputsOf(deps);
    if (!evaluateCondition(parseCondition(p.task.condition), { steps })) {
      return {
        to: TaskStatus.SKIPPED,
        error: `${SKIPPED_BECAUSE.falseCondition}: ${p.task.condition}`,
      };
    }
  }
  if (p.task.requiresApproval && p.task.decision !== ApprovalDecision.APPROVED) {
    return { to: TaskStatus.AWAITING_APPROVAL };
  }
  return { to: p.hasChildren ? TaskStatus.IN_PROGRESS : TaskStatus.READY };
}

export interface Settlement {
  to: TaskStatus.COMPLETED | TaskStatus.FAILED | TaskStatus.CANCELLED;
  result?: string;
  error?: string;
  /** Unfinished steps to cancel (a fail-fast parent). */
  cancel: string[];
}

/**
 * Whether a running parent is done: FAILED at the first failed step under FAIL_FAST (its other
 * unfinished steps cancelled), otherwise once every step has ended: FAILED if any failed,
 * CANCELLED if any was cancelled, else COMPLETED with the steps' results by key.
 */
export function settlement({ parent, children: all }: ParentState): Settlement | null {
  // A step removed from the plan is not the plan's, even one a person had cancelled first.
  const children = all.filter(inPlan);
  const failed = children.filter((c) => c.status === TaskStatus.FAILED);
  const open = children.filter((c) => !isFinished(c.status));
  if (failed.length > 0 && parent.failurePolicy === FailurePolicy.FAIL_FAST) {
    return {
      to: TaskStatus.FAILED,
      error: `step "${failed[0]!.title}" failed`,
      cancel: open.map((c) => c.id),
    };
  }
  if (open.length > 0) return null;
  if (failed.length > 0) {
    return {
      to: TaskStatus.FAILED,
      error: `${failed.length} of ${children.length} steps failed`,
      cancel: [],
    };
  }
  const cancelled = children.filter((c) => c.status === TaskStatus.CANCELLED);
  if (cancelled.length > 0) {
    const error = `${cancelled.length} of ${children.length} steps were cancelled`;
    return { to: TaskStatus.CANCELLED, error, cancel: [] };
  }
  // A plan's synthesis step writes the parent's answer.
  const synthesis = children.find(
    (c) => c.key === 'synthesis' && c.status === TaskStatus.COMPLETED,
  );
  if (synthesis?.result) return { to: TaskStatus.COMPLETED, result: synthesis.result, cancel: [] };
  const results: Record<string, unknown> = {};
  for (const c of children) {
    if (c.status !== TaskStatus.COMPLETED) continue;
    results[c.key ?? c.id] = outputOf(c.result) ?? c.result;
  }
  return { to: TaskStatus.COMPLETED, result: JSON.stringify(results), cancel: [] };
}
