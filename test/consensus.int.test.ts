import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answersByRunIds, decisionsByRunIds } from '../graph/consensus.repository.js';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import type { Scheduler } from '../src/engine/scheduler.js';
import { TOPICS, type EvolutionEvent } from '../subscriptions/topics.js';
import { startScheduler } from './utils/engine.js';
import { createPlan, eventually, publishedEnds, startWorkflow } from './utils/engine-steps.js';
import { startTestServer, type TestServer } from './utils/server.js';

/** How long a vote of offline agents may take on a loaded 2-core machine (over 60 s seen at load 15). */
const STEP_MS = 180_000;

interface AnswerView {
  id: string;
  content: string;
  position: number;
  votes: number;
  chosen: boolean;
  agent: { name: string } | null;
}
interface DecisionView {
  id: string;
  strategy: string;
  voters: number;
  votes: number;
  tie: boolean;
  reason: string;
  chosen: AnswerView | null;
  answers: AnswerView[];
}
interface StepView {
  status: string;
  result: string | null;
  error: string | null;
  attempts: number;
  consensus: { voters: number; strategy: string } | null;
  runs: { id: string; status: string; decision: DecisionView | null }[];
}

const ANSWER = 'id content position votes chosen agent { name }';
const STEP = `query($id: ID!) { task(id: $id) { status result error attempts
  consensus { voters strategy }
  runs { id status decision { id strategy voters votes tie reason
    chosen { ${ANSWER} } answers { ${ANSWER} } } } } }`;

