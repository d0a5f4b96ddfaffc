import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * Regression (the routes fuzz, test/fuzz-routes.int.test.ts): MCP requests whose params break
 * the protocol's schema (a uri that is not a URL or not a string, arguments that are not an
 * object) were answered -32603, JSON-RPC's internal error, with "Invalid URL" or a dump of zod
 * issues. They are the client's mistake: -32602 (invalid params), naming the param to fix.
 */

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(() => server?.stop());

/** A body POSTed to /mcp with the admin key: as JSON, or a string as it is. */
const post = (body: unknown) =>
  fetch(server.url.replace(/\/graphql$/, '/mcp'), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${server.adminKey}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** One JSON-RPC request to /mcp; the answer's JSON-RPC error (from JSON or an SSE event). */
async function rpcError(method: string, params: unknown) {
  const res = await post({ jsonrpc: '2.0', id: 7, method, params });
  const text = await res.text();
  const json = text.startsWith('event:') ? text.split('data: ')[1]!.trim() : text;
  expect(res.status, text).toBeLessThan(500);
  return (JSON.parse(json) as { id: unknown; error?: { code: number; message: string } }).error;
}

describe('MCP params that break the protocol', () => {
  it('refuses a resource uri that is not a URL with -32602 naming params.uri', async () => {
    for (const uri of ['', 'not a url', 'task://\u0000/result']) {
      const error = await rpcError('resources/read', { uri });
      expect(error?.code, JSON.stringify(error)).toBe(-32602);
      expect(error?.message).toMatch(/params\.uri must be a URL/);
    }
  });

  it('refuses params of the wrong type with -32602 naming the param', async () => {
    const uri = await rpcError('resources/read', { uri: 42 });
    expect(uri).toMatchObject({ code: -32602 });
    expect(uri?.message).toMatch(/params\.uri/);
    const args = await rpcError('tools/call', { name: 'task_status', arguments: 'text' });
    expect(args).toMatchObject({ code: -32602 });
    expect(args?.message).toMatch(/params\.arguments/);
  });

  it('refuses them in a batch too', async () => {
    const call = { jsonrpc: '2.0', method: 'tools/call', params: { name: 'task_status' } };
    const res = await post([
      { ...call, id: 1, params: { ...call.params, arguments: {} } },
      { ...call, id: 2, params: { ...call.params, arguments: null } },
    ]);
    const text = await res.text();
    expect(res.status, text).toBeLessThan(500);
    expect(text).not.toContain('-32603');
    expect(text).toContain('-32602');
    // Only a batch's own requests are looked at: 100,000 nested lists ran the check out of stack.
    const deep = await post('['.repeat(100_000) + ']'.repeat(100_000));
    expect(deep.status, await deep.text()).toBeLessThan(500);
  });
});
