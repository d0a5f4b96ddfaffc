import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NotEventStreamError, eventStreamChecking } from '../src/llm/event-stream.js';

// The check a platform model's fetch makes on streamed answers (src/llm/event-stream.ts).

let server: Server | undefined;
afterEach(
  () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
);

/** A loopback server answering 200 with `type` and `chunks`, each written apart. */
async function answering(type: string, chunks: string[]): Promise<string> {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': type });
    const next = (i: number): void => {
      if (i === chunks.length) return void res.end();
      res.write(chunks[i], () => setTimeout(() => next(i + 1), 5));
    };
    next(0);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
}

const ask = (url: string, stream = true) =>
  eventStreamChecking()(url, { method: 'POST', body: JSON.stringify({ stream }) });

describe('a streamed answer that is not server-sent events', () => {
  it('fails at its end with its content-type and first characters', async () => {
    const url = await answering('text/html', ['<html>\n  <body>Sign', ' in</body></html>']);
    const err = await (await ask(url)).text().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotEventStreamError);
    expect(err).toMatchObject({
      contentType: 'text/html',
      head: '<html> <body>Sign in</body></html>',
    });
  });

  it('passes events through under another content-type, even split across writes', async () => {
    const url = await answering('text/plain', ['da', 'ta: {"a":1}\n\ndata: [DONE]\n\n']);
    expect(await (await ask(url)).text()).toBe('data: {"a":1}\n\ndata: [DONE]\n\n');
  });

  it('leaves an answer typed as events, and a call not streamed, alone', async () => {
    const events = await answering('text/event-stream', ['<html></html>']);
    expect(await (await ask(events)).text()).toBe('<html></html>');
    server!.close();
    const json = await answering('text/html', ['<html></html>']);
    expect(await (await ask(json, false)).text()).toBe('<html></html>');
  });
});
