import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatOpenAI, type ChatOpenAIFields } from '@langchain/openai';
import type { AIMessageChunk } from '@langchain/core/messages';
import { SystemMessage, HumanMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { startScriptedOpenAI, type ScriptedOpenAI } from './utils/openai-server.js';

// The real @langchain/openai 1.6 client (openai SDK 7 underneath) against the loopback server.
// What the client does, as observed here:
// - ChatOpenAI uses Chat Completions (not the Responses API) for gpt-4o-mini.
// - The SDK's own retries are off (LangChain passes maxRetries: 0 to it); LangChain's AsyncCaller
//   retries with p-retry: 1-2 s then doubling, or longer if retry-after says so.
// - HTTP errors are the openai SDK's APIError subclasses (RateLimitError, InternalServerError,
//   BadRequestError...) with `status`, `code`, `type`, `error` (the body's error object), `headers`.
//   Their `name` is plain 'Error' unless LangChain renames it; classify by `status`.
// - 429 WITHOUT retry-after (nor "try again in Ns" in its message) is NOT retried: it is thrown at
//   once, renamed 'RateLimitCapacityError', with lc_error_code 'MODEL_RATE_LIMIT' and
//   rateLimitType 'capacity'. With retry-after <= 60 s it waits and retries.
// - 5xx is retried; with maxRetries 0 it throws InternalServerError { status: 500, code: null }.
// - A timeout throws a plain Error named 'TimeoutError', message 'Request timed out.', no status;
//   it is marked retryable, so with maxRetries > 0 the request is sent again.
// - A malformed 200 body throws SyntaxError (no status), and is retried when maxRetries > 0.
// - withStructuredOutput defaults to method 'jsonSchema' for gpt-4o-mini (any model not gpt-3*,
//   gpt-4-*, gpt-4): response_format json_schema named 'extract', strict, parsed from the content.

let server: ScriptedOpenAI;
beforeEach(async () => {
  server = await startScriptedOpenAI();
});
afterEach(async () => {
  await server.close();
});

function model(fields: ChatOpenAIFields = {}): ChatOpenAI {
  return new ChatOpenAI({
    model: 'gpt-4o-mini',
    apiKey: 'test-key',
    configuration: { baseURL: server.baseURL },
    ...fields,
  });
}

async function caught(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as Record<string, unknown>;
  }
  throw new Error('expected the call to throw, but it resolved');
}

const weather = tool(async ({ city }) => `Sunny in ${city}`, {
  name: 'get_weather',
  description: 'Current weather for a city',
  schema: z.object({ city: z.string(), days: z.number().optional() }),
});

const Ticket = z.object({ title: z.string(), priority: z.number(), tags: z.array(z.string()) });
const ticket = { title: 'Fix login', priority: 2, tags: ['auth', 'bug'] };

