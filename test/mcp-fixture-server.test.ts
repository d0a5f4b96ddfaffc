import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMcpHttpFixture, type McpHttpFixture } from './utils/mcp-fixture-server.js';

// Walk: a request whose connection was reset mid-body made the fixture's body read throw
// 'aborted' in its request handler, an unhandled rejection that failed the test process.

let fixture: McpHttpFixture;

beforeAll(async () => {
  fixture = await startMcpHttpFixture();
});

afterAll(() => fixture?.close());

describe('the HTTP MCP fixture server', () => {
  it('lets a request go whose connection is reset mid-body, and answers the next', async () => {
    const unhandled: unknown[] = [];
    const note = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', note);
    try {
      const { port } = new URL(fixture.url);
      const socket = connect(Number(port), '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      socket.write(
        'POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          'Content-Length: 1000\r\n\r\n{"jsonrpc":',
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.resetAndDestroy();
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      process.off('unhandledRejection', note);
    }
    expect(unhandled).toEqual([]);
    const res = await fetch(fixture.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(200);
  });
});
