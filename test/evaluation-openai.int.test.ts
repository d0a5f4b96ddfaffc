import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentRuntime, type AgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { tasksByIds } from '../graph/task.repository.js';
import type { Agent } from '../src/domain/agent.js';
import type { Task } from '../src/domain/task.js';
import type { StepContext } from '../src/engine/executor.js';
import { PendingWrites } from '../src/engine/pending-writes.js';
import { judgeStep } from '../src/evolution/evaluate/judge.js';
import { forgetStructuredModes } from '../src/llm/structured.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from './utils/openai-server.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { assertProviderRequest } from './utils/strict-schema.js';
import { DEFAULT_MAX_TOKENS } from '../src/llm/config.js';

/* The judge chain on the real OpenAI client against the scripted loopback server (issue 12). */

describe('the judge on an OpenAI-compatible server', () => {
  let server: TestServer;
  let scripted: ScriptedOpenAI;
  let runtime: AgentRuntime;
  let task: Task | undefined;
  const agent = { id: randomUUID(), name: 'Operator', model: null } as unknown as Agent;

  beforeAll(async () => {
    forgetStructuredModes();
    [server, scripted] = await Promise.all([startTestServer(), startScriptedOpenAI()]);
    const { llm } = loadConfig({
      LLM_PROVIDER: 'compatible',
      LLM_BASE_URL: scripted.baseURL,
      LLM_MODEL: 'gpt-4o-mini',
      LLM_MODEL_EVALUATION: 'judge-model',
      LLM_MAX_RETRIES: '0',
    });
    runtime = createAgentRuntime({ uow: server.services.uow, llm, logger: server.logger });
    const created = await server.gql(
      `mutation { createTasks(inputs: [{ title: "Count the bikes", description: "Count electric bikes sold in 2024", expectedOutput: "the number of bikes" }]) { id } }`,
    );
    expect(created.errors).toBeUndefined();
    const id = (created.data as unknown as { createTasks: { id: string }[] }).createTasks[0]!.id;
    [task] = await server.graph.read((tx) => tasksByIds(tx, server.tenantId, [id]));
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), scripted?.close()]);
  });

  /** A step context for a run of the task that exists in the graph (SUCCEEDED, as it will be). */
  async function step(signal = new AbortController().signal) {
    const runId = randomUUID();
    await server.graph.write((tx) =>
      tx.run({
        cypher: `MATCH (t:Task {id: $taskId})
          CREATE (:Run {id: $runId, tenantId: t.tenantId, status: 'SUCCEEDED', attempt: 1,
                        startedAt: datetime(), createdAt: datetime(), updatedAt: datetime()})-[:OF]->(t)`,
        params: { taskId: task!.id, runId },
      }),
    );
    const writes = new PendingWrites(signal);
    const ctx: StepContext = {
      task: task!,
      agent,
      run: { id: runId, attempt: 1 },
      inputs: {},
      signal,
      writes,
    };
    return { ctx, writes, runId };
  }

  const judgeOf = async (runId: string) =>
    server.graph.read((tx) =>
      tx.run<{
        source: string;
        score: number;
        verdict: string;
        reasons: string[];
        by: string;
        offline: boolean;
        comment: string;
      }>({
        cypher: `MATCH (e:Evaluation)-[:EVALUATES]->(:Run {id: $runId})
          RETURN e.source AS source, e.score AS score, e.verdict AS verdict, e.reasons AS reasons,
                 e.by AS by, e.offline AS offline, e.comment AS comment`,
        params: { runId },
      }),
    );

  it('sends a strict-schema valid request on the evaluation model and records its judgement', async () => {
    const before = scripted.requests.length;
    scripted.enqueue({
      json: { score: 0.9, verdict: 'FAIL', reasons: ['gives the number'], feedback: 'Good.' },
    });
    const { ctx, writes, runId } = await step();
    await judgeStep(runtime, ctx, 'About 5 million bikes were sold.');
    const [request] = scripted.requests.slice(before);
    expect(request!.model).toBe('judge-model');
    expect(assertProviderRequest(request!, DEFAULT_MAX_TOKENS.evaluation)).toBe(1);
    expect(request!.response_format?.json_schema?.name).toBe('judgement');
    const human = JSON.stringify(request!.messages.at(-1)!.content);
    expect(human).toContain('the number of bikes');
    expect(human).toContain('Count electric bikes sold in 2024');
    expect(writes.labels).toEqual(['judge evaluation']);
    await server.services.uow.run((tx, emit) => writes.apply(tx, emit));
    const [judged] = await judgeOf(runId);
    // The score decides the verdict; the judge's own word is kept as a reason.
    expect(judged).toMatchObject({
      source: 'JUDGE',
      score: 0.9,
      verdict: 'PASS',
      by: 'compatible/judge-model',
      offline: false,
      comment: 'Good.',
    });
    expect(judged!.reasons).toEqual(['gives the number', 'the judge said FAIL']);
  });

  it('never fails the step when the judge fails: it is logged and nothing is queued', async () => {
    scripted.enqueue({ status: 500, error: 'the judge is down' });
    const { ctx, writes, runId } = await step();
    await expect(judgeStep(runtime, ctx, 'a result')).resolves.toBeUndefined();
    expect(writes.labels).toEqual([]);
    expect(await judgeOf(runId)).toEqual([]);
  });

  it('still aborts when the step is aborted', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled by a person');
    controller.abort(reason);
    const { ctx } = await step(controller.signal);
    await expect(judgeStep(runtime, ctx, 'a result')).rejects.toBe(reason);
  });
});
