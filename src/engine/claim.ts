/**
 * Claiming: take READY steps under a lease (within the global limit), choose an agent for each
 * (assignment.ts), give back what no agent can take, and record the attempts as :Run nodes, all
 * in one transaction.
 */
import { traceIdOf } from '../tracing/tracer.js';
import { randomUUID } from 'node:crypto';
import {
  anyClaimable,
  candidateAgents,
  claimReadyTasks,
  countRunning,
  lockEngineLimit,
  unclaim,
  undoStarts,
  type DispatchedStep,
} from '../../graph/claim.repository.js';
import { startRuns, type RunStart } from '../../graph/run.repository.js';
import { useVersions } from '../../graph/used-version.repository.js';
import { withVersion } from '../domain/agent-version.js';
import { announce } from '../evolution/versions/lifecycle.js';
import type { Agent } from '../domain/agent.js';
import type { Task } from '../domain/task.js';
import { emitTaskEvents } from '../services/task-events.js';
import { agentsWanted, chooseAgent, needsChiefOfStaff, waitingReason } from './assignment.js';
import type { EngineContext } from './context.js';
import type { Tx } from '../../graph/cypher.js';
import type { Emit } from '../services/unit-of-work.js';
import { inputsOf } from './decisions.js';

/** A step claimed and assigned: the executor runs it next. */
export interface StartedStep {
  task: Task;
  /** The worker whose lease it runs under, which runs it. */
  workerId: string;
  agent: Agent;
  runId: string;
  inputs: ReturnType<typeof inputsOf>;
  /** What the step's memory episode names, read with the claim (not again when it ends). */
  rootId: string;
  capabilities: { name: string; proficiency: number }[];
  /** What the step requires (its first capability; `planning` or `any` without one). */
  capability: string;
  /** Every capability the step requires, by name. */
  requirements: string[];
  /** How long it waited claimable before this claim (metrics). */
  waitedMs: number | null;
  /** The trace its span continues: the request that started the workflow (issue 17). */
  traceparent: string | null;
}

export interface ClaimLimits {
  /** Steps running at once across all workers (10 000 or more: no limit, no count). */
  globalLimit: number;
  /** Steps one agent runs at once, across all workers. */
  perAgentLimit: number;
  leaseMs: number;
  /** A step no agent can take waits four polls before it is claimed again. */
  pollMs: number;
}

/**
 * Claims up to `limit` steps (the queue's head, or the `dispatched` ones) and starts their runs;
 * returns what to execute. Looks at the queue with a read first: a claim that takes nothing
 * still costs a write transaction (test/engine-round-trips).
 */
export async function claimSteps(
  ctx: EngineContext,
  limit: number,
  o: ClaimLimits,
  dispatched?: readonly DispatchedStep[],
): Promise<StartedStep[]> {
  if (!dispatched && !(await ctx.uow.read((tx) => anyClaimable(tx, ctx.tenantIds)))) return [];
  const slots = Array<string>(limit).fill(ctx.workerId);
  return ctx.write((tx, emit) => claimIn(tx, emit, ctx, slots, o, dispatched));
}

/**
 * The claim itself, in the caller's transaction: a scheduler's own claim, or steps' ends
 * taking the queue's head for the slots they free (hand-off.ts; `spread` as claimReadyTasks').
 * `slots` holds the worker of each free slot: a claim takes at most one step for each.
 */
