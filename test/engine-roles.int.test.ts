import { describe, expect, it } from 'vitest';
import { claimReadyTasks } from '../graph/claim.repository.js';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { echoExecutor } from '../src/engine/executor.js';
import { allFinished, byKey, sweepNow, waitForWorkflow, waitForWorkflows } from './utils/engine.js';
import {
  createOperators,
  createPlan,
  eventually,
  inTenant,
  startWorkflow,
  withScheduler,
} from './utils/engine-steps.js';
import { captureLogger } from './utils/log-capture.js';
import type { TestServer } from './utils/server.js';

/** Who runs what (issue 10): Chiefs of Staff plan and answer, running parents are nobody's step. */

/** How long ten offline workflows may go without any step moving (slow is allowed, stalled is not). */
const STALL_MS = 60_000;
/** The backstop: two copies of the suite on 2 cores made these ten workflows take 160 s. */
const WORKFLOWS_MS = 400_000;

const rows = <T extends Record<string, unknown>>(
  server: TestServer,
  cypher: string,
  params: Record<string, unknown> = {},
) =>
  server.graph.read((tx) =>
    tx.run<T>({ cypher, params: { tenantId: server.tenantId, ...params } }),
  );

const statusOf = async (server: TestServer, id: string) =>
  (
    await rows<{ s: string }>(
      server,
      'MATCH (t:Task {tenantId: $tenantId, id: $id}) RETURN t.status AS s',
      { id },
    )
  )[0]!.s;

