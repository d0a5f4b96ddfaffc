import * as repo from '../../graph/tool-approval.repository.js';
import type { Tx } from '../../graph/cypher.js';
import { holdToolServerByName, toolServers } from '../../graph/tool-server.repository.js';
import { TOOL_ARGS } from '../agents/tools.js';
import { mcpToolName, toolNamesProblem } from '../domain/tool-server.js';
import { argsProblem } from '../mcp-client/args.js';
import type { AgentRole } from '../domain/agent.js';
import { BadInputError, ConflictError, NotFoundError } from '../domain/errors.js';
import { isFinished, type Task, type TaskPriority } from '../domain/task.js';
import { rejectionReason } from '../domain/validate.js';
import {
  DECIDED,
  ToolApprovalMode,
  ToolCallDecision,
  ToolCallRequestStatus,
  type ToolCallRequest,
  type ToolPolicy,
} from '../domain/tool-approval.js';
import { publishTasks } from './task-events.js';
import type { UnitOfWork } from './unit-of-work.js';

const TOOL_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const MAX_ARGS_CHARS = 20_000;

/**
 * Tool-call approval for people (issue 13): a tenant's policies per tool (ADMIN), and the
 * decisions on calls that wait (OPERATOR). A decision applies to the one call it names (run and
 * call id); the step resumes from its checkpoint once none of its calls waits.
 */
export class ToolApprovalService {
  constructor(private readonly uow: UnitOfWork) {}

  policies(tenantId: string): Promise<ToolPolicy[]> {
    return this.uow.read((tx) => repo.toolPolicies(tx, tenantId));
  }

  /** Sets the policy of one tool; BAD_USER_INPUT says what is wrong with it. */
  async setPolicy(
    tenantId: string,
    p: {
      tool: string;
      mode: ToolApprovalMode;
      roles?: AgentRole[] | null;
      minPriority?: TaskPriority | null;
    },
    actor: string,
  ): Promise<ToolPolicy> {
    if (!TOOL_NAME.test(p.tool))
      throw new BadInputError(
        'tool must be a tool name of 1 to 100 letters, digits, "_", "." or "-" (e.g. record_knowledge)',
        { tool: p.tool },
      );
    // A typo would hold nothing, silently: a policy names a built-in or a listed outside tool.
    if (!p.tool.includes('__') && !Object.hasOwn(TOOL_ARGS, p.tool))
      throw new BadInputError(
        `no tool is called ${p.tool}: the built-in tools are ${Object.keys(TOOL_ARGS).join(', ')}, and an outside tool is named server__tool (e.g. docs__search)`,
        { tool: p.tool },
      );
    const roles = [...new Set(p.roles ?? [])];
    const minPriority = p.minPriority ?? null;
    if (p.mode === ToolApprovalMode.WHEN && roles.length === 0 && minPriority === null)
      throw new BadInputError(
        'mode WHEN needs roles (the agents whose calls wait) or minPriority (tasks at or above it wait), or both',
      );
    if (p.mode !== ToolApprovalMode.WHEN && (roles.length > 0 || minPriority !== null))
      throw new BadInputError(
        `roles and minPriority apply to mode WHEN only; mode ${p.mode} ${p.mode === ToolApprovalMode.ALWAYS ? 'holds every call' : 'holds none'}`,
      );
    return this.uow.run(async (tx) => {
      if (p.tool.includes('__')) await checkOutsideTool(tx, tenantId, p.tool);
      return repo.putToolPolicy(tx, {
        tenantId,
        tool: p.tool,
        mode: p.mode,
        roles,
        minPriority,
        updatedBy: actor,
      });
    });
  }

  /** Removes a tool's policy (its calls no longer wait); false when it had none. */
  removePolicy(tenantId: string, tool: string): Promise<boolean> {
    return this.uow.run((tx) => repo.deleteToolPolicy(tx, tenantId, tool));
  }

