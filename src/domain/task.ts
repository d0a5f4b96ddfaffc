import { BadInputError } from './errors.js';

export enum TaskPriority {
  LOW = 'LOW',
  MEDIUM = 'MEDIUM',
  HIGH = 'HIGH',
  URGENT = 'URGENT',
}

export enum TaskStatus {
  PENDING = 'PENDING',
  READY = 'READY',
  IN_PROGRESS = 'IN_PROGRESS',
  AWAITING_APPROVAL = 'AWAITING_APPROVAL',
  /** Its agent loop stopped for tool calls a person must decide (resolveToolCall). */
  AWAITING_INPUT = 'AWAITING_INPUT',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
  SKIPPED = 'SKIPPED',
}

/**
 * How a SKIPPED step's `error` begins, by cause: a task's objective evaluation tells a failure's
 * consequence from a design's (a false condition) and a person's decision, and a retry brings
 * back what a failure skipped. Read it with skipCause.
 */
export const SKIPPED_BECAUSE = {
  brokenDependency: 'dependency ',
  skippedDependencies: 'every dependency was skipped',
  falseCondition: 'condition was false',
  rejected: 'rejected by ',
  removedFromPlan: 'removed from the plan by ',
} as const;

export type SkipCause = keyof typeof SKIPPED_BECAUSE;

/** The cause a SKIPPED step's `error` names (SKIPPED_BECAUSE), or null if it names none. */
export function skipCause(error: string | null | undefined): SkipCause | null {
  if (!error) return null;
  const causes = Object.keys(SKIPPED_BECAUSE) as SkipCause[];
  return causes.find((c) => error.startsWith(SKIPPED_BECAUSE[c])) ?? null;
}

/** A step as settlement and retryTask see it; `removed`: approvePlan took it out of its plan. */
export interface PlanMember {
  removed: boolean;
}

/**
 * Whether a step is its plan's: one approvePlan removed is not, even one a person had cancelled
 * before (it stays CANCELLED): its parent settles without it and retryTask never reopens it.
 */
export const inPlan = (step: PlanMember): boolean => !step.removed;

/**
 * The `error` of a step its parent cancelled as it failed fast: a retry that reopens the parent
 * knows by it which of its cancelled steps to bring back.
 */
export const failFastCancelError = (parentError: string): string => `cancelled: ${parentError}`;

/** What a parent does when one of its steps fails. */
export enum FailurePolicy {
  /** Cancel the other unfinished steps and fail the parent at once (the default). */
  FAIL_FAST = 'FAIL_FAST',
  /** Let the other branches finish; the parent fails when all have ended. */
  CONTINUE = 'CONTINUE',
}

export enum ApprovalDecision {
  APPROVED = 'APPROVED',
  REJECTED = 'REJECTED',
}

/** Statuses a task never leaves, except FAILED and CANCELLED through retry. */
export const FINISHED_STATUSES: readonly TaskStatus[] = [
  TaskStatus.COMPLETED,
  TaskStatus.FAILED,
  TaskStatus.CANCELLED,
  TaskStatus.SKIPPED,
];

export const isFinished = (s: TaskStatus) => FINISHED_STATUSES.includes(s);

/** Allowed status changes: from -> the statuses it may move to. */
export const TASK_TRANSITIONS: Record<TaskStatus, readonly TaskStatus[]> = {
  PENDING: [
    TaskStatus.READY,
    TaskStatus.IN_PROGRESS,
    TaskStatus.AWAITING_APPROVAL,
    TaskStatus.CANCELLED,
    TaskStatus.SKIPPED,
  ],
  READY: [TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.CANCELLED, TaskStatus.SKIPPED],
  IN_PROGRESS: [
    TaskStatus.COMPLETED,
    TaskStatus.FAILED,
    TaskStatus.AWAITING_APPROVAL,
    TaskStatus.AWAITING_INPUT,
    TaskStatus.READY,
    TaskStatus.CANCELLED,
  ],
  AWAITING_APPROVAL: [
    TaskStatus.READY,
    TaskStatus.IN_PROGRESS,
    TaskStatus.SKIPPED,
    TaskStatus.CANCELLED,
  ],
  AWAITING_INPUT: [TaskStatus.READY, TaskStatus.CANCELLED, TaskStatus.SKIPPED],
  COMPLETED: [],
  FAILED: [TaskStatus.PENDING],
  CANCELLED: [TaskStatus.PENDING],
  SKIPPED: [],
};

/** Throws BAD_USER_INPUT naming both ends when `from -> to` is not in the table. */
export function assertTaskTransition(from: TaskStatus, to: TaskStatus, action?: string): void {
  if (TASK_TRANSITIONS[from].includes(to)) return;
  const allowed = TASK_TRANSITIONS[from].join(', ') || 'nothing (it is final)';
  const what = action ? `Cannot ${action} this task: ` : '';
  throw new BadInputError(
    `${what}a task cannot go from ${from} to ${to}; from ${from} it may go to ${allowed}`,
    { from, to },
  );
}

export interface Task {
  id: string;
  tenantId: string;
  title: string;
  description: string | null;
  priority: TaskPriority;
  status: TaskStatus;
  result: string | null;
  error: string | null;
  /** Why a READY step is not running yet (no agent free, no Chief of Staff free); null otherwise. */
  waitingReason: string | null;
  attempts: number;
  /** Attempts allowed before the task ends FAILED. */
  maxAttempts: number;
  /** Name of the step within its plan; conditions refer to steps by key. */
  key: string | null;
  /** A condition on the dependencies' outputs (src/engine/conditions.ts); false means SKIPPED. */
  condition: string | null;
  requiresApproval: boolean;
  failurePolicy: FailurePolicy;
  /** Run by the orchestration engine (set by startWorkflow). */
  orchestrated: boolean;
  /**
   * When a root was handed to the engine (startWorkflow, submitTask); null for steps, for tasks
   * not run by it, and for roots handed to it before this was recorded.
   */
  orchestratedAt?: string | null;
  /** Submitted for a Chief of Staff to plan: its first run writes the plan (submitTask). */
  needsPlan: boolean;
  /** What kind of task it is (issue 12): given, or derived from its root's title (family.ts). */
  family: string | null;
  /** What the step should produce (a plan's `output`, or given): the judge checks against it. */
  expectedOutput?: string | null;
  decision: ApprovalDecision | null;
  /** A submitted task whose plan waits for approvePlan before any step runs (issue 13). */
  planApproval: boolean;
  /** approvePlan took this step out of its plan (PlanMember's `removed`: inPlan). */
  removedFromPlan: boolean;
  /** Why a person rejected the previous plan (rejectPlan): the Chief of Staff plans again with it. */
  planFeedback: string | null;
  decidedBy: string | null;
  decisionComment: string | null;
  createdBy: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}
