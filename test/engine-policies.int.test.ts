import neo4j from 'neo4j-driver';
import { describe, expect, it } from 'vitest';
import { candidateAgents, type CandidateAgent } from '../graph/claim.repository.js';
import { AgentRole, AgentStatus } from '../src/domain/agent.js';
import { chooseAgent } from '../src/engine/assignment.js';
import { echoExecutor, StepError, type Executor } from '../src/engine/executor.js';
import { graphql } from './generated/index.js';
import { allFinished, byKey, sweepNow, waitForWorkflow } from './utils/engine.js';
import {
  createOperators,
  eventually,
  inTenant,
  latch,
  sleep,
  startPlan,
  untilAborted,
  withScheduler,
} from './utils/engine-steps.js';
import type { TestServer } from './utils/server.js';

/** How the engine picks agents, what a failed step does to its parent, and approval. */

const SetAgentStatus = graphql(`
  mutation EnginePoliciesSetStatus($id: ID!, $status: AgentStatus!) {
    setAgentStatus(id: $id, status: $status) {
      status
    }
  }
`);

const DeactivateAgent = graphql(`
  mutation EnginePoliciesDeactivate($id: ID!) {
    deactivateAgent(id: $id) {
      active
    }
  }
`);

const Approve = graphql(`
  mutation EnginePoliciesApprove($id: ID!, $comment: String) {
    approveTask(id: $id, comment: $comment) {
      status
    }
  }
`);

const Reject = graphql(`
  mutation EnginePoliciesReject($id: ID!, $reason: String) {
    rejectTask(id: $id, reason: $reason) {
      status
      error
      decision
    }
  }
`);

const ApprovalAudit = graphql(`
  query EnginePoliciesAudit($target: ID!) {
    auditEvents(filter: { operation: "approveTask", targetId: $target }) {
      nodes {
        operation
        outcome
        actor
      }
    }
  }
`);

const Decision = graphql(`
  query EnginePoliciesDecision($id: ID!) {
    task(id: $id) {
      status
      decision
      decidedBy
      decisionComment
    }
  }
`);

/** Sets an agent's record on a capability, as if it had run those steps. */
async function setRecord(server: TestServer, agent: string, runs: number, successes: number) {
  await server.graph.write((tx) =>
    tx.run({
      cypher: `
        MATCH (:Agent {tenantId: $tenantId, name: $agent})-[h:HAS_CAPABILITY]->(:Capability {name: 'analysis'})
        SET h.runs = $runs, h.successes = $successes, h.avgLatencyMs = 1000.0`,
      params: {
        tenantId: server.tenantId,
        agent,
        runs: neo4j.int(runs),
        successes: neo4j.int(successes),
      },
    }),
  );
}

