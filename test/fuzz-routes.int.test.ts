import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStillServing, type OwnIds } from './utils/hostile.js';
import { startHostileServers, stopHostileServers } from './utils/hostile-servers.js';
import { HOSTILE_STRINGS, Prng, WRONG_TYPES } from './utils/fuzz-values.js';
import type { TestServer } from './utils/server.js';

/**
 * The fuzz of the routes beside /graphql (test/fuzz.int.test.ts fuzzes the schema): malformed
 * and hostile JSON-RPC to /mcp and /a2a, and malformed uploads to /documents, from a seeded
 * PRNG (FUZZ_SEED, FUZZ_CASES widen a local run). Each answer is a refusal or a result: never a
 * 5xx, an internal error or a stack trace, and the server answers a query after. FUZZ_LOG=1
 * prints every answer.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_101);
const CASES = Number(process.env.FUZZ_CASES ?? 6) * 10;
const log = (what: string, answer: string | null) => {
  if (process.env.FUZZ_LOG) console.log(`FUZZ ${what} -> ${answer}`);
};

let server: TestServer;
let other: TestServer;
let ids: OwnIds;
let otherIds: OwnIds;

beforeAll(async () => {
  ({ server, other, ids, otherIds } = await startHostileServers());
});

afterAll(() => stopHostileServers({ server, other }, []));

/** Why a route's answer breaks the promise, or null. */
function brokenRoute(status: number, text: string): string | null {
  if (status >= 500) return `HTTP ${status}`;
  // -32603 is JSON-RPC's internal error: bad params are -32602 (test/mcp-bad-params).
  if (/INTERNAL_SERVER_ERROR|Internal server error|"code":-32603/i.test(text)) {
    return 'an internal error';
  }
  // A value that was never there: 'got a file in "undefined"' (fixed in multipart.ts).
  if (text.includes('\\"undefined\\"')) return 'a message naming "undefined"';
  if (/\\n\s+at |\n\s+at |file:\/\/|node:internal|\/(src|graph|node_modules)\//.test(text)) {
    return 'a stack trace or source path';
  }
  return null;
}

const MCP_TOOLS = [
  'submit_task',
  'task_status',
  'search_knowledge',
  'search_memory',
  'list_agents',
  'chat_with_agent',
  'rate_task',
  'approve',
  'reject',
  'no_such_tool',
];
const MCP_KEYS = [
  'title',
  'description',
  'priority',
  'taskId',
  'agentId',
  'query',
  'first',
  'after',
  'asOf',
  'message',
  'score',
  'what',
  'callId',
  'args',
  'edits',
  'waitSeconds',
];
const A2A_METHODS = [
  'SendMessage',
  'SendStreamingMessage',
  'GetTask',
  'CancelTask',
  'GetExtendedAgentCard',
  'message/send',
  'tasks/get',
  'NoSuchMethod',
];

/** A hostile JSON value: strings, wrong types, ids of ours and of the other tenant. */
function anyValue(r: Prng): unknown {
  return r.pick<() => unknown>([
    () => r.pick(HOSTILE_STRINGS),
    () => r.pick(WRONG_TYPES),
    () => r.pick(Object.values(ids)),
    () => r.pick(Object.values(otherIds)),
    () => null,
    () => r.pick([0, -1, 1e308, 5e-324, 2 ** 53]),
  ])();
}

function anyObject(r: Prng, keys: readonly string[]): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (let i = r.int(5); i > 0; i--) value[r.pick(keys)] = anyValue(r);
  // Never a long wait: the fuzz is about input, not about following a workflow.
  if ('waitSeconds' in value) value.waitSeconds = r.pick([0, -1, 'soon', 1e308]);
  return value;
}

/** A JSON-RPC body for `method` with `params`, sometimes broken in its envelope. */
function envelope(r: Prng, method: unknown, params: unknown): string {
  const message: Record<string, unknown> = { jsonrpc: '2.0', id: r.int(1_000), method, params };
  if (r.chance(0.1)) message.jsonrpc = r.pick(['1.0', 2, null]);
  if (r.chance(0.1)) message.id = r.pick([{}, [], null, 'x'.repeat(10_000)]);
  if (r.chance(0.05)) return JSON.stringify([message, message]);
  return JSON.stringify(message);
}

/** `{"a":{"a":...1}}`, `depth` levels, as text: JSON.stringify would run out of stack here. */
const deepJson = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/** Bodies no JSON-RPC route should be ready for. */
function brokenBody(r: Prng): string {
  return r.pick<() => string>([
    () => '',
    () => '{',
    () => 'null',
    () => '[]',
    () => '"text"',
    () => '{"jsonrpc":"2.0"}',
    () => `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":${deepJson(5_000)}}`,
    () => '['.repeat(100_000) + ']'.repeat(100_000),
    () => JSON.stringify({ jsonrpc: '2.0', id: 1, method: r.pick(HOSTILE_STRINGS) }),
  ])();
}

