import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { captureLogger } from './utils/log-capture.js';
import { startTestServer, type TestServer } from './utils/server.js';

// POST /documents with forms that end early: a client that drops mid-upload, or a hand-made
// body. Each is a 400 of its own; the process goes on serving (it crashed on the first one:
// busboy's "Unexpected end of form" reached a file stream nobody listened to).

let server: TestServer;
/** What would have ended an API process (vitest only reports it). */
const uncaught: unknown[] = [];
const record = (err: unknown) => uncaught.push(err);
const log = captureLogger('info');

beforeAll(async () => {
  server = await startTestServer(undefined, {}, undefined, {}, { logger: log.logger });
  process.on('uncaughtException', record);
});
afterAll(async () => {
  process.off('uncaughtException', record);
  await server.stop();
});

const post = async (body: string) => {
  const res = await fetch(`http://127.0.0.1:${server.port}/documents`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${server.adminKey}`,
      'content-type': 'multipart/form-data; boundary=xyz',
    },
    body,
  });
  return { status: res.status, body: (await res.json()) as { errors: { extensions: object }[] } };
};

const part = (name: string, extra = '') =>
  `--xyz\r\nContent-Disposition: form-data; name="${name}"${extra}\r\n` +
  'Content-Type: text/plain\r\n\r\n';

describe('POST /documents with a form that ends early', () => {
  it('answers 400 for a file part with no closing boundary, and serves the next request', async () => {
    for (const body of [
      `${part('file', '; filename="a.txt"')}Acme is big.`,
      `${part('title')}Notes\r\n${part('file', '; filename="a.txt"')}Acme`,
      `${part('file', '; filename="a.txt"')}`,
    ]) {
      const answer = await post(body);
      expect(answer.status).toBe(400);
      expect(answer.body.errors[0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    }
    const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    expect(health.status).toBe(200);
    expect(uncaught).toEqual([]);
  });
});

describe('POST /documents with a file in the wrong place', () => {
  // Regression (the routes fuzz): a file part with no field name was 'got a file in
  // "undefined"', and a second file 'got a file in "file"', the field the message asks for.
  it('says where the file was: a field with no name, another field, or a second file', async () => {
    const file = (name: string) => `${part(name, '; filename="a.txt"')}Acme\r\n`;
    const cases: [string, string][] = [
      [file(''), 'got a file in a field with no name'],
      [file('files'), 'got a file in "files"'],
      [file('file') + file('file'), 'got a second file'],
    ];
    for (const [body, said] of cases) {
      const answer = await post(`${body}--xyz--\r\n`);
      expect(answer.status).toBe(400);
      const [error] = answer.body.errors as { message: string; extensions: object }[];
      expect(error!.message).toBe(`Send exactly one file, in the field "file"; ${said}`);
    }
  });
});

describe('POST /documents from a client that goes away', () => {
  it('logs a client that drops mid-upload as a warning naming it, not as a server error', async () => {
    const seen = log.entries.length;
    const body = `${part('file', '; filename="a.txt"')}Acme is big. `;
    const socket = connect(server.port, '127.0.0.1');
    await new Promise((done) => socket.once('connect', done));
    socket.write(
      'POST /documents HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
        `Authorization: Bearer ${server.adminKey}\r\n` +
        'Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 100000\r\n\r\n' +
        body,
    );
    // The server reads the key before the body: leave it time to start on the file.
    await new Promise((done) => setTimeout(done, 500));
    socket.destroy();
    await expect
      .poll(() => log.entries.slice(seen).filter((e) => e.level >= 40).length, { timeout: 5000 })
      .toBeGreaterThan(0);
    const lines = log.entries.slice(seen).filter((e) => e.level >= 40);
    expect(lines.filter((e) => e.level >= 50)).toEqual([]);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/client went away/);
    expect(JSON.stringify(lines[0])).not.toContain('stack');
    expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
  });
});