export async function claimIn(
  tx: Tx,
  emit: Emit,
  ctx: Pick<EngineContext, 'tenantIds' | 'queue'>,
  slots: readonly string[],
  o: ClaimLimits,
  dispatched?: readonly DispatchedStep[],
  spread?: number,
): Promise<StartedStep[]> {
  // Counting running steps is a scan; only a finite global limit needs it. Claims under
  // such a limit take one shared lock first, so two workers cannot both count the same
  // free room and each fill it.
  let running = 0;
  if (o.globalLimit < 10_000) {
    await lockEngineLimit(tx);
    running = await countRunning(tx, ctx.tenantIds);
  }
  const room = Math.min(slots.length, o.globalLimit - running);
  if (room <= 0) return [];
  const claimed = await claimReadyTasks(
    tx,
    slots.slice(0, room),
    room,
    o.leaseMs,
    ctx.tenantIds,
    dispatched,
    spread,
    ctx.queue,
  );
  if (claimed.length === 0) return [];
  const tenants = [...new Set(claimed.map((c) => c.task.tenantId))];
  const candidates = await candidateAgents(tx, tenants, agentsWanted(claimed));
  // The load read above already counts the steps this claim just took (IN_PROGRESS under this
  // worker's lease) against the agents they were assigned to; without taking them back off,
  // a claim of more pre-assigned steps than an agent's limit found it full, gave every step
  // back, and did the same on every poll (ten submitTask to one Chief of Staff never planned).
  for (const c of claimed) {
    const assignee = candidates.find((a) => a.agent.id === c.assigneeId);
    if (assignee) assignee.load--;
  }
  const picked: Omit<StartedStep, 'agent'>[] = [];
  const starts: RunStart[] = [];
  for (const c of claimed) {
    const pool = candidates.filter((a) => a.agent.tenantId === c.task.tenantId);
    const rule = { chiefOfStaff: needsChiefOfStaff(c.task) };
    const args = [c.requirements, pool, o.perAgentLimit, c.assigneeId, rule] as const;
    const choice = chooseAgent(...args);
    if (!choice) {
      const reason = waitingReason(...args);
      await unclaim(tx, c.task.id, c.workerId, reason, o.pollMs * 4);
      continue;
    }
    const runId = randomUUID();
    const traceId = traceIdOf(c.traceparent);
    starts.push({ id: runId, taskId: c.task.id, workerId: c.workerId, traceId, ...choice });
    const chosen = pool.find((a) => a.agent.id === choice.agentId)!;
    chosen.load++;
    picked.push({
      task: c.task,
      workerId: c.workerId,
      runId,
      inputs: inputsOf(c.dependencies),
      rootId: c.rootId,
      capabilities: [...chosen.capabilities].sort((x, y) => x.name.localeCompare(y.name)),
      capability: c.requirements[0] ?? (c.task.needsPlan ? 'planning' : 'any'),
      requirements: c.requirements,
      waitedMs: c.waitedMs,
      traceparent: c.traceparent,
    });
  }
  // The chosen agents, read whole by the statement that starts their runs, and which agent
  // version each run uses (issue 12): the live one or, for a canary share of runs (by run id),
  // the candidate; the executor sees the agent with that version's behaviour. Agents without a
  // live version yet (made before versions began) get one here.
  const started = await startRuns(tx, starts);
  // Deleted since the summaries were read: the claim rolls back and the next poll, which no
  // longer sees the agent, claims the steps again.
  const gone = picked.find((p) => !started.has(p.runId));
  if (gone) throw new Error(`agent of run ${gone.runId} is gone; claiming again`);
  // Deactivated or paused since (its work given back before this run began): the step is
  // given back too, for the next poll to choose among the agents then available.
  const unavailable = picked.filter((p) => !started.get(p.runId)!.available);
  await undoStarts(
    tx,
    unavailable.map((p) => ({
      runId: p.runId,
      taskId: p.task.id,
      workerId: p.workerId,
      reason: `agent ${started.get(p.runId)!.agent.name} became unavailable as the step was given to it`,
    })),
    o.pollMs,
  );
  const begun = new Set(picked.filter((p) => !unavailable.includes(p)).map((p) => p.runId));
  const versions = await useVersions(
    tx,
    starts.flatMap((r, i) =>
      begun.has(r.id) && started.get(r.id)!.version === null
        ? [{ runId: r.id, agentId: r.agentId, tenantId: picked[i]!.task.tenantId }]
        : [],
    ),
  );
  const runs: StartedStep[] = picked
    .filter((p) => begun.has(p.runId))
    .map((p) => {
      const run = started.get(p.runId)!;
      const version = run.version ?? versions.byRun.get(p.runId);
      return { ...p, agent: withVersion(run.agent, version) };
    });
  for (const v of versions.created) announce(emit, v, null, v.reason);
  // Numbered by the statement that started the runs: nothing changes the steps after it.
  emitTaskEvents(
    emit,
    runs.map((r) => started.get(r.runId)!.event),
    'STARTED',
  );
  return runs;
}