  /**
   * Decides one waiting call. EDIT needs `args` (a JSON object valid for the tool); APPROVE and
   * REJECT take none. Any may give a `reason` (the rule of every rejection's, rejectionReason),
   * kept on the request; a REJECT's is what the step's agent reads as the call's result.
   * NOT_FOUND when the run has no such call for the tenant; CONFLICT when it was decided
   * already or its step no longer waits for it (cancelled, ended).
   */
  async resolve(
    tenantId: string,
    d: {
      runId: string;
      callId: string;
      decision: ToolCallDecision;
      args?: string | null;
      reason?: string | null;
    },
    actor: string,
  ): Promise<ToolCallRequest> {
    // One rule for every decision's reason; only REJECT's reaches the agent (MCP's approve
    // records its comment here).
    const reason = rejectionReason(d.reason, false);
    return this.uow.run(async (tx, emit) => {
      const found = await repo.requestOfRun(tx, tenantId, d.runId, d.callId);
      if (!found)
        // The task's toolCallRequests give both ids.
        throw new NotFoundError('Tool call', `${d.callId} of run ${d.runId}`);
      // Only an edit's args are checked against an outside tool's schema.
      const outside =
        d.decision === ToolCallDecision.EDIT
          ? await outsideToolSchema(tx, tenantId, found.request.tool)
          : null;
      const editedArgs = checkArgs(found.request.tool, d.decision, d.args, outside);
      const decided = await repo.decideRequest(tx, {
        tenantId,
        id: found.request.id,
        status: DECIDED[d.decision],
        editedArgs,
        reason,
        by: actor,
      });
      if (!decided) throw new NotFoundError('Tool call', `${d.callId} of run ${d.runId}`);
      if (!decided.decided) {
        // As read under the lock: the decision that won, not the PENDING read before it.
        const r = decided.request;
        if (r.status === ToolCallRequestStatus.PENDING)
          throw stepNotWaiting(d.callId, decided.task);
        throw new ConflictError(
          `Tool call ${d.callId} was already decided: ${r.status}${r.decidedBy ? ` by ${r.decidedBy}` : ''}${r.decidedAt ? ` at ${r.decidedAt}` : ''}`,
          { status: r.status },
        );
      }
      await publishTasks(
        tx,
        emit,
        [decided.task],
        decided.resumed ? 'STATUS_CHANGED' : 'TOOL_CALL_DECIDED',
      );
      return decided.request;
    });
  }
}

/** A PENDING call of a step that no longer waits for it: nothing would apply the decision. */
function stepNotWaiting(callId: string, step: Task): ConflictError {
  const why = isFinished(step.status)
    ? `its step has ended (${step.status}), so no run waits for it`
    : `its step is ${step.status}, not AWAITING_INPUT; decide it once the step waits for it`;
  return new ConflictError(`Tool call ${callId} cannot be decided: ${why}`, {
    status: ToolCallRequestStatus.PENDING,
    taskStatus: step.status,
  });
}

/**
 * Refuses a policy for `tool` (server__tool) unless a server of the tenant lists it and agents
 * can use it: a policy set ahead of its server, or for a tool not listed, would match nothing.
 * A server's name holds no "__", so the first one ends it.
 */
async function checkOutsideTool(tx: Tx, tenantId: string, tool: string): Promise<void> {
  const at = tool.indexOf('__');
  const name = tool.slice(0, at);
  // Under its lock, which removeToolServer takes: a policy never outlives its server.
  const server = await holdToolServerByName(tx, tenantId, name);
  if (!server) {
    const names = (await toolServers(tx, tenantId)).map((s) => s.name).join(', ');
    throw new BadInputError(
      `no tool server is called ${name}; the tool servers are ${names || 'none yet'} ` +
        '(addToolServer adds one)',
      { tool },
    );
  }
  const problem = toolNamesProblem(server, [tool.slice(at + 2)]);
  if (problem) throw new BadInputError(problem.message, { tool });
}

/** The input schema of the tenant's outside tool the model calls `tool` (server__tool), if any. */
async function outsideToolSchema(
  tx: Tx,
  tenantId: string,
  tool: string,
): Promise<Record<string, unknown> | null> {
  if (!tool.includes('__')) return null;
  for (const server of await toolServers(tx, tenantId))
    for (const t of server.tools)
      if (mcpToolName(server.name, t.name) === tool) return t.inputSchema;
  return null;
}

/**
 * The edited arguments as JSON, checked against the tool's arguments: a built-in's, or the input
 * schema an outside tool's server listed (`outside`).
 */
function checkArgs(
  tool: string,
  decision: ToolCallDecision,
  args?: string | null,
  outside?: Record<string, unknown> | null,
): string | null {
  if (decision !== ToolCallDecision.EDIT) {
    if (args != null) throw new BadInputError(`args go with decision EDIT only, not ${decision}`);
    return null;
  }
  if (args == null)
    throw new BadInputError(
      'decision EDIT needs args: the arguments to run the call with, as a JSON object',
    );
  if (args.length > MAX_ARGS_CHARS)
    throw new BadInputError(`args must be at most ${MAX_ARGS_CHARS} characters of JSON`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw new BadInputError('args must be a JSON object, e.g. {"note": "..."}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new BadInputError('args must be a JSON object, e.g. {"note": "..."}');
  const schema = (TOOL_ARGS as Record<string, (typeof TOOL_ARGS)[keyof typeof TOOL_ARGS]>)[tool];
  const checked = schema?.safeParse(parsed);
  if (checked && !checked.success) {
    const issue = checked.error.issues[0]!;
    throw new BadInputError(
      `args do not fit ${tool}: ${issue.path.join('.') || '(the object)'}: ${issue.message}`,
      { tool },
    );
  }
  const problem = outside ? argsProblem(outside, parsed) : null;
  if (problem) throw new BadInputError(`args do not fit ${tool}: ${problem}`, { tool });
  return JSON.stringify(checked?.success ? checked.data : parsed);
}
