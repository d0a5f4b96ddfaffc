import { afterEach, describe, expect, it } from 'vitest';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import type { Scheduler } from '../src/engine/scheduler.js';
import { purposeIn } from '../src/llm/routing.js';
import { scriptedLlm, startScheduler, waitForWorkflow } from './utils/engine.js';
import {
  startScriptedOpenAI,
  type ChatRequest,
  type Reply,
  type ScriptedOpenAI,
} from './utils/openai-server.js';
import { startTestServer, type TestServer } from './utils/server.js';

// A model server that misbehaves while planning: what the step does and what its run says.

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

const isPlanning = (req: ChatRequest) =>
  purposeIn(JSON.stringify(req.messages[0]?.content ?? '')) === 'planning';

let running: { server: TestServer; scripted: ScriptedOpenAI; scheduler: Scheduler } | undefined;
afterEach(async () => {
  const r = running;
  running = undefined;
  await r?.scheduler.stop({ abort: true });
  await r?.scripted.close();
  await r?.server.stop();
});

/**
 * Agents on a scripted server whose planning calls `planning` answers, the calls not streamed
 * (no pubsub: a step's own calls) `unstreamed`; the rest say done.
 */
async function setup(
  planning: (n: number) => Reply,
  unstreamed: (n: number) => Reply = () => ({ content: 'Done.' }),
) {
  let n = 0;
  let u = 0;
  const scripted = await startScriptedOpenAI((req) =>
    isPlanning(req) ? planning(n++) : req.stream ? { content: 'Done.' } : unstreamed(u++),
  );
  const server = await startTestServer();
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
  // The engine's own backoff is short: only a server's Retry-After can hold a retry.
  const scheduler = startScheduler(server, agentExecutor(runtime), {
    backoff: { baseMs: 10, maxMs: 10_000 },
  });
  running = { server, scripted, scheduler };
  const submitted = await server.gql(
    `mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`,
    { input: { title: 'E-bike brief', description: 'Research the market.' } } as never,
  );
  expect(submitted.errors).toBeUndefined();
  const rootId = (submitted.data as { submitTask: { id: string } }).submitTask.id;
  return { server, rootId };
}

/** The runs of a task, oldest attempt first. */
const runsOf = (server: TestServer, taskId: string) =>
  server.graph.read((tx) =>
    tx.run<{ status: string; error: string | null }>({
      cypher: `MATCH (r:Run)-[:OF]->(:Task {id: $taskId, tenantId: $tenantId})
        RETURN r.status AS status, r.error AS error ORDER BY r.attempt`,
      params: { taskId, tenantId: server.tenantId },
    }),
  );

/** The errors of the model calls made by a task's runs, oldest attempt first. */
const callErrorsOf = async (server: TestServer, taskId: string) =>
  (
    await server.graph.read((tx) =>
      tx.run<{ error: string | null }>({
        cypher: `MATCH (r:Run)-[:OF]->(:Task {id: $taskId, tenantId: $tenantId})
          MATCH (r)-[:CALLED]->(c:LLMCall)
          RETURN c.error AS error ORDER BY r.attempt, c.createdAt`,
        params: { taskId, tenantId: server.tenantId },
      }),
    )
  ).map((c) => c.error);

/** The workflow's tasks once its root has ended, COMPLETED or FAILED (60 s at most). */
const rootEnded = (server: Parameters<typeof waitForWorkflow>[0], rootId: string) =>
  waitForWorkflow(
    server,
    rootId,
    (ts) => ['COMPLETED', 'FAILED'].includes(ts.find((t) => t.id === rootId)!.status),
    60_000,
  );

/**
 * Once the workflow's root COMPLETED: the error of the first of the two runs (FAILED, then
 * SUCCEEDED) of the root or of its step, which names the model server, and that task's id.
 */
async function retriedOnce(server: TestServer, rootId: string, of: 'root' | 'step') {
  const tasks = await rootEnded(server, rootId);
  expect(tasks.find((t) => t.id === rootId)!.status).toBe('COMPLETED');
  const id = of === 'root' ? rootId : tasks.find((t) => t.id !== rootId)!.id;
  const runs = await runsOf(server, id);
  expect(runs.map((r) => r.status)).toEqual(['FAILED', 'SUCCEEDED']);
  const error = runs[0]!.error!;
  expect(error).toMatch(/^attempt 1 failed \(will retry\): The model server /);
  return { error, id };
}