describe('scripted OpenAI server with the real ChatOpenAI client', () => {
  it('answers invoke with the scripted content and usage', async () => {
    server.enqueue({ content: 'Hello there', usage: { prompt_tokens: 11, completion_tokens: 7 } });
    const reply = await model().invoke('hi');
    expect(reply.content).toBe('Hello there');
    expect(reply.usage_metadata).toMatchObject({
      input_tokens: 11,
      output_tokens: 7,
      total_tokens: 18,
    });
    expect(reply.response_metadata).toMatchObject({
      model_name: 'gpt-4o-mini',
      finish_reason: 'stop',
      system_fingerprint: 'fp_scripted',
    });
  });

  it('computes the same default usage for the same exchange', async () => {
    server.enqueue({ content: 'Twelve chars' }, { content: 'Twelve chars' });
    const [a, b] = [await model().invoke('same prompt'), await model().invoke('same prompt')];
    expect(a.usage_metadata).toEqual(b.usage_metadata);
    expect(a.usage_metadata).toMatchObject({ output_tokens: 3 });
  });

  it('streams the scripted text in several chunks and ends with usage', async () => {
    const text = 'Streaming works across several small chunks.';
    server.enqueue({ content: text, usage: { prompt_tokens: 5, completion_tokens: 9 } });
    const chunks: AIMessageChunk[] = [];
    for await (const chunk of await model().stream('go')) chunks.push(chunk);
    expect(chunks.map((c) => c.content).join('')).toBe(text);
    expect(chunks.filter((c) => c.content !== '').length).toBeGreaterThan(3);
    const usage = chunks.map((c) => c.usage_metadata).find((u) => u !== undefined);
    expect(usage).toMatchObject({ input_tokens: 5, output_tokens: 9, total_tokens: 14 });
    expect(server.requests[0]).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('returns scripted tool calls with parsed args, invoked and streamed', async () => {
    const call = { name: 'get_weather', args: { city: 'Paris', days: 3 } };
    server.enqueue({ toolCalls: [call] }, { toolCalls: [call] });
    const bound = model().bindTools([weather]);

    const reply = await bound.invoke('weather in Paris?');
    expect(reply.tool_calls).toEqual([{ ...call, id: 'call_0_0', type: 'tool_call' }]);

    let streamed: AIMessageChunk | undefined;
    for await (const chunk of await bound.stream('again')) {
      streamed = streamed ? streamed.concat(chunk) : chunk;
    }
    expect(streamed?.tool_calls).toEqual([{ ...call, id: 'call_1_0', type: 'tool_call' }]);
  });

  it('parses structured output with the default json_schema method', async () => {
    server.enqueue({ json: ticket });
    expect(await model().withStructuredOutput(Ticket).invoke('file a ticket')).toEqual(ticket);
    const sent = server.requests[0];
    expect(sent?.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'extract', strict: true },
    });
    expect(sent?.tools).toBeUndefined();
  });

  it('parses structured output with method functionCalling from a forced tool call', async () => {
    server.enqueue({ toolCalls: [{ name: 'extract', args: ticket }] });
    const structured = model().withStructuredOutput(Ticket, { method: 'functionCalling' });
    expect(await structured.invoke('file a ticket')).toEqual(ticket);
    const sent = server.requests[0];
    expect(sent?.tool_choice).toEqual({ type: 'function', function: { name: 'extract' } });
    expect(sent?.tools?.map((t) => t.function.name)).toEqual(['extract']);
  });

  it('retries a 429 that carries retry-after, then succeeds', async () => {
    server.enqueue({ status: 429, retryAfter: 0 }, { content: 'after the wait' });
    const reply = await model({ maxRetries: 2 }).invoke('hi');
    expect(reply.content).toBe('after the wait');
    expect(server.requests).toHaveLength(2);
  });

  it('does not retry a 429 without retry-after: RateLimitCapacityError, status 429', async () => {
    server.enqueue({ status: 429 }, { content: 'never fetched' });
    const err = await caught(model({ maxRetries: 2 }).invoke('hi'));
    expect(err).toMatchObject({
      name: 'RateLimitCapacityError',
      status: 429,
      code: 'rate_limit_exceeded',
      lc_error_code: 'MODEL_RATE_LIMIT',
      rateLimitType: 'capacity',
    });
    expect(server.requests).toHaveLength(1);
  });

  it('throws a 500 with status 500 when retries are off', async () => {
    server.enqueue({ status: 500, error: 'boom' });
    const err = await caught(model({ maxRetries: 0 }).invoke('hi'));
    expect(err.constructor.name).toBe('InternalServerError');
    expect(err).toMatchObject({ status: 500, code: null, type: 'server_error' });
    expect(err.message).toBe('500 boom');
  });

  it('times out a slow reply with a TimeoutError', async () => {
    // The reply would come after 20 s; the 200 ms timeout must end the call long before it.
    // (The margin is 100 times the timeout, so a loaded machine keeps it.)
    server.enqueue({ delayMs: 20_000, then: { content: 'too late' } });
    const started = performance.now();
    const err = await caught(model({ maxRetries: 0, timeout: 200 }).invoke('hi'));
    expect(err).toMatchObject({ name: 'TimeoutError', message: 'Request timed out.' });
    expect(err.status).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('throws rather than hangs on a malformed body', async () => {
    server.enqueue({ raw: '{"choices": [' }, { raw: 'data: {"choices": [\n\n' });
    const err = await caught(model({ maxRetries: 0 }).invoke('hi'));
    expect(err).toBeInstanceOf(SyntaxError);
    expect(err.status).toBeUndefined();
    // The SDK logs the unparsable SSE line through its logger (console) before throwing.
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const streaming = (async () => {
      for await (const _ of await model({ maxRetries: 0 }).stream('hi'));
    })();
    expect(await caught(streaming)).toMatchObject({
      name: 'SyntaxError',
      message: 'Error reading response: malformed server-sent event JSON.',
    });
    log.mockRestore();
  });

  it('records the messages and tools the client sent', async () => {
    server.enqueue({ content: 'ok' });
    await model()
      .bindTools([weather])
      .invoke([new SystemMessage('You are the planner.'), new HumanMessage('Plan the week')]);
    const [sent] = server.requests;
    expect(sent?.model).toBe('gpt-4o-mini');
    expect(sent?.messages).toEqual([
      { role: 'system', content: 'You are the planner.' },
      { role: 'user', content: 'Plan the week' },
    ]);
    expect(sent?.tools?.[0]?.function).toMatchObject({
      name: 'get_weather',
      description: 'Current weather for a city',
    });
  });

  it('plays a script function, and answers unknown routes and an empty script with errors', async () => {
    const scripted = await startScriptedOpenAI((req, n) => ({ content: `#${n} ${req.model}` }));
    try {
      const reply = await model({ configuration: { baseURL: scripted.baseURL } }).invoke('hi');
      expect(reply.content).toBe('#0 gpt-4o-mini');
    } finally {
      await scripted.close();
    }
    const notFound = await fetch(`${server.baseURL}/embeddings`, { method: 'POST', body: '{}' });
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    const err = await caught(model({ maxRetries: 0 }).invoke('hi'));
    expect(err).toMatchObject({ status: 400, code: 'script_exhausted' });
  });
});