describe('the engine: assignment', () => {
  it('prefers capable, idle, successful agents and records why', async () => {
    await inTenant(async (server) => {
      const ids = await createOperators(server, {
        Expert: ['analysis'],
        Novice: ['analysis'],
        Other: ['cooking'],
        Busy: ['analysis'],
        Sleeper: ['analysis'],
      });
      await setRecord(server, 'Expert', 10, 10);
      await setRecord(server, 'Novice', 5, 1);
      const busy = await server.gql(SetAgentStatus, { id: ids.Busy!, status: 'BUSY' });
      expect(busy.data?.setAgentStatus.status).toBe('BUSY');
      const asleep = await server.gql(DeactivateAgent, { id: ids.Sleeper! });
      expect(asleep.data?.deactivateAgent.active).toBe(false);

      const plan = await startPlan(server, [
        { key: 'root', title: 'Assign' },
        { key: 'analyse', title: 'Analyse', parentKey: 'root', requiredCapabilities: ['analysis'] },
        { key: 'anything', title: 'Anything', parentKey: 'root', dependsOnKeys: ['analyse'] },
      ]);
      await withScheduler(server, echoExecutor(), async () => {
        const k = byKey(await waitForWorkflow(server, plan.root!, allFinished));
        const analyse = k.analyse!.assignment!;
        expect(analyse.agent.name).toBe('Expert');
        expect(analyse.reason).toMatch(
          /^Expert: capabilities 1\/1 \(analysis\), load 0\/4, success 10\/10, 1000 ms avg, IDLE; score 0\.\d{3}$/,
        );
        // Scored now, by the same rules, every other candidate ranks lower (Other: not at all).
        const candidates = await server.graph.read((tx) => candidateAgents(tx, [server.tenantId]));
        const score = (name: string) =>
          chooseAgent(
            ['analysis'],
            candidates.filter((c) => c.agent.name === name),
            4,
            null,
          )?.score;
        expect(candidates.map((c) => c.agent.name).sort()).toEqual([
          'Busy',
          'Expert',
          'Novice',
          'Other',
        ]);
        expect(score('Other')).toBeUndefined();
        expect(analyse.score).toBeGreaterThan(score('Novice')!);
        expect(analyse.score).toBeGreaterThan(score('Busy')!);

        const anything = k.anything!.assignment!;
        expect(['Expert', 'Novice', 'Other']).toContain(anything.agent.name);
        expect(anything.reason).toContain('capabilities 0/0');
        expect(k.anything!.status).toBe('COMPLETED');
        for (const t of Object.values(k)) {
          for (const r of t.runs) expect(['Sleeper', 'Busy']).not.toContain(r.agent?.name);
        }
        expect(k.analyse!.runs.map((r) => r.agent?.name)).toEqual(['Expert']);
      });
    });
  });
});

describe('chooseAgent', () => {
  const candidate = (
    name: string,
    caps: Record<string, [runs: number, successes: number]>,
    { load = 0, status = AgentStatus.IDLE } = {},
  ): CandidateAgent => ({
    agent: {
      id: `id-${name}`,
      tenantId: 't',
      name,
      role: AgentRole.MASTER_OPERATOR,
      status,
    },
    load,
    capabilities: Object.entries(caps).map(([capName, [runs, successes]]) => ({
      name: capName,
      proficiency: 0.5,
      runs,
      successes,
      avgLatencyMs: 1_000,
    })),
  });
  const pick = (reqs: string[], pool: CandidateAgent[], current: string | null = null) =>
    chooseAgent(reqs, pool, 4, current);

  it('takes an agent with every required capability over one with some, whatever its record', () => {
    const pool = [
      candidate('Partial', { a: [50, 50] }),
      candidate('Full', { a: [0, 0], b: [0, 0] }),
    ];
    expect(pick(['a', 'b'], pool)?.agentId).toBe('id-Full');
  });

  it('among equally capable agents, prefers the better record, then idle, then less loaded', () => {
    expect(
      pick(['a'], [candidate('Poor', { a: [10, 1] }), candidate('Good', { a: [10, 9] })]),
    ).toMatchObject({
      agentId: 'id-Good',
      reason: expect.stringContaining('success 9/10'),
    });
    const busy = candidate('Busy', { a: [5, 5] }, { status: AgentStatus.BUSY });
    expect(pick(['a'], [busy, candidate('Idle', { a: [5, 5] })])?.agentId).toBe('id-Idle');
    const loaded = candidate('Loaded', { a: [5, 5] }, { load: 2 });
    expect(pick(['a'], [loaded, candidate('Free', { a: [5, 5] })])).toMatchObject({
      agentId: 'id-Free',
      reason: expect.stringContaining('load 0/4'),
    });
  });

  it('never picks an agent at its limit or lacking every capability; null when nobody fits', () => {
    const full = candidate('Full', { a: [9, 9] }, { load: 4 });
    expect(pick(['a'], [full, candidate('Spare', { a: [0, 0] })])?.agentId).toBe('id-Spare');
    expect(pick(['a'], [full])).toBeNull();
    expect(pick(['a'], [candidate('Cook', { cooking: [9, 9] })])).toBeNull();
    // Without a full match, the best partial one; the agent with none is still out.
    const partial = pick(
      ['a', 'b'],
      [candidate('Cook', { c: [9, 9] }), candidate('Half', { a: [1, 1] })],
    );
    expect(partial).toMatchObject({
      agentId: 'id-Half',
      reason: expect.stringContaining('capabilities 1/2'),
    });
  });

  it('lets a still-eligible assignee keep the step, breaks ties by id, and takes anyone with no requirements', () => {
    const pool = [candidate('Best', { a: [10, 10] }), candidate('Mine', { a: [10, 2] })];
    expect(pick(['a'], pool, 'id-Mine')).toMatchObject({
      agentId: 'id-Mine',
      reason: expect.stringMatching(/^kept assignee; Mine: /),
    });
    expect(
      pick(['a'], [candidate('Zed', { a: [1, 1] }), candidate('Amy', { a: [1, 1] })])?.agentId,
    ).toBe('id-Amy');
    expect(pick([], [candidate('Cook', { cooking: [0, 0] })])).toMatchObject({
      agentId: 'id-Cook',
      reason: expect.stringContaining('capabilities 0/0'),
    });
  });
});