describe('a model server that misbehaves', { timeout: 90_000 }, () => {
  it('waits out the Retry-After of a 429 before trying the step again', async () => {
    // The engine retried after its own backoff, before the server took calls again, and a
    // workflow failed within seconds of a rate limit, its three attempts spent on a closed door.
    const planningAt: number[] = [];
    const { server, rootId } = await setup((n) => {
      planningAt.push(performance.now());
      return n < 2 ? { status: 429, retryAfter: 2 } : { json: PLAN };
    });
    await waitForWorkflow(
      server,
      rootId,
      (ts) => planningAt.length >= 3 || ts.find((t) => t.id === rootId)!.status === 'FAILED',
      60_000,
    );
    // Each retry came after the 2 s the server asked for (less a little for timer slack).
    for (let i = 1; i < planningAt.length; i++)
      expect(planningAt[i]! - planningAt[i - 1]!).toBeGreaterThanOrEqual(1_900);
  });

  it('retries a step whose answer stream the server cut off, saying so on the run', async () => {
    // A connection dropped mid-stream failed the workflow at once, its run saying "terminated".
    const half =
      'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":' +
      '[{"index":0,"delta":{"role":"assistant","content":"{\\"steps\\": ["},"finish_reason":null}]}\n\n';
    const { server, rootId } = await setup((n) => (n === 0 ? { cut: half } : { json: PLAN }));
    const tasks = await rootEnded(server, rootId);
    expect(tasks.find((t) => t.id === rootId)!.status).toBe('COMPLETED');
    const runs = await runsOf(server, rootId);
    expect(runs.map((r) => r.status)).toEqual(['FAILED', 'SUCCEEDED']);
    expect(runs[0]!.error).toMatch(/will retry.*closed the connection/);
  });

  it('retries a step whose answer the server garbled, without telling the model its plan was wrong', async () => {
    // Malformed server-sent events were taken for an invalid plan: the model was asked to
    // repair it, and a server that kept garbling failed the workflow at once, blaming the plan.
    const garbled = 'data: {"id":"c1","choices":[{"delta":{"content":"hi"\n\n';
    const { server, rootId } = await setup((n) => (n < 2 ? { raw: garbled } : { json: PLAN }));
    await rootEnded(server, rootId);
    const runs = await runsOf(server, rootId);
    expect(runs.map((r) => r.status)).toEqual(['FAILED', 'FAILED', 'SUCCEEDED']);
    expect(runs[0]!.error).toMatch(/will retry.*could not be read/);
    const asked = running!.scripted.requests.filter(isPlanning).map((r) => JSON.stringify(r));
    expect(asked.filter((r) => r.includes('Your plan cannot be used'))).toEqual([]);
  });
});

