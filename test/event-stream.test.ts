import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NotAnAnswerError, eventStreamChecking } from '../src/llm/event-stream.js';

// The check a platform model's fetch makes on its answers (src/llm/event-stream.ts).

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

const again = () => new Promise<void>((resolve) => server!.close(() => resolve()));

describe('a streamed answer with no server-sent event in it', () => {
  it('fails at its end with its content-type and first characters', async () => {
    const url = await answering('text/html', ['<html>\n  <body>Sign', ' in</body></html>']);
    const err = await (await ask(url)).text().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotAnAnswerError);
    expect(err).toMatchObject({
      contentType: 'text/html',
      head: '<html> <body>Sign in</body></html>',
    });
  });

  it('fails typed as events too, when empty, holding only comments or only the end', async () => {
    // It read as an empty answer: the model's, asked to repair a plan it never sent. `[DONE]`
    // only ends a stream: OpenAI's client reads no chunk in it.
    for (const chunks of [
      [],
      [': keep-alive\n\n', ': keep-alive\n\n\n'],
      ['\n\n'],
      ['data: [DONE]\n\n'],
      ['data:[DONE]'],
      [': hi\n\nda', 'ta: [DO', 'NE]\n\n'],
    ]) {
      const url = await answering('text/event-stream', chunks);
      const err = await (await ask(url)).text().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotAnAnswerError);
      expect(err).toMatchObject({ contentType: 'text/event-stream' });
      expect((err as Error).message).toMatch(/no server-sent event/);
      await again();
    }
  });

  it('fails a JSON answer to a streamed call, its body parsed only then', async () => {
    // A server that ignored `stream`: OpenAI's client found no event in it, an empty answer.
    const url = await answering('application/json', ['{"choices":[]}']);
    const err = await (await ask(url)).text().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotAnAnswerError);
    expect((err as Error).message).toMatch(/application\/json instead of server-sent events/);
  });

  it('passes events through under any content-type, even split across writes', async () => {
    for (const type of ['text/event-stream', 'text/plain']) {
      const url = await answering(type, [': hi\n\nda', 'ta: {"a":1}\n\ndata: [DONE]\n\n']);
      expect(await (await ask(url)).text()).toBe(': hi\n\ndata: {"a":1}\n\ndata: [DONE]\n\n');
      await again();
    }
    // A chunk whose line the end of the body cuts (no newline after it) is one too.
    const url = await answering('text/event-stream', [': hi\n\ndata: {"a"', ':1}']);
    expect(await (await ask(url)).text()).toBe(': hi\n\ndata: {"a":1}');
  });
});

describe('an answer not streamed that is not JSON', () => {
  it('fails at its end with its content-type and first characters, not all of them', async () => {
    // OpenAI's client handed the page to LangChain as text: "Cannot read properties of
    // undefined (reading 'message')", a permanent failure naming nothing.
    const page = `<!DOCTYPE html>\n<html><body>Bad gateway${' padding'.repeat(1000)}</body></html>`;
    const url = await answering('text/html; charset=utf-8', [page]);
    const err = await (await ask(url, false)).text().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotAnAnswerError);
    expect(err).toMatchObject({ contentType: 'text/html; charset=utf-8' });
    expect((err as { head: string }).head).toMatch(/^<!DOCTYPE html> <html><body>Bad gateway/);
    expect((err as { head: string }).head.length).toBeLessThanOrEqual(120);
    expect((err as Error).message).toMatch(/instead of JSON/);
  });

  it('leaves a JSON answer with a choice alone, and one that does not parse', async () => {
    const completion = '{"id":"c1","choices":[{"index":0,"message":{"content":""}}]}';
    for (const body of [completion, '{"id":"c1","choi']) {
      const url = await answering('application/json', [body.slice(0, 9), body.slice(9)]);
      expect(await (await ask(url, false)).text()).toBe(body);
      await again();
    }
  });
});

describe('an answer not streamed that is JSON with no choice in it', () => {
  it.each([
    ['nothing', '', ''],
    ['null', 'null', 'null'],
    ['an object without choices', '{"id": "c1",\n "object": "chat.completion"}', '{"id": "c1",'],
    ['no choice', '{"id":"c1","choices":[]}', '{"id":"c1","choices":[]}'],
    ['an error in a 200', '{"error":{"message":"upstream down"}}', '{"error":{"message":"up'],
  ])('fails at its end, quoting it (%s)', async (_, body, head) => {
    // OpenAI's client handed it to LangChain as it was: "Cannot read properties of undefined",
    // a permanent failure naming nothing.
    const url = await answering('application/json', [body]);
    const err = await (await ask(url, false)).text().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotAnAnswerError);
    expect(err).toMatchObject({ contentType: 'application/json', expected: 'choices' });
    expect((err as { head: string }).head.startsWith(head.replace(/\s+/g, ' '))).toBe(true);
    expect((err as Error).message).toMatch(/^answered with application\/json but no choices, /);
  });

  it('is left alone from other endpoints than chat completions', async () => {
    const url = await answering('application/json', ['null']);
    const other = url.replace('/chat/completions', '/responses');
    expect(await (await ask(other, false)).text()).toBe('null');
  });
});

describe('which answers the check reads the request for', () => {
  it('parses no request body for an event stream, nor for a JSON answer not streamed', async () => {
    // Every streamed request's body was parsed again to learn whether it streamed.
    const body = JSON.stringify({ stream: true, messages: [{ content: '"stream": false' }] });
    const events = await answering('text/event-stream', ['data: {}\n\n']);
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const res = await eventStreamChecking()(events, { method: 'POST', body });
      await res.text();
      await again();
      const json = await answering('application/json', ['{"choices":[{}]}']);
      const unstreamed = JSON.stringify({ stream: false, messages: [] });
      await (await eventStreamChecking()(json, { method: 'POST', body: unstreamed })).text();
      // (undici parses its own settings.)
      const parsed = parse.mock.calls.map(([text]) => text);
      expect(parsed).not.toContain(body);
      expect(parsed).not.toContain(unstreamed);
    } finally {
      parse.mockRestore();
    }
  });
});