describe('who runs what', { timeout: WORKFLOWS_MS + 30_000 }, () => {
  it('Master Operators never plan or write answers: 10 concurrent submitTask to one Chief of Staff with three operators', async () => {
    await inTenant(async (server) => {
      const made = await server.gql(`mutation { createAgents(inputs: [
        { name: "Chief", role: CHIEF_OF_STAFF },
        { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
        { name: "Analyst", role: MASTER_OPERATOR, capabilities: [{ name: "analysis" }] },
        { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
      ]) { id } }`);
      expect(made.errors).toBeUndefined();
      const log = captureLogger('warn');
      const runtime = createAgentRuntime({
        uow: server.services.uow,
        llm: loadConfig({}).llm,
        logger: log.logger,
        pubsub: server.pubsub,
      });
      await withScheduler(
        server,
        agentExecutor(runtime),
        async () => {
          const submitted = await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              server.gql(
                `mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`,
                {
                  input: {
                    title: `Brief ${i}`,
                    description:
                      'Research the market size for electric bikes in Europe. Then check the growth figures with the analyst. Then write a one-page brief.',
                  },
                } as never,
              ),
            ),
          );
          for (const s of submitted) expect(s.errors).toBeUndefined();
          const roots = submitted.map(
            (s) => (s.data as { submitTask: { id: string } }).submitTask.id,
          );
          // A stall says what the scheduler logged (a failing tick, a quarantined row).
          const settled = await waitForWorkflows(server, roots, allFinished, STALL_MS).catch(
            (err: Error) => {
              const warnings = log.entries.filter((e) => e.level >= 40);
              throw new Error(`${err.message}; scheduler warnings: ${JSON.stringify(warnings)}`);
            },
          );
          for (const tasks of settled) {
            expect(tasks.map((t) => [t.key ?? 'root', t.status])).toEqual(
              tasks.map((t) => [t.key ?? 'root', 'COMPLETED']),
            );
          }
          // Who ran each attempt of each plan and each synthesis (Run-[:BY]->Agent).
          const runs = await rows<{ key: string | null; root: boolean; agent: string }>(
            server,
            `MATCH (t:Task {tenantId: $tenantId})<-[:OF]-(r:Run)-[:BY]->(a:Agent)
             WHERE t.id IN $roots OR (t.key = 'synthesis' AND EXISTS { (t)-[:SUBTASK_OF]->(p:Task) WHERE p.id IN $roots })
             RETURN t.key AS key, t.id IN $roots AS root, a.name AS agent`,
            { roots },
          );
          expect(runs.filter((r) => r.root).length).toBeGreaterThanOrEqual(10);
          expect(runs.filter((r) => r.key === 'synthesis').length).toBeGreaterThanOrEqual(10);
          expect(runs.filter((r) => r.agent !== 'Chief')).toEqual([]);
          // And the operators did the work in between.
          const stepAgents = await rows<{ agent: string }>(
            server,
            `MATCH (p:Task)<-[:SUBTASK_OF]-(t:Task)<-[:OF]-(:Run)-[:BY]->(a:Agent)
             WHERE p.id IN $roots AND t.key <> 'synthesis' RETURN DISTINCT a.name AS agent`,
            { roots },
          );
          expect(stepAgents.map((r) => r.agent)).not.toContain('Chief');
        },
        { concurrency: 8, stepTimeoutMs: 60_000, leaseMs: 10_000, logger: log.logger },
      );
    });
  });

  it('pausing the agent of a running parent leaves the parent running: only its steps run', async () => {
    await inTenant(async (server) => {
      const agents = await createOperators(server, { Keeper: [], Doer: [] });
      const ids = await createPlan(server, [
        { key: 'root', title: 'Parent' },
        { key: 'a', title: 'Step A', parentKey: 'root' },
      ]);
      const assigned = await server.gql(
        `mutation($id: ID!, $agent: ID!) { assignTask(id: $id, agentId: $agent) { id } }`,
        { id: ids.root, agent: agents.Keeper } as never,
      );
      expect(assigned.errors).toBeUndefined();
      await startWorkflow(server, ids.root!);
      await sweepNow(server); // the root becomes a running parent, its step READY
      expect(await statusOf(server, ids.root!)).toBe('IN_PROGRESS');
      expect(await statusOf(server, ids.a!)).toBe('READY');

      const paused = await server.gql(
        `mutation($id: ID!) { setAgentStatus(id: $id, status: PAUSED) { status } }`,
        { id: agents.Keeper } as never,
      );
      expect(paused.errors).toBeUndefined();
      expect(await statusOf(server, ids.root!)).toBe('IN_PROGRESS');

      // A lease no loaded machine outlives: a 2 s one expired mid-step and ran it twice.
      const lease = { leaseMs: 60_000 };
      await withScheduler(
        server,
        echoExecutor(),
        async () => {
          const k = byKey(await waitForWorkflow(server, ids.root!, allFinished));
          expect(k.root!.status).toBe('COMPLETED');
          expect(k.root!.runs).toEqual([]); // it never ran as a step
          expect(JSON.parse(k.root!.result!)).toMatchObject({ a: { step: 'a' } });
          expect(k.a!.runs.map((r) => r.agent?.name)).toEqual(['Doer']);
        },
        lease,
      );
    });
  });

  it('never claims a task that has steps, except a submitted task whose planning has to run again', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Doer: [] });
      const plain = await createPlan(server, [
        { key: 'root', title: 'Parent' },
        { key: 'a', title: 'Step A', parentKey: 'root' },
      ]);
      const planned = await createPlan(server, [
        { key: 'root', title: 'Planned' },
        { key: 'b', title: 'Step B', parentKey: 'root' },
      ]);
      await startWorkflow(server, plain.root!);
      await startWorkflow(server, planned.root!);
      // A parent left READY (as pausing its agent used to leave it), and a root whose planning
      // worker died after writing the plan (its lease expired: READY with steps, needsPlan).
      await server.graph.write((tx) =>
        tx.run({
          cypher: `MATCH (t:Task {tenantId: $tenantId}) WHERE t.id IN $roots
                   SET t.status = 'READY', t.needsPlan = (t.id = $planned)`,
          params: {
            tenantId: server.tenantId,
            roots: [plain.root, planned.root],
            planned: planned.root,
          },
        }),
      );
      const claimed = await server.graph.write((tx) =>
        claimReadyTasks(tx, 'test-claimer', 10, 60_000, [server.tenantId]),
      );
      expect(claimed.map((c) => c.task.id)).toEqual([planned.root]);
      expect(await statusOf(server, plain.root!)).toBe('READY');
    });
  });

  it('says on the task why a step waits when no agent can take it (waitingReason)', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Cook: ['cooking'] });
      const plan = await createPlan(server, [
        { key: 'root', title: 'Weld' },
        { key: 'weld', title: 'Weld it', parentKey: 'root', requiredCapabilities: ['welding'] },
      ]);
      await withScheduler(server, echoExecutor(), async () => {
        await startWorkflow(server, plan.root!);
        const waiting = await eventually('a waiting reason', async () => {
          const res = await server.gql(
            `query($id: ID!) { task(id: $id) { status waitingReason } }`,
            {
              id: plan.weld,
            } as never,
          );
          const task = (res.data as { task: { status: string; waitingReason: string | null } })
            .task;
          return task.waitingReason ? task : null;
        });
        expect(waiting).toEqual({
          status: 'READY',
          waitingReason: expect.stringContaining('welding'),
        });
      });
    });
  });
});
