import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoExecutor, type Executor } from '../src/engine/executor.js';
import { Scheduler } from '../src/engine/scheduler.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { allFinished, byKey, startScheduler, waitForWorkflow } from './utils/engine.js';

describe('the orchestration engine', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    const res = await server.gql(`mutation {
      createAgents(inputs: [
        { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
        { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
      ]) { id } }`);
    expect(res.errors).toBeUndefined();
  });
  afterAll(() => server.stop());

  it('runs a plan: dependencies in order, capabilities matched, parent completed', async () => {
    const plan = await server.gql(`mutation {
      createTasks(inputs: [
        { key: "root", title: "Brief" },
        { key: "facts", title: "Collect facts", parentKey: "root", requiredCapabilities: ["research"] },
        { key: "draft", title: "Draft", parentKey: "root", dependsOnKeys: ["facts"], requiredCapabilities: ["writing"] }
      ]) { id key } }`);
    expect(plan.errors).toBeUndefined();
    const root = (plan.data as { createTasks: { id: string; key: string }[] }).createTasks[0]!.id;
    const started = await server.gql(
      `mutation { startWorkflow(taskId: "${root}") { id orchestrated } }`,
    );
    expect(started.errors).toBeUndefined();

    const scheduler = startScheduler(server, echoExecutor());
    try {
      const tasks = await waitForWorkflow(server, root, allFinished);
      const k = byKey(tasks);
      expect(k.root!.status).toBe('COMPLETED');
      expect(k.facts!.assignment?.agent.name).toBe('Researcher');
      expect(k.draft!.assignment?.agent.name).toBe('Writer');
      expect(k.draft!.runs).toHaveLength(1);
      expect(JSON.parse(k.root!.result!)).toMatchObject({
        facts: { step: 'facts' },
        draft: { step: 'draft' },
      });
    } finally {
      await scheduler.stop();
    }
  });

  it('never runs more steps at once than the global limit, across workers, whatever their concurrency', async () => {
    const plan = await server.gql(`mutation {
      createTasks(inputs: [
        { key: "root", title: "Limited" },
        { key: "a", title: "A", parentKey: "root" },
        { key: "b", title: "B", parentKey: "root" },
        { key: "c", title: "C", parentKey: "root" },
        { key: "d", title: "D", parentKey: "root" }
      ]) { id } }`);
    const root = (plan.data as { createTasks: { id: string }[] }).createTasks[0]!.id;
    await server.gql(`mutation { startWorkflow(taskId: "${root}") { id } }`);
    let running = 0;
    let most = 0;
    const workers: Scheduler[] = [];
    // While a step runs on one worker, the other tries to claim, now rather than at some poll:
    // a limit kept per worker would let it start a second step.
    const executorOf =
      (other: number): Executor =>
      async () => {
        most = Math.max(most, ++running);
        try {
          await workers[other]!.tick();
        } finally {
          running--;
        }
        return { result: 'ok' };
      };
    // No help: the two workers' claims may overlap at any point, and the limit must still hold
    // (two overlapping claims could each count no running step: issue 10).
    const options = { concurrency: 4, globalLimit: 1 };
    workers.push(startScheduler(server, executorOf(1), options));
    workers.push(startScheduler(server, executorOf(0), options));
    try {
      const tasks = await waitForWorkflow(server, root, allFinished);
      expect(tasks.every((t) => t.status === 'COMPLETED')).toBe(true);
      expect(most).toBe(1);
      // Every step ran once, and during each the other worker tried to claim and was held back.
      expect(tasks.filter((t) => t.key !== 'root').map((t) => t.runs.length)).toEqual([1, 1, 1, 1]);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  });
  it('a claim of more steps assigned to one agent than its limit gives that agent as many as its limit allows', async () => {
    // Ten submitTask to one Chief of Staff stalled (issue 9's loaded round): a claim took all
    // the roots assigned to it, counted them as its load, found it full and gave every one back.
    const made = await server.gql(`mutation {
      createAgents(inputs: [{ name: "Assigned", role: MASTER_OPERATOR }]) { id } }`);
    expect(made.errors).toBeUndefined();
    const agent = (made.data as { createAgents: { id: string }[] }).createAgents[0]!.id;
    const steps = Array.from(
      { length: 6 },
      (_, i) =>
        `{ key: "s${i}", title: "Assigned ${i}", parentKey: "root", assigneeId: "${agent}" }`,
    );
    const plan = await server.gql(`mutation {
      createTasks(inputs: [{ key: "root", title: "Assigned steps" }, ${steps.join(', ')}]) { id key } }`);
    expect(plan.errors).toBeUndefined();
    const root = (plan.data as { createTasks: { id: string; key: string }[] }).createTasks[0]!.id;
    await server.gql(`mutation { startWorkflow(taskId: "${root}") { id } }`);
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const executor: Executor = async () => {
      await finished;
      return { result: 'ok' };
    };
    // One tick only (the poll is an hour): the assigned agent must get two, its limit, not none.
    const scheduler = new Scheduler({
      uow: server.services.uow,
      logger: server.logger,
      executor,
      tenantIds: [server.tenantId],
      concurrency: 8,
      perAgentLimit: 2,
      pollMs: 3_600_000,
      leaseMs: 120_000,
    });
    let ticks = 0;
    const tick = scheduler.tick.bind(scheduler);
    scheduler.tick = async () => {
      await tick();
      ticks++;
    };
    scheduler.start();
    try {
      const deadline = performance.now() + 30_000;
      while (ticks === 0 && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 25));
      expect(ticks).toBeGreaterThan(0);
      // The agent they are assigned to keeps two (its limit); the others go to other operators.
      const byAgent = await server.graph.read((tx) =>
        tx.run<{ n: number }>({
          cypher: `MATCH (:Task {id: $root})<-[:SUBTASK_OF]-(:Task)<-[:OF]-(r:Run)-[:BY]->(:Agent {id: $agent})
                   RETURN count(r) AS n`,
          params: { root, agent },
        }),
      );
      expect(byAgent[0]!.n).toBe(2);
      expect(scheduler.running).toBe(6);
    } finally {
      finish();
      await scheduler.stop({ abort: true });
    }
  });

  it('two workers claiming at the same moment never exceed the global limit together', async () => {
    // Deterministic interleaving (issue 10): worker 1 has claimed step A (not yet committed)
    // when an URGENT step B becomes READY and worker 2 claims. Counting running steps without
    // a shared lock, worker 2 counted none and started B: two steps under a limit of one.
    const plan = await server.gql(`mutation {
      createTasks(inputs: [
        { key: "root", title: "Race" },
        { key: "a", title: "A", parentKey: "root", priority: LOW },
        { key: "b", title: "B", parentKey: "root", priority: URGENT, requiresApproval: true }
      ]) { id key } }`);
    expect(plan.errors).toBeUndefined();
    const ids = Object.fromEntries(
      (plan.data as { createTasks: { id: string; key: string }[] }).createTasks.map((t) => [
        t.key,
        t.id,
      ]),
    );
    await server.gql(`mutation { startWorkflow(taskId: "${ids.root}") { id } }`);
    let running = 0;
    let most = 0;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const executor: Executor = async () => {
      most = Math.max(most, ++running);
      await finished;
      running--;
      return { result: 'ok' };
    };
    /** A unit of work that reports each claim (a transaction returning started runs). */
    const claims = (onClaim: (runs: number) => Promise<void>) =>
      new Proxy(server.services.uow, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target) as unknown;
          if (typeof value !== 'function') return value;
          if (prop !== 'run') return value.bind(target);
          return (work: (...args: unknown[]) => Promise<unknown>) =>
            target.run(async (tx, emit) => {
              const result = await work(tx, emit);
              const isClaim =
                Array.isArray(result) && result.length > 0 && 'runId' in (result[0] as object);
              if (isClaim) await onClaim(result.length);
              return result;
            });
        },
      });
    let hold!: () => void;
    const held = new Promise<void>((resolve) => (hold = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let secondClaimed = 0;
    // A lease longer than any wait below: worker 1's claim stays uncommitted until worker 2 is
    // seen blocked, which on a loaded machine took over 2 s, so step A's lease had run out when
    // it committed and worker 2 rightly no longer counted it as running.
    const options = { concurrency: 1, globalLimit: 1, pollMs: 3_600_000, leaseMs: 120_000 };
    const first = startScheduler(server, executor, {
      ...options,
      uow: claims(async () => {
        hold();
        await released; // the claim of A stays uncommitted until worker 2 has tried
      }),
    });
    const workers = [first];
    try {
      await held;
      const approved = await server.gql(`mutation { approveTask(id: "${ids.b}") { status } }`);
      expect(approved.errors).toBeUndefined();
      const second = new Scheduler({
        uow: claims(async (n) => {
          secondClaimed += n;
        }),
        logger: server.logger,
        executor,
        tenantIds: [server.tenantId],
        ...options,
      });
      let ticks = 0;
      const tick = second.tick.bind(second);
      second.tick = async () => {
        await tick();
        ticks++;
      };
      second.start();
      workers.push(second);
      // Worker 2 either claims (no lock: the bug) or waits for worker 1's limit lock.
      const deadline = performance.now() + 20_000;
      for (;;) {
        if (secondClaimed > 0) break;
        const blocked = await server.graph.read((tx) =>
          tx.run<{ q: string }>({
            cypher: `SHOW TRANSACTIONS YIELD status, currentQuery
                     WHERE status STARTS WITH 'Blocked' AND currentQuery CONTAINS 'EngineLimit'
                     RETURN currentQuery AS q`,
            params: {},
          }),
        );
        if (blocked.length > 0) break;
        if (performance.now() > deadline) throw new Error('worker 2 neither claimed nor waited');
        await new Promise((r) => setTimeout(r, 25));
      }
      release();
      // Worker 2's one tick (its poll is an hour) ends once it could count worker 1's step.
      while (ticks === 0) {
        if (performance.now() > deadline) throw new Error('worker 2 never finished its tick');
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(secondClaimed).toBe(0);
      expect(most).toBe(1);
    } finally {
      release();
      finish();
      await Promise.all(workers.map((w) => w.stop({ abort: true })));
    }
  });
});