describe('the engine: parent failure policies', () => {
  it('FAIL_FAST: a permanent failure cancels the running and pending siblings and fails the parent at once', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Worker: [], Helper: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Fail fast' },
        { key: 'slow1', title: 'Slow 1', parentKey: 'root' },
        { key: 'slow2', title: 'Slow 2', parentKey: 'root' },
        { key: 'bad', title: 'Bad', parentKey: 'root' },
        { key: 'later', title: 'Later', parentKey: 'root', dependsOnKeys: ['slow1'] },
      ]);
      const started = new Set<string>();
      const aborted = new Map<string, boolean>();
      const executor: Executor = async ({ task, signal }) => {
        started.add(task.key!);
        if (task.key === 'bad') {
          await eventually(
            'the slow steps to run',
            () => started.has('slow1') && started.has('slow2'),
          );
          throw new Error('the data is corrupt');
        }
        signal.addEventListener('abort', () => aborted.set(task.key!, signal.aborted));
        return untilAborted(signal);
      };
      await withScheduler(server, executor, async () => {
        const k = byKey(await waitForWorkflow(server, ids.root!, allFinished));
        expect(k.root).toMatchObject({ status: 'FAILED', error: 'step "Bad" failed' });
        expect(k.bad).toMatchObject({ status: 'FAILED', error: 'the data is corrupt' });
        for (const key of ['slow1', 'slow2']) {
          expect(k[key]).toMatchObject({
            status: 'CANCELLED',
            error: 'cancelled: step "Bad" failed',
          });
          expect(k[key]!.runs.map((r) => r.status)).toEqual(['CANCELLED']);
        }
        expect(k.later).toMatchObject({ status: 'CANCELLED', runs: [] });
        await eventually('both aborts', () => aborted.size === 2);
        expect(Object.fromEntries(aborted)).toEqual({ slow1: true, slow2: true });
      });
    });
  });

  it('CONTINUE: the other branches complete, then the parent fails with the count', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Worker: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Carry on', failurePolicy: 'CONTINUE' },
        { key: 'a', title: 'A', parentKey: 'root' },
        { key: 'b', title: 'B', parentKey: 'root' },
        { key: 'bad', title: 'Bad', parentKey: 'root' },
      ]);
      const release = latch();
      const executor: Executor = async ({ task, signal }) => {
        if (task.key === 'bad') throw new StepError('not fixable', false);
        await Promise.race([release.opened, untilAborted(signal)]);
        return { result: `${task.key} done` };
      };
      await withScheduler(server, executor, async () => {
        const during = byKey(
          await waitForWorkflow(server, ids.root!, (tasks) =>
            tasks.some((t) => t.key === 'bad' && t.status === 'FAILED'),
          ),
        );
        expect(during.root!.status).toBe('IN_PROGRESS');
        await sweepNow(server); // a sweep settles every parent it can settle: not this one
        // The other branches go on (claimed, not cancelled): they may be claimed after the
        // failure on a loaded machine, so wait for them rather than assume it happened first.
        const still = byKey(
          await waitForWorkflow(server, ids.root!, (tasks) =>
            tasks.filter((t) => t.key === 'a' || t.key === 'b').every((t) => t.status !== 'READY'),
          ),
        );
        expect([still.root, still.a, still.b].map((t) => t!.status)).toEqual([
          'IN_PROGRESS',
          'IN_PROGRESS',
          'IN_PROGRESS',
        ]);

        release.open();
        const k = byKey(await waitForWorkflow(server, ids.root!, allFinished));
        expect([k.a, k.b].map((t) => t!.status)).toEqual(['COMPLETED', 'COMPLETED']);
        expect(k.root).toMatchObject({ status: 'FAILED', error: '1 of 3 steps failed' });
      });
    });
  });
});

