import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { StepError, type Executor } from '../src/engine/executor.js';
import { allFinished, startScheduler, waitForWorkflow } from './utils/engine.js';
import { createOperators, startPlan, withScheduler } from './utils/engine-steps.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

/* Every run is judged (issue 12): objective signals, the judge, and people's ratings. */

interface Ev {
  id: string;
  source: string;
  score: number;
  verdict: string;
  rubric: string;
  reasons: string[];
  comment: string | null;
  by: string | null;
  offline: boolean;
  subjectLabel: string;
  subjectId: string;
}
interface RunView {
  id: string;
  status: string;
  evaluations: Ev[];
  evaluation: Ev | null;
}
interface TaskView {
  id: string;
  key: string | null;
  status: string;
  expectedOutput: string | null;
  runs: RunView[];
  evaluations: Ev[];
  evaluation: Ev | null;
}

const EV = 'id source score verdict rubric reasons comment by offline subjectLabel subjectId';
const WORKFLOW = `query($id: ID!) { workflow(taskId: $id) { tasks { id key status expectedOutput
  evaluations { ${EV} } evaluation { ${EV} }
  runs { id status evaluations { ${EV} } evaluation { ${EV} } } } } }`;

type EventsData = {
  evolutionEvents: { kind: string; subjectLabel: string; subjectId: string; summary: string };
};
const Events = parse(
  `subscription($kinds: [EvolutionEventKind!]) { evolutionEvents(kinds: $kinds) { kind subjectLabel subjectId summary } }`,
) as TypedDocumentNode<EventsData, { kinds?: string[] }>;

const RATE_TASK = `mutation($id: ID!, $score: Float!, $comment: String) {
  rateTask(taskId: $id, score: $score, comment: $comment) { ${EV} } }`;
const RATE_RUN = `mutation($id: ID!, $score: Float!, $comment: String) {
  rateRun(runId: $id, score: $score, comment: $comment) { ${EV} } }`;

async function workflow(server: TestServer, rootId: string): Promise<TaskView[]> {
  const res = await server.gql(WORKFLOW, { id: rootId } as never);
  expect(res.errors).toBeUndefined();
  return (res.data as unknown as { workflow: { tasks: TaskView[] } }).workflow.tasks;
}

const WORKFLOW_MS = 60_000;

const byKey = (tasks: TaskView[]) => Object.fromEntries(tasks.map((t) => [t.key ?? t.id, t]));

