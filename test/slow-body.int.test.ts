import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';

const BODY_TIMEOUT_MS = 1_000;
const HEADERS_TIMEOUT_MS = 1_000;

interface Outcome {
  /** The raw response, possibly empty if the server only closed the socket. */
  response: string;
  /** Bytes of body the client had sent when the server answered or closed. */
  sent: number;
}

/**
 * Sends `head`, then one byte of `body` every 200 ms, and never finishes on its own: resolves
 * when the server answers and closes, or rejects after `giveUpMs` (the old server held such a
 * request for Node's 300 s default).
 */
function trickle(port: number, head: string, body: string, giveUpMs: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let response = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      reject(new Error(`the server still held the request after ${giveUpMs} ms`));
    }, giveUpMs);
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent < body.length && socket.writable) socket.write(body[sent++]!);
      }, 200);
    });
    socket.on('data', (chunk) => (response += chunk.toString()));
    socket.on('error', () => undefined); // a reset after the answer is fine
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ response, sent });
    });
  });
}

describe('slow clients', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(undefined, {
      bodyTimeoutMs: BODY_TIMEOUT_MS,
      headersTimeoutMs: HEADERS_TIMEOUT_MS,
    });
  });
  afterAll(() => server.stop());

  it('gets 408 and a closed socket for a body that trickles in (issue 9: held for 300 s)', async () => {
    const body = JSON.stringify({ query: '{ health { version } }' }).padEnd(500, ' ');
    const head =
      'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${body.length}\r\n\r\n`;
    const { response, sent } = await trickle(server.port, head, body, 20_000);
    expect(response).toMatch(/^HTTP\/1\.1 408/);
    expect(response).toContain('"code":"BODY_TIMEOUT"');
    // The answer came long before the body could have been complete.
    expect(sent).toBeLessThan(body.length);
  }, 120_000);

  it('gets 408 for headers that trickle in', async () => {
    const head = 'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n';
    const { response, sent } = await trickle(
      server.port,
      head,
      'X-Slow: '.padEnd(400, 'a'),
      20_000,
    );
    expect(response).toMatch(/^HTTP\/1\.1 408/);
    expect(sent).toBeLessThan(400);
  }, 120_000);

  it('still serves a request that arrives at once', async () => {
    const res = await server.gql('{ health { version } }');
    expect(res.status).toBe(200);
  });
});
