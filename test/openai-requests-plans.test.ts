import { HumanMessage } from '@langchain/core/messages';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_TOKENS } from '../src/llm/config.js';
import { createChatModel } from '../src/llm/models.js';
import { type ChatRequest, type Reply, type ScriptedOpenAI } from './utils/openai-server.js';
import { assertProviderRequest } from './utils/strict-schema.js';
import {
  NO_REPLY,
  startScripted,
  llmOn,
  PLAN,
  INVALID_PLAN,
  planOn,
  text,
  lastText,
  type Log,
  recordingLog,
} from './utils/openai-requests-fixtures.js';

// What the platform's model layer sends to an OpenAI-compatible server and how it takes the
// answers of weak local models (issue 10, "Real models"), on the real ChatOpenAI client against
// the scripted loopback server. No database. Here: the plan request and structured output
// (openai-requests-tools.test.ts: tool calls, timeouts, withConfig, aborts).

let scripted: ScriptedOpenAI;
let replies: (req: ChatRequest, n: number) => Reply;
beforeEach(async () => {
  replies = NO_REPLY;
  scripted = await startScripted(() => replies);
});
afterEach(async () => {
  await scripted.close();
});

const llmOf = (env?: Record<string, string>) => llmOn(scripted, env);
const plan = (env?: Record<string, string>, log?: Log) => planOn(scripted, env, log);

describe('the plan request', () => {
  it('sends a plan schema that is valid under OpenAI strict rules', async () => {
    replies = () => ({ json: PLAN });
    const { steps } = await plan();
    expect(steps.map((s) => s.key)).toEqual(['research', 'write']);
    expect(scripted.requests).toHaveLength(1);
    const [request] = scripted.requests;
    expect(request!.response_format?.type).toBe('json_schema');
    expect(request!.response_format?.json_schema).toMatchObject({ name: 'plan', strict: true });
    expect(assertProviderRequest(request!, DEFAULT_MAX_TOKENS.planning)).toBe(1);
  });

  it('sends a max_tokens budget on every call, per purpose and configurable', async () => {
    replies = () => ({ json: PLAN });
    await plan();
    await plan({ LLM_MAX_TOKENS_PLANNING: '777' });
    expect(scripted.requests.map((r) => r.max_tokens)).toEqual([DEFAULT_MAX_TOKENS.planning, 777]);
    replies = () => ({ content: 'An answer.' });
    for (const purpose of ['execution', 'synthesis', 'chat', 'extraction'] as const) {
      await createChatModel({ purpose }, llmOf()).invoke([new HumanMessage('Hello')]);
      expect(scripted.requests.at(-1)!.max_tokens, purpose).toBe(DEFAULT_MAX_TOKENS[purpose]);
    }
  });

  it("sends OpenAI's reasoning models max_completion_tokens and no temperature they refuse", async () => {
    // As OpenAI answers o-series and gpt-5 models sent what only other models take.
    replies = (req) => {
      if ('max_tokens' in req)
        return { status: 400, error: "Unsupported parameter: 'max_tokens' is not supported" };
      if ('temperature' in req && req.temperature !== 1)
        return { status: 400, error: "Unsupported value: 'temperature' does not support 0.2" };
      return { content: 'An answer.' };
    };
    for (const model of ['gpt-5-mini', 'o4-mini']) {
      const llm = llmOf({ LLM_MODEL: model });
      // An agent version's temperature (issue 12), which these models cannot take.
      const reply = await createChatModel({ purpose: 'chat', temperature: 0.2 }, llm).invoke('Hi');
      expect(reply.text, model).toBe('An answer.');
      expect(assertProviderRequest(scripted.requests.at(-1)!, DEFAULT_MAX_TOKENS.chat)).toBe(0);
    }
    // Other models keep the temperature they were given.
    replies = () => ({ content: 'An answer.' });
    await createChatModel({ purpose: 'chat', temperature: 0.2 }, llmOf()).invoke('Hi');
    expect(scripted.requests.at(-1)).toMatchObject({ temperature: 0.2, max_tokens: 2048 });
  });

  // A review of 2026-12-06: names with a vendor prefix (OpenRouter's openai/o4-mini, a
  // gateway's openai/gpt-5) were sent the temperature their model refuses.
  it('sends no temperature to a reasoning model named with its vendor', async () => {
    replies = (req) =>
      'temperature' in req && req.temperature !== 1
        ? { status: 400, error: "Unsupported value: 'temperature' does not support 0.2" }
        : { content: 'An answer.' };
    for (const model of ['openai/o4-mini', 'openai/gpt-5', 'openai/gpt-5-chat']) {
      const llm = llmOf({ LLM_MODEL: model });
      const call = createChatModel({ purpose: 'chat', temperature: 0.2 }, llm).invoke('Hi');
      if (model.endsWith('-chat')) await expect(call, model).rejects.toThrow(/temperature/);
      else expect((await call).text, model).toBe('An answer.');
    }
  });

  it('repair prompt shows the model the plan it rejected', async () => {
    let n = 0;
    replies = () => ({ json: n++ === 0 ? INVALID_PLAN : PLAN });
    await plan();
    expect(scripted.requests).toHaveLength(2);
    // The repair is asked for as strictly as the plan.
    expect(assertProviderRequest(scripted.requests[1]!, DEFAULT_MAX_TOKENS.planning)).toBe(1);
    const repair = lastText(scripted.requests[1]!);
    expect(repair).toContain('Your plan cannot be used');
    expect(repair).toContain('depends on "nope"');
    expect(repair).toContain('Your answer was:');
    expect(repair).toContain('"dependsOn":["nope"]');
  });

  it('treats a plan cut off at max_tokens as invalid and shows the model where it stopped', async () => {
    const cut = JSON.stringify(PLAN).slice(0, 60);
    let n = 0;
    replies = () =>
      n++ === 0 ? { content: cut, finishReason: 'length' } : { json: PLAN, finishReason: 'stop' };
    const { log, lines } = recordingLog();
    const { steps } = await plan({}, log);
    expect(steps).toHaveLength(2);
    const repair = lastText(scripted.requests[1]!);
    expect(repair).toContain('cut off at the max_tokens limit');
    expect(repair).toContain(cut);
    expect(lines).toContain(
      `qwen2.5-3b-instruct at ${scripted.baseURL} was cut off at max_tokens (4096) for planning; if answers need more, raise LLM_MAX_TOKENS_PLANNING`,
    );
  });

  it('logs a text answer cut off at max_tokens with the setting to raise', async () => {
    replies = () => ({ content: 'la la la la', finishReason: 'length' });
    const { log, lines } = recordingLog();
    const llm = llmOf({ LLM_MAX_TOKENS_SYNTHESIS: '64' });
    await createChatModel({ purpose: 'synthesis' }, llm, undefined, log).invoke('Write.');
    expect(lines).toEqual([
      `qwen2.5-3b-instruct at ${scripted.baseURL} was cut off at max_tokens (64) for synthesis; if answers need more, raise LLM_MAX_TOKENS_SYNTHESIS`,
    ]);
    expect(scripted.requests[0]!.max_tokens).toBe(64);
  });

  it('shows a long rejected answer by its start and its end', async () => {
    const junk = `{"steps": "${'la '.repeat(3000)}"}`;
    let n = 0;
    replies = () => (n++ === 0 ? { content: junk } : { json: PLAN });
    await plan();
    const repair = lastText(scripted.requests[1]!);
    expect(repair).toContain(junk.slice(0, 3000));
    expect(repair).toContain('characters left out');
    expect(repair).toContain(junk.slice(-500));
    expect(repair.length).toBeLessThan(junk.length);
  });
});

