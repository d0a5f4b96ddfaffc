import { HumanMessage } from '@langchain/core/messages';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createChatModel } from '../src/llm/models.js';
import { type ChatRequest, type Reply, type ScriptedOpenAI } from './utils/openai-server.js';
import { NO_REPLY, llmOn, recordingLog, startScripted } from './utils/openai-requests-fixtures.js';

// A streamed call asks for its usage with `stream_options`, as OpenAI documents; some
// OpenAI-compatible servers (older Azure API versions, some local servers) refuse the field.
// On the real ChatOpenAI client against the scripted loopback server. No database.

let scripted: ScriptedOpenAI;
let replies: (req: ChatRequest, n: number) => Reply;
beforeEach(async () => {
  replies = NO_REPLY;
  scripted = await startScripted(() => replies);
});
afterEach(async () => {
  await scripted.close();
});

const REFUSAL = 'Unrecognized request argument supplied: stream_options';

async function streamed(log?: ReturnType<typeof recordingLog>['log']): Promise<string> {
  const model = createChatModel({ purpose: 'execution' }, llmOn(scripted), undefined, log);
  let text = '';
  for await (const chunk of await model.stream([new HumanMessage('Say hello.')])) {
    text += chunk.text;
  }
  return text;
}

describe('a server that refuses stream_options', () => {
  it('gets the streamed call again without it, says so once, and is remembered', async () => {
    replies = (req) => (req.stream_options ? { status: 400, error: REFUSAL } : { content: 'Hi.' });
    const { log, lines } = recordingLog();
    expect(await streamed(log)).toBe('Hi.');
    expect(scripted.requests.map((r) => [r.stream, r.stream_options ?? null])).toEqual([
      [true, { include_usage: true }],
      [true, null],
    ]);
    expect(lines).toEqual([
      `qwen2.5-3b-instruct at ${scripted.baseURL} refused stream_options; its streamed answers are asked for without usage, and their calls record the tokens it reports (none)`,
    ]);
    // The next call of the same model and server goes without it at once.
    expect(await streamed(log)).toBe('Hi.');
    expect(scripted.requests.slice(2).map((r) => r.stream_options ?? null)).toEqual([null]);
    expect(lines).toHaveLength(1);
  });

  it('still fails with other 400s as they are', async () => {
    replies = () => ({ status: 400, error: 'messages must not be empty' });
    await expect(streamed()).rejects.toThrow(/messages must not be empty/);
    expect(scripted.requests).toHaveLength(1);
  });

  it('keeps asking a server that takes it for usage', async () => {
    replies = () => ({ content: 'Hi.', usage: { prompt_tokens: 7, completion_tokens: 2 } });
    expect(await streamed()).toBe('Hi.');
    expect(scripted.requests.map((r) => r.stream_options)).toEqual([{ include_usage: true }]);
  });
});
