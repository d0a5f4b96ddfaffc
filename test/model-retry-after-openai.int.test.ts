import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import type { Scheduler } from '../src/engine/scheduler.js';
import { purposeIn } from '../src/llm/routing.js';
import { scriptedLlm, startScheduler, waitForWorkflow } from './utils/engine.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from './utils/openai-server.js';
import { startTestServer, type TestServer } from './utils/server.js';

// A model server that answers 429 with Retry-After: 2 s. The engine retried after its own
// backoff (1 to 2 s), before the server said it would take calls again, and a workflow failed
// within seconds of a rate limit, its three attempts spent against a closed door.

const PLAN = {
  steps: [
    {
      key: 'research',
      title: 'Research the market',
      instructions: 'Research the market.',
      capability: 'research',
      dependsOn: [],
      output: 'Notes',
    },
  ],
};

describe('a rate-limited model server', { timeout: 90_000 }, () => {
  let server: TestServer;
  let scripted: ScriptedOpenAI;
  let scheduler: Scheduler;
  const planningAt: number[] = [];

  beforeAll(async () => {
    scripted = await startScriptedOpenAI((req) => {
      if (purposeIn(JSON.stringify(req.messages[0]?.content ?? '')) !== 'planning')
        return { content: 'Done.' };
      planningAt.push(performance.now());
      // The first two planning calls are refused: the step would fail at its third attempt.
      return planningAt.length <= 2 ? { status: 429, retryAfter: 2 } : { json: PLAN };
    });
    server = await startTestServer();
    const res = await server.gql(`mutation { createAgents(inputs: [
      { name: "Chief", role: CHIEF_OF_STAFF },
      { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] }
    ]) { id } }`);
    expect(res.errors).toBeUndefined();
    const runtime = createAgentRuntime({
      uow: server.services.uow,
      llm: scriptedLlm(scripted.baseURL),
      logger: server.logger,
    });
    // The engine's own backoff is short: only the server's Retry-After can hold the retry.
    scheduler = startScheduler(server, agentExecutor(runtime), {
      backoff: { baseMs: 10, maxMs: 10_000 },
    });
  });
  afterAll(async () => {
    await scheduler?.stop({ abort: true });
    await scripted?.close();
    await server?.stop();
  });

  it('waits out the Retry-After of a 429 before trying the step again', async () => {
    const res = await server.gql(
      `mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`,
      { input: { title: 'E-bike brief', description: 'Research the market.' } } as never,
    );
    expect(res.errors).toBeUndefined();
    const rootId = (res.data as { submitTask: { id: string } }).submitTask.id;
    await waitForWorkflow(
      server,
      rootId,
      (ts) => planningAt.length >= 3 || ts.find((t) => t.id === rootId)!.status === 'FAILED',
      60_000,
    );
    expect(planningAt.length).toBeGreaterThanOrEqual(2);
    // Each retry came after the 2 s the server asked for (less a little for timer slack).
    for (let i = 1; i < planningAt.length; i++)
      expect(planningAt[i]! - planningAt[i - 1]!).toBeGreaterThanOrEqual(1_900);
  });
});
