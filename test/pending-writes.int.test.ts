import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Tx } from '../graph/cypher.js';
import { statementName } from '../graph/statement-name.js';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import type { Executor, StepContext } from '../src/engine/executor.js';
import { type Emit, UnitOfWork } from '../src/services/unit-of-work.js';
import { startScheduler, sweepNow, waitForWorkflow } from './utils/engine.js';
import { eventually, latch, untilAborted } from './utils/engine-steps.js';
import { startTestServer, type TestServer } from './utils/server.js';

// Issue 10, section 3: what a step produces for the graph (plan, subtasks, messages, knowledge,
// tools' effects) commits in the transaction that records its outcome, under its lease; an
// aborted or superseded attempt commits nothing. The agent chains on the offline model.

const WORKFLOW_MS = 60_000;

/** A unit of work that remembers the statements of each transaction it committed. */
class RecordingUnitOfWork extends UnitOfWork {
  readonly transactions: string[][] = [];
  override run<T>(work: (tx: Tx, emit: Emit) => Promise<T>): Promise<T> {
    return super.run(async (tx, emit) => {
      const statements: string[] = [];
      const recording: Tx = {
        run: (q) => {
          statements.push(q.cypher);
          return tx.run(q);
        },
      };
      const value = await work(recording, emit);
      this.transactions.push(statements);
      return value;
    });
  }
}

/** Runs the agent executor, then, for the steps `which` picks, waits for `go` or an abort. */
function holdAfter(inner: Executor, which: (step: StepContext) => boolean) {
  const held = latch();
  const go = latch();
  const executor: Executor = async (step) => {
    const out = await inner(step);
    if (which(step)) {
      held.open();
      await Promise.race([go.opened, untilAborted(step.signal)]);
    }
    return out;
  };
  return { executor, held: held.opened, go: go.open };
}

const planning = (s: StepContext) => !!s.task.needsPlan;
const execution = (s: StepContext) => !s.task.needsPlan && s.task.key !== 'synthesis';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
  const res = await server.gql(`mutation { createAgents(inputs: [
    { name: "Chief", role: CHIEF_OF_STAFF },
    { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
    { name: "Analyst", role: MASTER_OPERATOR, capabilities: [{ name: "analysis" }] },
    { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
  ]) { id } }`);
  expect(res.errors).toBeUndefined();
});
afterEach(() => server.stop());

const agents = (uow: UnitOfWork = server.services.uow) =>
  agentExecutor(createAgentRuntime({ uow, llm: loadConfig({}).llm, logger: server.logger }));

async function submit(): Promise<string> {
  const res = await server.gql(
    `mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`,
    {
      input: {
        title: 'Electric bike market brief',
        description:
          'Research the market size for electric bikes in Europe. Then check the growth figures with the analyst. Then write a one-page brief.',
      },
    } as never,
  );
  expect(res.errors).toBeUndefined();
  return (res.data as { submitTask: { id: string } }).submitTask.id;
}

async function cancel(id: string): Promise<void> {
  const res = await server.gql(`mutation($id: ID!) { cancelTask(id: $id) { status } }`, {
    id,
  } as never);
  expect(res.errors).toBeUndefined();
}

const count = async (cypher: string, params: Record<string, unknown> = {}) => {
  const [row] = await server.graph.read((tx) =>
    tx.run<{ n: number }>({ cypher, params: { tenantId: server.tenantId, ...params } }),
  );
  return Number(row!.n);
};
const messages = (kind: string) =>
  count(`MATCH (m:Message {tenantId: $tenantId, kind: $kind}) RETURN count(m) AS n`, { kind });
const knowledge = () => count(`MATCH (k:Knowledge {tenantId: $tenantId}) RETURN count(k) AS n`);
const subtasks = (rootId: string) =>
  count(`MATCH (s:Task)-[:SUBTASK_OF]->(:Task {id: $rootId}) RETURN count(s) AS n`, { rootId });
const runStatuses = async (taskId: string) =>
  (
    await server.graph.read((tx) =>
      tx.run<{ status: string }>({
        cypher: `MATCH (:Task {id: $taskId})<-[:OF]-(r:Run) RETURN r.status AS status ORDER BY r.startedAt`,
        params: { taskId },
      }),
    )
  ).map((r) => r.status);