describe(
  'a model server that answers with something other than the model',
  { timeout: 90_000 },
  () => {
    it('retries a step whose streamed answer was a web page, naming the server and the page', async () => {
      // A proxy's login page (HTTP 200, text/html) was read as an empty answer: the model was
      // asked to repair its plan, then the task failed for good, "the answer was not JSON".
      const page =
        '<!DOCTYPE html><html><head><title>Sign in</title></head><body>Proxy</body></html>';
      const { server, rootId } = await setup((n) =>
        n === 0 ? { raw: page, contentType: 'text/html; charset=utf-8' } : { json: PLAN },
      );
      const { error } = await retriedOnce(server, rootId, 'root');
      expect(error).toContain(running!.scripted.baseURL);
      expect(error).toContain('text/html; charset=utf-8');
      expect(error).toContain('<!DOCTYPE html><html><head><title>Sign in');
      expect(error).not.toMatch(/\n\s+at /); // no stack
      const asked = running!.scripted.requests.filter(isPlanning).map((r) => JSON.stringify(r));
      expect(asked.filter((r) => r.includes('Your plan cannot be used'))).toEqual([]);
    });

    it.each([
      ['an empty body', ''],
      ['only keep-alive comments', ': keep-alive\n\n: keep-alive\n\n'],
      ['only the end of the stream', 'data: [DONE]\n\n'],
    ])(
      'retries a step whose answer came as an event stream with no event in it (%s)',
      async (_, body) => {
        // A server that typed its answer as events but sent none was read as an empty answer:
        // the model was asked to repair a plan it never sent, its call recorded as a success.
        const { server, rootId } = await setup((n) => (n === 0 ? { raw: body } : { json: PLAN }));
        const { error } = await retriedOnce(server, rootId, 'root');
        expect(error).toMatch(/text\/event-stream but no server-sent event/);
        const errors = await callErrorsOf(server, rootId);
        expect(errors[0]).toMatch(/text\/event-stream.*no server-sent event/);
        const asked = running!.scripted.requests.filter(isPlanning).map((r) => JSON.stringify(r));
        expect(asked.filter((r) => r.includes('Your plan cannot be used'))).toEqual([]);
      },
    );

    it('retries a step whose answer not streamed was a web page, naming the page', async () => {
      // A proxy's page (HTTP 200, text/html) answering a step's call that does not stream was
      // handed to LangChain as text: "Cannot read properties of undefined", and the task failed
      // for good at its first attempt.
      const page = `<!DOCTYPE html><html><head><title>Sign in</title></head>${'x'.repeat(5000)}`;
      const { server, rootId } = await setup(
        () => ({ json: PLAN }),
        (n) => (n === 0 ? { raw: page, contentType: 'text/html' } : { content: 'Done.' }),
      );
      const { error, id } = await retriedOnce(server, rootId, 'step');
      expect(error).toContain(running!.scripted.baseURL);
      expect(error).toMatch(/text\/html instead of JSON, starting: <!DOCTYPE html><html><head>/);
      expect(error.length).toBeLessThan(400); // the start of the page, not all of it
      expect((await callErrorsOf(server, id))[0]).toMatch(/text\/html instead of JSON/);
    });

    it.each([
      ['an empty body', '', /application\/json but no choices, with no body/],
      ['null', 'null', /application\/json but no choices, starting: null/],
      [
        'JSON without choices',
        '{"id":"c1","object":"chat.completion"}',
        /application\/json but no choices, starting: \{"id":"c1","object":"chat.completion"\}/,
      ],
      ['no choice', '{"id":"c1","choices":[]}', /but no choices, starting: \{"id":"c1"/],
    ])(
      'retries a step whose answer not streamed was JSON with no completion in it (%s)',
      async (_, body, said) => {
        // OpenAI's client handed LangChain nothing (undefined, null, no choices): a TypeError,
        // "Cannot read properties of undefined", that failed the task at its first attempt.
        const { server, rootId } = await setup(
          () => ({ json: PLAN }),
          (n) => (n === 0 ? { raw: body } : { content: 'Done.' }),
        );
        const { error, id } = await retriedOnce(server, rootId, 'step');
        expect(error).toContain(running!.scripted.baseURL);
        expect(error).toMatch(said);
        expect((await callErrorsOf(server, id))[0]).toMatch(said);
      },
    );

    it('still asks the model to repair an empty answer that came as well-formed events', async () => {
      // The model itself said nothing: its plan is the model's to repair, not a server fault.
      const { server, rootId } = await setup((n) => (n === 0 ? { content: '' } : { json: PLAN }));
      const tasks = await rootEnded(server, rootId);
      expect(tasks.find((t) => t.id === rootId)!.status).toBe('COMPLETED');
      expect((await runsOf(server, rootId)).map((r) => r.status)).toEqual(['SUCCEEDED']);
      const asked = running!.scripted.requests.filter(isPlanning).map((r) => JSON.stringify(r));
      expect(asked.filter((r) => r.includes('Your plan cannot be used'))).toHaveLength(1);
    });

    it('words a rate limit on the run without LangChain troubleshooting links', async () => {
      // The run said "429 Rate limit reached...\n\nTroubleshooting URL: https://docs.langchain...".
      const { server, rootId } = await setup((n) => (n === 0 ? { status: 429 } : { json: PLAN }));
      await rootEnded(server, rootId);
      const runs = await runsOf(server, rootId);
      expect(runs.map((r) => r.status)).toEqual(['FAILED', 'SUCCEEDED']);
      expect(runs[0]!.error).toBe(
        'attempt 1 failed (will retry): 429 Rate limit reached for requests.',
      );
    });
  },
);