describe('every run is judged', { timeout: 3 * WORKFLOW_MS }, () => {
  let server: TestServer;
  let other: TestServer;
  beforeAll(async () => {
    [server, other] = await Promise.all([startTestServer(), startTestServer()]);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), other?.stop()]);
  });

  it('gives every ended run an OBJECTIVE evaluation: a success, a retried failure and a permanent failure', async () => {
    await createOperators(server, { Worker: [] });
    const ids = await startPlan(server, [
      { key: 'root', title: 'Judge the attempts', failurePolicy: 'CONTINUE' },
      { key: 'flaky', title: 'Flaky', parentKey: 'root', expectedOutput: 'a flaky answer' },
      { key: 'broken', title: 'Broken', parentKey: 'root' },
    ]);
    const seen = new Map<string, number>();
    const executor: Executor = async ({ task }) => {
      const n = (seen.get(task.key!) ?? 0) + 1;
      seen.set(task.key!, n);
      if (task.key === 'broken') throw new StepError('cannot be fixed', false);
      if (n === 1) throw new StepError('try again', true);
      return { result: 'a flaky answer' };
    };
    // A lease a loaded machine's heartbeats keep: an attempt that lost it is not ended by it.
    await withScheduler(
      server,
      executor,
      async () => {
        await waitForWorkflow(server, ids.root!, allFinished);
      },
      { leaseMs: 10_000 },
    );
    const tasks = byKey(await workflow(server, ids.root!));
    expect(tasks.flaky!.expectedOutput).toBe('a flaky answer');
    const [failed, succeeded] = tasks.flaky!.runs;
    expect(failed!.status).toBe('FAILED');
    expect(failed!.evaluations).toHaveLength(1);
    expect(failed!.evaluation).toMatchObject({
      source: 'OBJECTIVE',
      score: 0,
      verdict: 'FAIL',
      offline: false,
      by: null,
      subjectLabel: 'Run',
      subjectId: failed!.id,
    });
    expect(failed!.evaluation!.reasons[0]).toMatch(/failed \(will be retried\), so it scores 0/);
    expect(succeeded!.status).toBe('SUCCEEDED');
    expect(succeeded!.evaluation).toMatchObject({
      source: 'OBJECTIVE',
      score: 0.9,
      verdict: 'PASS',
    });
    expect(succeeded!.evaluation!.reasons).toContain('attempt 2 of 3 (-0.10)');
    expect(succeeded!.evaluation!.rubric).toMatch(/status.*attempts.*duration.*cost/);
    const broken = tasks.broken!.runs;
    expect(broken).toHaveLength(1);
    expect(broken[0]!.evaluation).toMatchObject({ source: 'OBJECTIVE', score: 0, verdict: 'FAIL' });
    // The root settled FAILED: judged on its steps.
    const root = tasks.root!;
    expect(root.status).toBe('FAILED');
    expect(root.evaluations.map((e) => e.source)).toEqual(['OBJECTIVE']);
    expect(root.evaluation).toMatchObject({ score: 0, subjectLabel: 'Task', subjectId: root.id });
    expect(root.evaluation!.reasons).toContain('first failed step "Broken": cannot be fixed');
  });

  it('judges a submitted task’s operator runs and its root, announces each evaluation to its own tenant only, and lets a person outrank the judge', async () => {
    const res = await server.gql(`mutation { createAgents(inputs: [
      { name: "Chief", role: CHIEF_OF_STAFF },
      { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
      { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
    ]) { id } }`);
    expect(res.errors).toBeUndefined();
    const mine = await subscribe(server, Events, { kinds: ['EVALUATED'] });
    // Another tenant on the same server (one PubSub): it must hear nothing of this tenant.
    const theirs = await subscribe(server, Events, {}, other.adminKey);
    const runtime = createAgentRuntime({
      uow: server.services.uow,
      llm: loadConfig({}).llm,
      logger: server.logger,
    });
    const scheduler = startScheduler(server, agentExecutor(runtime), {
      stepTimeoutMs: 30_000,
      leaseMs: 10_000,
    });
    let rootId: string;
    try {
      const submitted = await server.gql(
        `mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`,
        {
          input: {
            title: 'Bike market brief',
            description:
              'Research the market size for electric bikes in Europe. Then write a one-page brief.',
          },
        } as never,
      );
      expect(submitted.errors).toBeUndefined();
      rootId = (submitted.data as unknown as { submitTask: { id: string } }).submitTask.id;
      await waitForWorkflow(
        server,
        rootId,
        (all) =>
          all.find((t) => t.id === rootId)?.status === 'COMPLETED' ||
          all.some((t) => t.status === 'FAILED'),
        WORKFLOW_MS,
      );
    } finally {
      await scheduler.stop({ abort: true });
    }
    const tasks = await workflow(server, rootId);
    const root = tasks.find((t) => t.id === rootId)!;
    expect(root.status).toBe('COMPLETED');
    const steps = tasks.filter((t) => t.id !== rootId);
    const operators = steps.filter((t) => t.key !== 'synthesis');
    expect(operators.length).toBeGreaterThanOrEqual(1);
    // A planned step carries the plan's output as its expected output.
    for (const s of operators) expect(s.expectedOutput).toBeTruthy();
    let written = 0;
    for (const t of tasks) {
      for (const r of t.runs) {
        const sources = r.evaluations.map((e) => e.source).sort();
        written += sources.length;
        // The planning run is judged on its signals only; operator and synthesis runs also by the judge.
        expect(sources).toEqual(t.id === rootId ? ['OBJECTIVE'] : ['JUDGE', 'OBJECTIVE']);
        if (t.id === rootId) continue;
        const judge = r.evaluations.find((e) => e.source === 'JUDGE')!;
        expect(judge).toMatchObject({ offline: true, by: 'offline/deterministic-v1' });
        expect(judge.rubric).toMatch(/^offline model \(deterministic, not a real judge\)/);
        expect(judge.reasons[0]).toMatch(/^the result covers \d+ of \d+ key terms/);
        expect(r.evaluation!.source).toBe('JUDGE');
      }
    }
    expect(root.evaluations.map((e) => e.source).sort()).toEqual(['JUDGE', 'OBJECTIVE']);
    expect(root.evaluation!.source).toBe('JUDGE');
    // The offline answer is drawn from the operators' reports, which cover the description.
    expect(root.evaluation, root.evaluation!.reasons.join('; ')).toMatchObject({ verdict: 'PASS' });
    expect(root.evaluations.find((e) => e.source === 'OBJECTIVE')!.score).toBe(1);
    written += root.evaluations.length;

    // Each evaluation was announced once, after its commit, to this tenant.
    const heard: EventsData['evolutionEvents'][] = [];
    for (let i = 0; i < written; i++) {
      const next = await mine.waitForNext(10_000);
      expect(next.errors).toBeUndefined();
      heard.push(next.data!.evolutionEvents);
    }
    expect(heard.every((e) => e.kind === 'EVALUATED')).toBe(true);
    expect(heard.filter((e) => e.subjectId === rootId).map((e) => e.subjectLabel)).toEqual([
      'Task',
      'Task',
    ]);

    // A person's rating outranks the judge; rating again replaces it.
    const first = await server.gql(RATE_TASK, {
      id: rootId,
      score: 0.2,
      comment: 'misses prices',
    } as never);
    expect(first.errors).toBeUndefined();
    const rated = (first.data as unknown as { rateTask: Ev }).rateTask;
    expect(rated).toMatchObject({
      source: 'PERSON',
      score: 0.2,
      verdict: 'FAIL',
      comment: 'misses prices',
      subjectId: rootId,
    });
    expect((await mine.waitForNext(10_000)).data!.evolutionEvents).toMatchObject({
      kind: 'EVALUATED',
      subjectId: rootId,
    });
    let now = (await workflow(server, rootId)).find((t) => t.id === rootId)!;
    expect(now.evaluation).toMatchObject({ source: 'PERSON', score: 0.2, id: rated.id });
    const again = await server.gql(RATE_TASK, { id: rootId, score: 0.8 } as never);
    expect(again.errors).toBeUndefined();
    now = (await workflow(server, rootId)).find((t) => t.id === rootId)!;
    expect(now.evaluations.filter((e) => e.source === 'PERSON')).toHaveLength(1);
    expect(now.evaluation).toMatchObject({
      source: 'PERSON',
      score: 0.8,
      verdict: 'PASS',
      id: rated.id,
      comment: null,
    });
    // Another person's rating is another evaluation.
    const operatorKey = await server.keyFor('OPERATOR' as never);
    const run = operators[0]!.runs[0]!;
    const byOperator = await server.gql(RATE_RUN, { id: run.id, score: 0.5 } as never, {
      authorization: `Bearer ${operatorKey}`,
    });
    expect(byOperator.errors).toBeUndefined();
    const byAdmin = await server.gql(RATE_RUN, { id: run.id, score: 0.6 } as never);
    expect(byAdmin.errors).toBeUndefined();
    const runNow = (await workflow(server, rootId))
      .flatMap((t) => t.runs)
      .find((r) => r.id === run.id)!;
    expect(
      runNow.evaluations
        .filter((e) => e.source === 'PERSON')
        .map((e) => e.score)
        .sort(),
    ).toEqual([0.5, 0.6]);
    expect(runNow.evaluation).toMatchObject({ source: 'PERSON', score: 0.6 });

    // The other tenant heard nothing: its own control event arrives with nothing before it.
    const otherTask = await other.gql(
      `mutation { createTasks(inputs: [{ title: "Theirs" }]) { id } }`,
    );
    expect(otherTask.errors).toBeUndefined();
    const theirId = (otherTask.data as unknown as { createTasks: { id: string }[] }).createTasks[0]!
      .id;
    const before = await theirs.heardBefore(
      async () => {
        await other.gql(`mutation($id: ID!) { cancelTask(id: $id) { id } }`, {
          id: theirId,
        } as never);
        // Through this server (its PubSub), as the other tenant.
        await server.gql(RATE_TASK, { id: theirId, score: 1 } as never, {
          authorization: `Bearer ${other.adminKey}`,
        });
      },
      (e) => e.data?.evolutionEvents.subjectId === theirId,
      10_000,
    );
    expect(before).toEqual([]);
    await Promise.all([mine.close(), theirs.close()]);
  });

  it('refuses bad ratings with what to fix, and answers another tenant’s id as an unknown one', async () => {
    const created = await server.gql(
      `mutation { createTasks(inputs: [{ title: "Open" }, { title: "Done" }]) { id } }`,
    );
    expect(created.errors).toBeUndefined();
    const [open, done] = (
      created.data as unknown as { createTasks: { id: string }[] }
    ).createTasks.map((t) => t.id);
    expect(
      (await server.gql(`mutation($id: ID!) { cancelTask(id: $id) { id } }`, { id: done } as never))
        .errors,
    ).toBeUndefined();

    const rate = (id: string, score: number, comment?: string, as = server) =>
      as.gql(RATE_TASK, { id, score, comment } as never);
    const outOfRange = await rate(done!, 1.5);
    expect(outOfRange.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(outOfRange.errors?.[0]?.message).toBe('score must be between 0 and 1, but got 1.5');
    expect((await rate(done!, -0.1)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const long = await rate(done!, 0.5, 'x'.repeat(2_001));
    expect(long.errors?.[0]?.message).toBe('comment must be at most 2000 characters, but got 2001');
    const unfinished = await rate(open!, 0.5);
    expect(unfinished.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(unfinished.errors?.[0]?.message).toBe(
      'A task can be rated once it has finished, but this one is PENDING',
    );

    const unknown = '00000000-0000-4000-8000-000000000000';
    const missing = await rate(unknown, 0.5);
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(missing.errors?.[0]?.message).toBe(`Task "${unknown}" does not exist`);
    // The other tenant rates this tenant's finished task: the same answer as for an unknown id.
    const foreign = await rate(done!, 0.5, undefined, other);
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(foreign.errors?.[0]?.message).toBe(`Task "${done}" does not exist`);
    const missingRun = await server.gql(RATE_RUN, { id: unknown, score: 0.5 } as never);
    expect(missingRun.errors?.[0]?.message).toBe(`Run "${unknown}" does not exist`);
    // A VIEWER reads evaluations but cannot rate.
    const viewer = await server.keyFor('VIEWER' as never);
    const refused = await server.gql(RATE_TASK, { id: done, score: 0.5 } as never, {
      authorization: `Bearer ${viewer}`,
    });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // Nothing was written by the refused calls.
    const [row] = await server.graph.read((tx) =>
      tx.run<{ n: number }>({
        cypher: `MATCH (e:Evaluation {source: 'PERSON'})-[:EVALUATES]->(:Task {id: $id}) RETURN count(e) AS n`,
        params: { id: done },
      }),
    );
    expect(Number(row!.n)).toBe(0);
  });
});
