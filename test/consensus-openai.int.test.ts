import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tasksByIds } from '../graph/task.repository.js';
import { createAgentRuntime, type AgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import type { Agent } from '../src/domain/agent.js';
import type { Task } from '../src/domain/task.js';
import type { StepContext } from '../src/engine/executor.js';
import { PendingWrites } from '../src/engine/pending-writes.js';
import { judgeAnswers } from '../src/evolution/consensus/judge.js';
import { forgetStructuredModes } from '../src/llm/structured.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from './utils/openai-server.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { assertProviderRequest } from './utils/strict-schema.js';
import { DEFAULT_MAX_TOKENS } from '../src/llm/config.js';

/* The consensus judge (JUDGE strategy) on the real OpenAI client against the loopback server. */

describe('the consensus judge on an OpenAI-compatible server', () => {
  let server: TestServer;
  let scripted: ScriptedOpenAI;
  let runtime: AgentRuntime;
  let task: Task | undefined;
  const agent = { id: randomUUID(), name: 'Ada', model: null } as unknown as Agent;

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
      `mutation { createTasks(inputs: [{ title: "Measure the bridge span", description: "Give the span in imperial units", consensus: { voters: 2, strategy: JUDGE } }]) { id } }`,
    );
    expect(created.errors).toBeUndefined();
    const id = (created.data as unknown as { createTasks: { id: string }[] }).createTasks[0]!.id;
    [task] = await server.graph.read((tx) => tasksByIds(tx, server.tenantId, [id]));
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), scripted?.close()]);
  });

  const step = (): StepContext => {
    const signal = new AbortController().signal;
    return {
      task: task!,
      agent,
      run: { id: randomUUID(), attempt: 1 },
      inputs: {},
      signal,
      writes: new PendingWrites(signal),
    };
  };

  it('sends a strict-schema valid request on the evaluation model, the answers numbered and unsigned', async () => {
    const before = scripted.requests.length;
    scripted.enqueue({ json: { choice: 2, reason: 'It gives the span in feet, as asked.' } });
    const pick = await judgeAnswers(runtime, step(), [
      'The span is 390 metres.',
      'The span is 1,280 feet.',
    ]);
    expect(pick).toEqual({ index: 1, reason: 'It gives the span in feet, as asked.' });
    const [request] = scripted.requests.slice(before);
    expect(request!.model).toBe('judge-model');
    expect(assertProviderRequest(request!, DEFAULT_MAX_TOKENS.evaluation)).toBe(1);
    expect(request!.response_format?.json_schema?.name).toBe('consensus_pick');
    const human = JSON.stringify(request!.messages.at(-1)!.content);
    expect(human).toContain('Answer 1:');
    expect(human).toContain('The span is 1,280 feet.');
    expect(human).toContain('Give the span in imperial units');
    expect(human).not.toContain('Ada');
  });

  it('refuses a pick that is not one of the answers', async () => {
    scripted.enqueue({ json: { choice: 3, reason: 'The third.' } });
    await expect(judgeAnswers(runtime, step(), ['one', 'two'])).rejects.toThrow(
      'the judge picked answer 3, but there are only 2 answers',
    );
  });
});