describe('collective decisions, on the offline model', { timeout: 3 * STEP_MS }, () => {
  let server: TestServer;
  let scheduler: Scheduler;
  let ends: ReturnType<typeof publishedEnds>;
  const heard: EvolutionEvent[] = [];
  let listening = true;

  beforeAll(async () => {
    server = await startTestServer();
    // Ada and Bea work in metric units, Cy in imperial: the offline model follows each agent's
    // instructions, so two answers agree (but for the signature) and one differs.
    const res = await server.gql(`mutation { createAgents(inputs: [
      { name: "Ada", role: MASTER_OPERATOR, systemPrompt: "Give lengths in metric units.",
        capabilities: [{ name: "survey" }] },
      { name: "Bea", role: MASTER_OPERATOR, systemPrompt: "Give lengths in metric units.",
        capabilities: [{ name: "survey" }] },
      { name: "Cy", role: MASTER_OPERATOR, systemPrompt: "Give lengths in imperial units.",
        capabilities: [{ name: "survey" }] },
      { name: "Solo", role: MASTER_OPERATOR, capabilities: [{ name: "rare" }] }
    ]) { id } }`);
    expect(res.errors).toBeUndefined();
    ends = publishedEnds(server);
    const events = server.pubsub.subscribe(TOPICS.evolution, { tenantId: server.tenantId });
    void (async () => {
      for await (const e of events) {
        if (!listening) break;
        heard.push(e as EvolutionEvent);
      }
    })();
    const runtime = createAgentRuntime({
      uow: server.services.uow,
      llm: loadConfig({}).llm,
      logger: server.logger,
      pubsub: server.pubsub,
    });
    scheduler = startScheduler(server, agentExecutor(runtime), {
      stepTimeoutMs: STEP_MS,
      leaseMs: 10_000,
    });
  });
  afterAll(async () => {
    listening = false;
    ends?.stop();
    await scheduler?.stop({ abort: true });
    await server?.stop();
  });

  /**
   * Creates a root with one step (consensus as given), runs it to its end and reads it once its
   * end was published: a poll could find it COMPLETED while its commit was still being applied.
   */
  async function runStep(step: Record<string, unknown>): Promise<StepView> {
    const ids = await createPlan(server, [
      { key: 'root', title: `Bridge survey ${step.title as string}` },
      { key: 'step', parentKey: 'root', ...step } as never,
    ]);
    await startWorkflow(server, ids.root!);
    await ends.ended(ids.step!, STEP_MS);
    const res = await server.gql(STEP, { id: ids.step } as never);
    expect(res.errors).toBeUndefined();
    return (res.data as { task: StepView }).task;
  }

  const count = async (cypher: string, params: Record<string, unknown>) => {
    const [row] = await server.graph.read((tx) =>
      tx.run<{ n: number }>({ cypher, params: { tenantId: server.tenantId, ...params } }),
    );
    return row!.n;
  };

  it('MAJORITY: three operators answer, the answer two of them gave is the result, and all of it is recorded', async () => {
    const step = await runStep({
      title: 'Measure the bridge span',
      description: 'Give the span of the bridge.',
      requiredCapabilities: ['survey'],
      consensus: { voters: 3, strategy: 'MAJORITY' },
    });
    expect(step.status, step.error ?? '').toBe('COMPLETED');
    expect(step.consensus).toEqual({ voters: 3, strategy: 'MAJORITY' });
    const run = step.runs.find((r) => r.status === 'SUCCEEDED')!;
    const decision = run.decision!;
    expect(decision).toMatchObject({ strategy: 'MAJORITY', voters: 3, votes: 2, tie: false });
    expect(decision.reason).toMatch(/^2 of 3 voters gave the same answer \((Ada|Bea)'s first\)$/);
    expect(decision.answers.map((a) => a.agent?.name).sort()).toEqual(['Ada', 'Bea', 'Cy']);
    expect(decision.answers.map((a) => a.position)).toEqual([0, 1, 2]);
    for (const a of decision.answers) {
      expect(a.votes).toBe(a.agent!.name === 'Cy' ? 1 : 2);
      expect(a.content).toContain(`Answered by ${a.agent!.name}.`);
    }
    expect(decision.answers.filter((a) => a.chosen)).toEqual([decision.chosen]);
    expect(decision.chosen!.content).toContain('Approach: Give lengths in metric units.');
    expect(step.result).toBe(decision.chosen!.content);

    // In the graph: the decision FOR the run CHOSE an answer BY an agent; every voter's model
    // calls are the run's; only the chosen voter's report reached the Chief of Staff's thread.
    expect(
      await count(
        `MATCH (d:Decision {tenantId: $tenantId, id: $id})-[:FOR]->(r:Run {id: $runId}),
               (d)-[:CHOSE]->(a:Answer)-[:BY]->(:Agent {name: $name}), (a)-[:FOR]->(r)
         RETURN count(*) AS n`,
        { id: decision.id, runId: run.id, name: decision.chosen!.agent!.name },
      ),
    ).toBe(1);
    expect(
      await count(
        `MATCH (:Run {id: $runId})-[:CALLED]->(c:LLMCall {purpose: 'execution'})
         RETURN count(DISTINCT c.agentId) AS n`,
        { runId: run.id },
      ),
    ).toBe(3);
    expect(
      await count(
        `MATCH (m:Message {tenantId: $tenantId, kind: 'REPORT'})-[:ABOUT]->(:Task {id: $taskId})
         MATCH (:Agent {name: $name})-[:SENT]->(m)
         RETURN count(m) AS n`,
        {
          taskId: (await stepIdOf(run.id))!,
          name: decision.chosen!.agent!.name,
        },
      ),
    ).toBe(1);
    await eventually('CONSENSUS_DECIDED for the run', () =>
      heard.find((e) => e.kind === 'CONSENSUS_DECIDED' && e.subjectId === run.id),
    );
  });

  it('JUDGE: the judge picks the answer that does what the step asks, with its reason; fewer voters than asked vote', async () => {
    const step = await runStep({
      title: 'Measure the viaduct span',
      description: 'Give the span of the viaduct in imperial units.',
      requiredCapabilities: ['survey'],
      consensus: { voters: 5, strategy: 'JUDGE' },
    });
    expect(step.status, step.error ?? '').toBe('COMPLETED');
    const run = step.runs.find((r) => r.status === 'SUCCEEDED')!;
    const decision = run.decision!;
    expect(decision).toMatchObject({ strategy: 'JUDGE', voters: 5, votes: 1, tie: false });
    expect(decision.answers).toHaveLength(3);
    expect(decision.chosen!.agent!.name).toBe('Cy');
    expect(decision.chosen!.content).toContain('imperial units');
    expect(step.result).toBe(decision.chosen!.content);
    expect(decision.reason).toContain('3 of the 5 voters asked for were available');
    expect(decision.reason).toContain("the judge chose Cy's answer");
    expect(decision.reason).toContain('imperial');
    expect(
      await count(
        `MATCH (:Run {id: $runId})-[:CALLED]->(c:LLMCall {purpose: 'evaluation'}) RETURN count(c) AS n`,
        { runId: run.id },
      ),
    ).toBeGreaterThanOrEqual(1);
  });

  it('fails the step at once, saying why, when fewer than two operators can vote', async () => {
    const step = await runStep({
      title: 'Inspect the rare rivets',
      requiredCapabilities: ['rare'],
      consensus: { voters: 3, strategy: 'MAJORITY' },
      maxAttempts: 3,
    });
    expect(step.status).toBe('FAILED');
    expect(step.attempts).toBe(1);
    expect(step.error).toContain(
      'consensus needs at least 2 active Master Operators with "rare" to vote, but found 1 (Solo)',
    );
    expect(step.runs.every((r) => r.decision === null)).toBe(true);
  });

  it('refuses a consensus of fewer than 2 or more than 7 voters, naming the task and the value', async () => {
    const batch = await server.gql(
      `mutation($inputs: [CreateTaskInput!]!) { createTasks(inputs: $inputs) { id } }`,
      {
        inputs: [
          { key: 'a', title: 'fine' },
          { key: 'b', title: 'lonely', consensus: { voters: 1, strategy: 'MAJORITY' } },
        ],
      } as never,
    );
    expect(batch.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(batch.errors?.[0]?.message).toBe(
      'inputs[1].consensus.voters must be a whole number between 2 and 7, but got 1',
    );
    const crowd = await server.gql(
      `mutation { createTask(input: { title: "crowd", consensus: { voters: 8, strategy: JUDGE } }) { id } }`,
    );
    expect(crowd.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(crowd.errors?.[0]?.message).toBe(
      'consensus.voters must be a whole number between 2 and 7, but got 8',
    );
    const strategy = await server.gql(
      `mutation { createTask(input: { title: "loud", consensus: { voters: 3, strategy: LOUDEST } }) { id } }`,
    );
    expect(strategy.errors?.[0]?.message).toContain('ConsensusStrategy');
    expect(
      await count(
        `MATCH (t:Task {tenantId: $tenantId}) WHERE t.title IN $titles RETURN count(t) AS n`,
        {
          titles: ['fine', 'lonely', 'crowd', 'loud'],
        },
      ),
    ).toBe(0);
  });

  it("keeps a decision out of another tenant's reach", async () => {
    const [row] = await server.graph.read((tx) =>
      tx.run<{ runId: string; taskId: string }>({
        cypher: `MATCH (:Decision {tenantId: $tenantId})-[:FOR]->(r:Run)-[:OF]->(t:Task)
                 RETURN r.id AS runId, t.id AS taskId LIMIT 1`,
        params: { tenantId: server.tenantId },
      }),
    );
    expect(row).toBeDefined();
    const other = await startTestServer();
    try {
      const res = await other.gql(STEP, { id: row!.taskId } as never);
      expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(JSON.stringify(res.data ?? null)).not.toContain('Answered by');
      const [decisions, answers] = await other.graph.read(
        async (tx) =>
          [
            await decisionsByRunIds(tx, other.tenantId, [row!.runId]),
            await answersByRunIds(tx, other.tenantId, [row!.runId]),
          ] as const,
      );
      expect(decisions).toEqual([]);
      expect(answers).toEqual([]);
      const own = await server.graph.read((tx) =>
        decisionsByRunIds(tx, server.tenantId, [row!.runId]),
      );
      expect(own).toHaveLength(1);
    } finally {
      await other.stop();
    }
  });

  async function stepIdOf(runId: string): Promise<string | undefined> {
    const [row] = await server.graph.read((tx) =>
      tx.run<{ id: string }>({
        cypher: 'MATCH (:Run {id: $runId})-[:OF]->(t:Task) RETURN t.id AS id',
        params: { runId },
      }),
    );
    return row?.id;
  }
});
