import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HumanMessage } from '@langchain/core/messages';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { loadConfig } from '../src/config/config.js';
import { isTransient } from '../src/engine/executor.js';
import { LLMCallRecorder } from '../src/llm/accounting.js';
import { createChatModel, describeModel } from '../src/llm/models.js';
import { startScriptedOpenAI, type Reply, type ScriptedOpenAI } from './utils/openai-server.js';
import { metricNow } from './utils/prom-text.js';

// model_errors_total{class} of failures the real @langchain/openai client produces, recorded
// as production records them (LLMCallRecorder attached), next to what the engine makes of them.
// Connection failures came out as `bad_answer`: their code sits two causes deep (Connection
// error. <- fetch failed <- ECONNREFUSED), or there is none at all (a bad port, TLS, not HTTP).

const CLASSES = ['rate_limit', 'server', 'client', 'timeout', 'aborted', 'connection'];
const noWrite = (() => Promise.resolve(undefined)) as never;

let scripted: ScriptedOpenAI;
const servers: Server[] = [];
beforeAll(async () => {
  scripted = await startScriptedOpenAI();
});
afterAll(async () => {
  await scripted.close();
  for (const s of servers) s.close();
});

/** A loopback TCP server that does `onSocket` with each connection; its port. */
async function tcpServer(onSocket: (socket: import('node:net').Socket) => void) {
  const server = createServer(onSocket);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A loopback port nobody listens on. */
async function freePort() {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let calls = 0;

/** One failed call to `baseURL` (its own model name): its error and the classes it counted. */
async function failedCall(
  baseURL: string,
  { stream = false, abortAfterMs }: { stream?: boolean; abortAfterMs?: number } = {},
) {
  const name = `classes-${calls++}`;
  const llm = loadConfig({
    LLM_PROVIDER: 'compatible',
    LLM_BASE_URL: baseURL,
    LLM_MODEL: name,
    LLM_MAX_RETRIES: '0',
    LLM_TIMEOUT_MS: '1000',
  }).llm;
  const request = { purpose: 'execution' } as const;
  const recorder = new LLMCallRecorder({
    store: noWrite,
    tenantId: 'model-error-classes',
    purpose: 'execution',
    prices: llm.prices,
    describe: describeModel(request, llm),
  });
  const model = recorder.attach(createChatModel(request, llm, [recorder]));
  const signal = abortAfterMs === undefined ? undefined : AbortSignal.timeout(abortAfterMs);
  let error: unknown = null;
  try {
    const messages = [new HumanMessage('Hello')];
    if (stream) for await (const _ of await model.stream(messages, { signal }));
    else await model.invoke(messages, { signal });
  } catch (err) {
    error = err;
  }
  await recorder.flush();
  expect(error).not.toBeNull();
  const counted: string[] = [];
  for (const c of [...CLASSES, 'bad_answer']) {
    const n = await metricNow('model_errors_total', { model: name, class: c });
    for (let i = 0; i < n; i++) counted.push(c);
  }
  return { error, counted };
}

const replying = (reply: Reply) => {
  scripted.enqueue(reply);
  return scripted.baseURL;
};

describe('model_errors_total{class} of a call that never reached the model', () => {
  it.each<[string, () => Promise<string>, boolean]>([
    ['a refused connection', async () => `http://127.0.0.1:${await freePort()}/v1`, true],
    ['a port fetch refuses to use', async () => 'http://127.0.0.1:1/v1', false],
    [
      'a server that closes the socket before answering',
      async () => `http://127.0.0.1:${await tcpServer((s) => s.destroy())}/v1`,
      true,
    ],
    [
      'a server that does not speak HTTP',
      async () => `http://127.0.0.1:${await tcpServer((s) => s.end('hello\r\n\r\n'))}/v1`,
      false,
    ],
    [
      'https to a server that speaks plain HTTP',
      async () => scripted.baseURL.replace('http:', 'https:'),
      false,
    ],
  ])('counts %s as connection', async (_, url, transient) => {
    const { error, counted } = await failedCall(await url());
    expect(counted).toEqual(['connection']);
    expect(isTransient(error)).toBe(transient);
  });

  it.each([false, true])(
    'counts a socket closed mid-answer as connection (stream %s)',
    async (s) => {
      const { error, counted } = await failedCall(
        replying({ cut: s ? 'data: {"id":' : '{"id":' }),
        {
          stream: s,
        },
      );
      expect(counted).toEqual(['connection']);
      expect(isTransient(error)).toBe(true);
    },
  );
});

describe('model_errors_total{class} of a call the server answered, or did not in time', () => {
  it.each<[string, string, Reply, boolean]>([
    ['a 429', 'rate_limit', { status: 429, error: 'slow down' }, true],
    ['a 503', 'server', { status: 503 }, true],
    ['a 400', 'client', { status: 400, error: 'bad request' }, false],
    ['no answer within LLM_TIMEOUT_MS', 'timeout', { delayMs: 3000, then: { content: '' } }, true],
  ])('counts %s as %s', async (_, expected, reply, transient) => {
    const { error, counted } = await failedCall(replying(reply));
    expect(counted).toEqual([expected]);
    expect(isTransient(error)).toBe(transient);
  });

  it('counts a call its caller gave up on as aborted', async () => {
    const url = replying({ delayMs: 3000, then: { content: 'late' } });
    const { counted } = await failedCall(url, { abortAfterMs: 100 });
    expect(counted).toEqual(['aborted']);
  });
});