function mcpBody(r: Prng): string {
  if (r.chance(0.15)) return brokenBody(r);
  const kind = r.int(4);
  if (kind === 0) return envelope(r, 'tools/list', r.chance(0.5) ? {} : anyValue(r));
  if (kind === 1) {
    const uri = `${r.pick(['task', 'workflow', 'agents', 'nope'])}://${String(anyValue(r))}/result`;
    return envelope(r, 'resources/read', { uri: r.chance(0.8) ? uri : anyValue(r) });
  }
  const name = r.chance(0.9) ? r.pick(MCP_TOOLS) : anyValue(r);
  const args = r.chance(0.9) ? anyObject(r, MCP_KEYS) : anyValue(r);
  return envelope(r, 'tools/call', { name, arguments: args });
}

function a2aBody(r: Prng): string {
  if (r.chance(0.15)) return brokenBody(r);
  const method = r.pick(A2A_METHODS);
  const part = r.chance(0.7) ? { text: anyValue(r) } : anyValue(r);
  const message = {
    messageId: r.chance(0.8) ? r.uuid() : anyValue(r),
    role: r.pick(['ROLE_USER', 'ROLE_AGENT', 'user', anyValue(r)]),
    parts: r.chance(0.8) ? [part] : anyValue(r),
  };
  const params = r.pick<() => unknown>([
    () => ({ message }),
    () => ({ message, configuration: { blocking: false, historyLength: anyValue(r) } }),
    () => ({ id: anyValue(r), historyLength: anyValue(r) }),
    () => anyValue(r),
  ])();
  return envelope(r, method, params);
}

/** A multipart body by hand, so its boundary, parts and names can be wrong. */
function documentUpload(r: Prng): { headers: Record<string, string>; body: string } {
  const boundary = 'fuzzBoundary';
  const name = r.pick(['a.txt', 'a.md', '', '\u0000.txt', 'x'.repeat(10_000), '../../etc/passwd']);
  const type = r.pick(['text/plain', 'text/markdown', 'application/pdf', 'image/gif', '', 'x/y']);
  const content = r.pick(['Some text.', '', '%PDF-1.4 broken', '\uD800\u0000', 'é'.repeat(5_000)]);
  const parts = [
    `--${boundary}\r\nContent-Disposition: form-data; name="${r.pick(['file', 'files', ''])}"; filename="${name}"\r\nContent-Type: ${type}\r\n\r\n${content}\r\n`,
  ];
  if (r.chance(0.5)) {
    const title = String(anyValue(r));
    parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n${title}\r\n`);
  }
  const end = r.chance(0.8) ? `--${boundary}--\r\n` : '';
  const contentType = r.pick([
    `multipart/form-data; boundary=${boundary}`,
    'multipart/form-data',
    `multipart/form-data; boundary=other`,
    'application/json',
    'text/plain',
  ]);
  return { headers: { 'content-type': contentType }, body: parts.join('') + end };
}

async function send(
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string } | null> {
  try {
    const res = await fetch(new URL(path, server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminKey}`, ...headers },
      body,
      // A stream (SendStreamingMessage) may stay open: what came within 3 s is judged.
      signal: AbortSignal.timeout(3_000),
    });
    return { status: res.status, text: await res.text() };
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') return null;
    throw err;
  }
}

describe('the routes fuzz', () => {
  const routes: [string, string, (r: Prng) => { headers: Record<string, string>; body: string }][] =
    [
      [
        '/mcp',
        'MCP JSON-RPC',
        (r) => ({
          headers: {
            'content-type': 'application/json',
            accept: r.chance(0.9) ? 'application/json, text/event-stream' : 'text/html',
          },
          body: mcpBody(r),
        }),
      ],
      [
        '/a2a',
        'A2A JSON-RPC',
        (r) => ({
          headers: { 'content-type': 'application/json', 'a2a-version': '1.0' },
          body: a2aBody(r),
        }),
      ],
      ['/documents', 'multipart uploads', documentUpload],
    ];
  for (const [path, what, make] of routes) {
    it(`answers malformed ${what} to ${path} with a refusal or a result`, async () => {
      const r = new Prng(SEED ^ path.length);
      const problems: string[] = [];
      for (let i = 0; i < CASES; i++) {
        const { headers, body } = make(r);
        const res = await send(path, headers, body);
        const problem = res && brokenRoute(res.status, res.text);
        log(`${path}#${i}`, res && `${res.status} ${res.text.slice(0, 400)}`);
        console.log(
          `FUZZ ${path}#${i} -> ${res?.status} ${res?.text.slice(0, 400).replace(/\n/g, ' ')}`,
        );
        if (problem) {
          problems.push(`#${i} ${body.slice(0, 120)}: ${problem}: ${res.text.slice(0, 300)}`);
        }
      }
      expect(problems, `seed ${SEED}`).toEqual([]);
      await expectStillServing(server);
    }, 120_000);
  }
});