describe('the engine: approval', () => {
  it('holds steps for approval; approve runs one, reject skips one and its dependants', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Worker: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Release' },
        { key: 'gate', title: 'Deploy', parentKey: 'root', requiresApproval: true },
        { key: 'veto', title: 'Announce', parentKey: 'root', requiresApproval: true },
        { key: 'afterVeto', title: 'Tweet', parentKey: 'root', dependsOnKeys: ['veto'] },
        { key: 'join', title: 'Report', parentKey: 'root', dependsOnKeys: ['gate', 'veto'] },
      ]);
      const ran: string[] = [];
      const executor: Executor = async ({ task }) => {
        ran.push(task.key!);
        return { result: `${task.key} done` };
      };
      await withScheduler(server, executor, async () => {
        await waitForWorkflow(
          server,
          ids.root!,
          (tasks) => tasks.filter((t) => t.status === 'AWAITING_APPROVAL').length === 2,
        );
        await sleep(300);
        expect(ran).toEqual([]);

        const approved = await server.gql(Approve, { id: ids.gate!, comment: 'looks good' });
        expect(approved.errors).toBeUndefined();
        expect(approved.data!.approveTask.status).toBe('READY');
        const rejected = await server.gql(Reject, { id: ids.veto!, reason: 'too risky' });
        expect(rejected.data!.rejectTask).toEqual({
          status: 'SKIPPED',
          error: 'rejected by test admin: too risky',
          decision: 'REJECTED',
        });

        const k = byKey(await waitForWorkflow(server, ids.root!, allFinished));
        expect(ran.sort()).toEqual(['gate', 'join']);
        expect(k.gate).toMatchObject({ status: 'COMPLETED', result: 'gate done' });
        expect(k.gate!.runs).toHaveLength(1);
        expect(k.afterVeto).toMatchObject({
          status: 'SKIPPED',
          error: 'every dependency was skipped',
        });
        expect(k.join!.status).toBe('COMPLETED');
        expect(k.root!.status).toBe('COMPLETED');

        const gate = await server.gql(Decision, { id: ids.gate! });
        expect(gate.data!.task).toMatchObject({
          decision: 'APPROVED',
          decidedBy: 'test admin',
          decisionComment: 'looks good',
        });
        const veto = await server.gql(Decision, { id: ids.veto! });
        expect(veto.data!.task).toMatchObject({
          status: 'SKIPPED',
          decision: 'REJECTED',
          decidedBy: 'test admin',
          decisionComment: 'too risky',
        });
        const audit = await server.gql(ApprovalAudit, { target: ids.gate! });
        expect(audit.data!.auditEvents.nodes).toEqual([
          { operation: 'approveTask', outcome: 'SUCCESS', actor: 'test admin' },
        ]);

        // Decided already (or ended): a conflict with the task's state, as approvePlan's and
        // resolveToolCall's are, not a bad input.
        const late = await server.gql(Approve, { id: ids.gate! });
        expect(late.errors?.[0]?.extensions?.code).toBe('CONFLICT');
        expect(late.errors?.[0]?.message).toBe(
          'Only a task AWAITING_APPROVAL can be approved or rejected, but this one is COMPLETED',
        );
      });
    });
  });
});
