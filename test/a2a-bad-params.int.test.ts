import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * Regression (the routes fuzz, test/fuzz-routes.int.test.ts): an A2A message whose parts hold
 * a null, or that is no object, was answered -32603, JSON-RPC's internal error, with the SDK's
 * "Cannot read properties of null (reading 'text')". It is the caller's mistake: -32602
 * (invalid params), naming the param to fix.
 */

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(() => server?.stop());

/** One JSON-RPC request to /a2a; its status and JSON-RPC error. */
function rpcError(method: string, params: unknown) {
  return postError({ jsonrpc: '2.0', id: 7, method, params });
}

/** A body (as JSON) to /a2a; its status and JSON-RPC error. */
async function postError(body: unknown) {
  const res = await fetch(server.url.replace(/\/graphql$/, '/a2a'), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${server.adminKey}`,
      'content-type': 'application/json',
      'a2a-version': '1.0',
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  expect(res.status, text).toBeLessThan(500);
  return (JSON.parse(text) as { id: unknown; error?: { code: number; message: string } }).error;
}

const message = (parts: unknown) => ({
  message: { messageId: 'm1', role: 'ROLE_USER', parts },
});

describe('A2A params that break the protocol', () => {
  it('refuses a message part that is null or no object with -32602 naming the part', async () => {
    for (const part of [null, 'text', 7, []]) {
      for (const method of ['SendMessage', 'SendStreamingMessage']) {
        const error = await rpcError(method, message([{ text: 'Hello' }, part]));
        expect(error?.code, JSON.stringify(error)).toBe(-32602);
        expect(error?.message).toMatch(/params\.message\.parts\[1\]/);
      }
    }
  });

  it('refuses params, a message or parts of the wrong kind, naming them', async () => {
    const cases: [unknown, RegExp][] = [
      [null, /params/],
      [{ message: null }, /params\.message/],
      [{ message: 'Hello' }, /params\.message/],
      [message(null), /params\.message\.parts/],
      [message({ text: 'Hello' }), /params\.message\.parts/],
    ];
    for (const [params, names] of cases) {
      const error = await rpcError('SendMessage', params);
      expect(error?.code, JSON.stringify(error)).toBe(-32602);
      expect(error?.message).toMatch(names);
    }
  });

  it('says a body that is JSON but no request object is no request, not that it is no JSON', async () => {
    for (const body of ['text', 7, null, [], [{ jsonrpc: '2.0', id: 1, method: 'GetTask' }]]) {
      const error = await postError(body);
      expect(error?.code, JSON.stringify(error)).toBe(-32600);
      expect(error?.message).toMatch(/JSON-RPC request object/);
      expect(error?.message).not.toMatch(/not valid JSON/);
    }
  });

  it('still takes a well-formed message', async () => {
    const error = await rpcError('SendMessage', {
      ...message([{ text: 'Survey\nEvery tram maker.' }]),
      configuration: { returnImmediately: true },
    });
    // No Chief of Staff here: refused as submitTask refuses, not as bad params.
    expect(error?.code ?? 0).not.toBe(-32602);
    expect(error?.code ?? 0).not.toBe(-32603);
  });
});