describe('a server without strict structured output', () => {
  const refuses =
    (...refused: Array<'json_schema' | 'tools'>) =>
    (req: ChatRequest): Reply | undefined => {
      if (refused.includes('json_schema') && req.response_format?.type === 'json_schema')
        return {
          status: 400,
          error: "Unsupported parameter: 'response_format' of type json_schema",
        };
      if (refused.includes('tools') && req.tools)
        return { status: 400, error: 'This model does not support tools' };
      return undefined;
    };

  it('falls back to function calling when json_schema is refused, and remembers it', async () => {
    const refuse = refuses('json_schema');
    replies = (req) =>
      refuse(req) ?? (req.tools ? { toolCalls: [{ name: 'plan', args: PLAN }] } : { status: 400 });
    const { log, lines } = recordingLog();
    expect((await plan({}, log)).steps).toHaveLength(2);
    expect((await plan({}, log)).steps).toHaveLength(2);
    const kinds = scripted.requests.map((r) => (r.tools ? 'tools' : r.response_format?.type));
    expect(kinds).toEqual(['json_schema', 'tools', 'tools']);
    const forced = scripted.requests[1]!;
    expect(forced.tool_choice).toEqual({ type: 'function', function: { name: 'plan' } });
    expect(assertProviderRequest(forced, DEFAULT_MAX_TOKENS.planning)).toBe(1);
    expect(lines).toContain(
      `structured output: qwen2.5-3b-instruct at ${scripted.baseURL} refused json_schema; trying function_calling`,
    );
    expect(lines).toContain(
      `structured output: qwen2.5-3b-instruct at ${scripted.baseURL} answers in function_calling`,
    );
  });

  it('falls back to JSON mode with the schema in the prompt when tools are refused too', async () => {
    const refuse = refuses('json_schema', 'tools');
    replies = (req) =>
      refuse(req) ?? { content: `Here is the plan:\n\`\`\`json\n${JSON.stringify(PLAN)}\n\`\`\`` };
    expect((await plan()).steps).toHaveLength(2);
    const last = scripted.requests.at(-1)!;
    expect(last.response_format).toEqual({ type: 'json_object' });
    expect(last.tools).toBeUndefined();
    const system = last.messages.filter((m) => m.role === 'system');
    expect(system).toHaveLength(1);
    expect(text(system[0])).toContain('matches this JSON Schema');
    expect(text(system[0])).toContain('"dependsOn"');
  });

  it('takes a plan written as text when the server ignores the forced tool', async () => {
    replies = () => ({ content: JSON.stringify(PLAN) });
    const { steps } = await plan({ LLM_STRUCTURED_OUTPUT: 'function_calling' });
    expect(steps).toHaveLength(2);
    expect(scripted.requests[0]!.tools?.[0]?.function.name).toBe('plan');
  });

  it('does not fall back when a mode is configured', async () => {
    replies = (req) => refuses('json_schema')(req) ?? { json: PLAN };
    await expect(plan({ LLM_STRUCTURED_OUTPUT: 'json_schema' })).rejects.toMatchObject({
      status: 400,
    });
    expect(scripted.requests).toHaveLength(1);
  });
});
