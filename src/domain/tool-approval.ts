import { AgentRole } from './agent.js';
import { TaskPriority } from './task.js';

/**
 * Tool-call approval (issue 13): a tenant's policy per tool says whether a person approves a
 * call before it runs; a call that needs it waits as a request until someone decides.
 */

export enum ToolApprovalMode {
  /** Every call waits for a person. */
  ALWAYS = 'ALWAYS',
  /** No call waits (the same as no policy). */
  NEVER = 'NEVER',
  /** A call waits when the agent has one of `roles`, or the task is at least `minPriority`. */
  WHEN = 'WHEN',
}

export enum ToolCallDecision {
  APPROVE = 'APPROVE',
  /** Run it with the arguments the person gives instead. */
  EDIT = 'EDIT',
  /** Do not run it; the agent is told why. */
  REJECT = 'REJECT',
}

export enum ToolCallRequestStatus {
  PENDING = 'PENDING',
  APPROVED = 'APPROVED',
  EDITED = 'EDITED',
  REJECTED = 'REJECTED',
}

export interface ToolPolicy {
  tenantId: string;
  tool: string;
  mode: ToolApprovalMode;
  roles: AgentRole[];
  minPriority: TaskPriority | null;
  updatedAt: string;
  updatedBy: string | null;
}

/** A tool call that waits for (or had) a person's decision, by the id the model gave it. */
export interface ToolCallRequest {
  id: string;
  tenantId: string;
  taskId: string;
  /** The run that stopped for it. */
  runId: string;
  callId: string;
  tool: string;
  /** The arguments the model asked for, as JSON. */
  args: string;
  status: ToolCallRequestStatus;
  /** For EDITED: the arguments it runs with, as JSON. */
  editedArgs: string | null;
  reason: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  requestedAt: string;
}

const RANK: Record<TaskPriority, number> = { LOW: 0, MEDIUM: 1, HIGH: 2, URGENT: 3 };

/** Whether a call of the policy's tool by an agent of `role` on a task of `priority` waits. */
export function needsApproval(
  policy: Pick<ToolPolicy, 'mode' | 'roles' | 'minPriority'> | undefined,
  role: AgentRole,
  priority: TaskPriority,
): boolean {
  if (!policy || policy.mode === ToolApprovalMode.NEVER) return false;
  if (policy.mode === ToolApprovalMode.ALWAYS) return true;
  const byRole = policy.roles.includes(role);
  const byPriority = policy.minPriority !== null && RANK[priority] >= RANK[policy.minPriority];
  return byRole || byPriority;
}

export const DECIDED: Record<ToolCallDecision, ToolCallRequestStatus> = {
  APPROVE: ToolCallRequestStatus.APPROVED,
  EDIT: ToolCallRequestStatus.EDITED,
  REJECT: ToolCallRequestStatus.REJECTED,
};