describe(
  'pending writes: a step’s effects commit with its outcome',
  { timeout: 2 * WORKFLOW_MS },
  () => {
    it('commits the plan, messages and knowledge in the transaction that records the step’s outcome', async () => {
      const uow = new RecordingUnitOfWork(server.graph, server.pubsub);
      const scheduler = startScheduler(server, agents(uow), { uow, stepTimeoutMs: 30_000 });
      try {
        const rootId = await submit();
        const tasks = await waitForWorkflow(
          server,
          rootId,
          (all) => ['COMPLETED', 'FAILED'].includes(all.find((t) => t.id === rootId)!.status),
          WORKFLOW_MS,
        );
        expect(tasks.find((t) => t.id === rootId)!.status).toBe('COMPLETED');
      } finally {
        await scheduler.stop({ abort: true });
      }
      // Named when it was sent (graph/statement-name.ts): the statement that ends runs.
      const endsRun = (tx: string[]) =>
        tx.some((c) => statementName(c) === 'run.repository.endRunBatch');
      const writes = {
        plan: (c: string) => c.includes('CREATE (t)-[:SUBTASK_OF]->(root)'),
        message: (c: string) => c.includes('MERGE (m:Message {id: $id})'),
        knowledge: (c: string) => c.includes('MERGE (k:Knowledge {id: $id})'),
      };
      for (const [what, isWrite] of Object.entries(writes)) {
        const writing = uow.transactions.filter((tx) => tx.some(isWrite));
        expect(writing.length, `transactions that write a ${what}`).toBeGreaterThan(0);
        expect(writing.every(endsRun), `every ${what} is written with a step's outcome`).toBe(true);
      }
      expect(await messages('REPORT')).toBeGreaterThan(0);
      expect(await messages('QUESTION')).toBeGreaterThan(0);
      expect(await knowledge()).toBeGreaterThan(0);
    });

    it('leaves no plan and no DELEGATION behind when planning is aborted (its root cancelled)', async () => {
      const hold = holdAfter(agents(), planning);
      const scheduler = startScheduler(server, hold.executor, { stepTimeoutMs: 30_000 });
      try {
        const rootId = await submit();
        await hold.held; // the plan is made; the step has not ended
        await cancel(rootId);
        await eventually('the aborted planning to wind down', () => scheduler.running === 0);
        await sweepNow(server);
        expect(await subtasks(rootId)).toBe(0);
        expect(await messages('DELEGATION')).toBe(0);
        expect(await runStatuses(rootId)).toEqual(['CANCELLED']);
        expect(
          await count(
            `MATCH (t:Task {tenantId: $tenantId}) WHERE t.status IN ['PENDING', 'READY'] RETURN count(t) AS n`,
          ),
        ).toBe(0);
      } finally {
        await scheduler.stop({ abort: true });
      }
    });

    it('leaves no report, question, answer or knowledge behind when a step is aborted', async () => {
      const hold = holdAfter(agents(), execution);
      const scheduler = startScheduler(server, hold.executor, { stepTimeoutMs: 30_000 });
      try {
        const rootId = await submit();
        await hold.held; // an operator finished its work, but the step has not ended
        await cancel(rootId);
        await eventually('the aborted steps to wind down', () => scheduler.running === 0);
        expect(await subtasks(rootId)).toBeGreaterThan(0); // the plan had committed
        expect(await messages('DELEGATION')).toBeGreaterThan(0);
        for (const kind of ['REPORT', 'QUESTION', 'ANSWER']) expect(await messages(kind)).toBe(0);
        expect(await knowledge()).toBe(0);
      } finally {
        await scheduler.stop({ abort: true });
      }
    });

    it('commits nothing of a planning attempt that lost its lease; the winner’s plan stands once', async () => {
      const hold = holdAfter(agents(), planning);
      // A long lease: no heartbeat notices the theft before the loser finishes.
      const loser = startScheduler(server, hold.executor, { leaseMs: 60_000, workerId: 'loser' });
      let rootId: string;
      try {
        rootId = await submit();
        await hold.held;
        // Another worker took the task over (as after an expired lease) while this one planned.
        await server.graph.write((tx) =>
          tx.run({
            cypher: `MATCH (t:Task {id: $rootId}) SET t.leaseOwner = 'winner',
                     t.leaseExpiresAt = datetime() + duration('PT1H')`,
            params: { rootId },
          }),
        );
        hold.go();
        await eventually('the loser to finish', () => loser.running === 0);
        expect(await subtasks(rootId)).toBe(0);
        expect(await messages('DELEGATION')).toBe(0);
        expect(await runStatuses(rootId)).toEqual(['ABANDONED']);
      } finally {
        await loser.stop({ abort: true });
      }
      // The winner's attempt: its lease runs out and a worker plans the task for good.
      await server.graph.write((tx) =>
        tx.run({
          cypher: `MATCH (t:Task {id: $rootId})
                 SET t.status = 'READY', t.leaseOwner = null, t.leaseExpiresAt = null`,
          params: { rootId },
        }),
      );
      const winner = startScheduler(server, agents(), { stepTimeoutMs: 30_000 });
      try {
        const tasks = await waitForWorkflow(
          server,
          rootId,
          (all) => ['COMPLETED', 'FAILED'].includes(all.find((t) => t.id === rootId)!.status),
          WORKFLOW_MS,
        );
        expect(tasks.find((t) => t.id === rootId)!.status).toBe('COMPLETED');
        const keys = tasks.filter((t) => t.id !== rootId).map((t) => t.key);
        expect(new Set(keys).size).toBe(keys.length);
        expect(await messages('DELEGATION')).toBe(keys.length - 1); // none for the synthesis
        expect(await runStatuses(rootId)).toEqual(['ABANDONED', 'SUCCEEDED']);
      } finally {
        await winner.stop({ abort: true });
      }
    });
  },
);
