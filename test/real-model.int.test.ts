import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectGraph, type Graph } from '../graph/graph.js';
import { runSmoke, type SmokeCheck } from '../src/cli/real-model-checks.js';
import { loadConfig } from '../src/config/config.js';
import { purposeIn } from '../src/llm/routing.js';
import { createLogger } from '../src/logger.js';
import {
  startScriptedOpenAI,
  type ChatMessage,
  type ChatRequest,
  type Reply,
  type ScriptedOpenAI,
} from './utils/openai-server.js';
import { runEntry } from './utils/process.js';

// `npm run test:real-model` (src/cli/real-model.ts) against the scripted OpenAI server: a model
// that plans, calls a tool, answers, streams and reports usage passes every check; the same
// model with no price fails the cost check and says what to set.

const text = (m: ChatMessage): string =>
  typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join('');
const purposeOf = (req: ChatRequest) =>
  purposeIn(
    req.messages
      .filter((m) => m.role === 'system' || m.role === 'developer')
      .map(text)
      .join('\n'),
  );
const usage = { prompt_tokens: 50, completion_tokens: 5 };

function model(req: ChatRequest): Reply {
  switch (purposeOf(req)) {
    case 'planning':
      return {
        json: {
          steps: [
            {
              key: 'colours',
              title: 'Name the primary colours',
              instructions: 'Search, then name three primary colours.',
              capability: 'research',
              dependsOn: [],
              output: 'One sentence',
              condition: null,
            },
          ],
        },
        usage,
      };
    case 'execution':
      return req.messages.some((m) => m.role === 'tool')
        ? { content: 'Red, yellow and blue.', usage }
        : { toolCalls: [{ name: 'search_knowledge', args: { query: 'colours' } }], usage };
    case 'extraction':
      return { json: { items: [] }, usage };
    case 'synthesis':
      return { content: 'The primary colours are red, yellow and blue.', usage };
    case 'chat':
      return { content: 'Hello there, nice to meet!', usage };
    default:
      return { content: 'ok', usage };
  }
}

describe('npm run test:real-model', { timeout: 120_000 }, () => {
  let scripted: ScriptedOpenAI;
  let graph: Graph;
  const logger = createLogger('silent');

  const smoke = (prices: object | null) => {
    const config = loadConfig({
      LLM_PROVIDER: 'compatible',
      LLM_BASE_URL: scripted.baseURL,
      LLM_MODEL: 'smoke-model',
      LLM_MAX_RETRIES: '0',
      ...(prices ? { LLM_PRICES: JSON.stringify(prices) } : {}),
    });
    return runSmoke({ config, graph, logger, timeoutMs: 60_000 });
  };
  const line = (checks: SmokeCheck[], name: string) => checks.find((c) => c.name === name);
  const smokeNodes = async () => {
    const [row] = await graph.read((tx) =>
      tx.run<{ n: number }>({
        cypher: `MATCH (n) WHERE n.tenantId STARTS WITH 'smoke-' OR (n:Tenant AND n.id STARTS WITH 'smoke-')
                 RETURN count(n) AS n`,
        params: {},
      }),
    );
    return row!.n;
  };

  beforeAll(async () => {
    scripted = await startScriptedOpenAI(model);
    graph = await connectGraph(inject('neo4j'), { log: () => {}, attempts: 3 });
  });
  afterAll(async () => {
    await scripted?.close();
    await graph?.close();
  });

  it('passes every check against a model that plans, calls tools, streams and reports usage', async () => {
    const checks = await smoke({ 'smoke-model': { input: 1, output: 2 } });
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ['plan', true],
      ['step with a tool call', true],
      ['workflow completes', true],
      ['step streaming', true],
      ['chat', true],
      ['usage recorded', true],
      ['cost recorded', true],
    ]);
    expect(line(checks, 'step with a tool call')!.detail).toContain('search_knowledge');
    expect(line(checks, 'chat')!.detail).toContain('Hello there');
    // Every request reported 50 + 5 tokens at $1/$2 per 1M: the figures are exact.
    const calls = scripted.requests.length;
    expect(line(checks, 'usage recorded')!.detail).toContain(
      `${calls} call(s) to smoke-model: ${calls * 50} prompt + ${calls * 5} completion tokens`,
    );
    expect(line(checks, 'cost recorded')!.detail).toContain(`$${((calls * 60) / 1e6).toFixed(6)}`);
    expect(await smokeNodes()).toBe(0);
  });

  it('fails the cost check of an unpriced model and names the LLM_PRICES entry to add', async () => {
    const checks = await smoke(null);
    expect(line(checks, 'usage recorded')!.ok).toBe(true);
    expect(line(checks, 'cost recorded')).toMatchObject({
      ok: false,
      detail: expect.stringContaining(`LLM_PRICES='{"smoke-model"`),
    });
    expect(await smokeNodes()).toBe(0);
  });

  it('refuses a base URL carrying credentials, without repeating them', async () => {
    const neo4j = inject('neo4j');
    const cli = runEntry('src/cli/real-model.ts', {
      NEO4J_URI: neo4j.uri,
      NEO4J_USER: neo4j.user,
      NEO4J_PASSWORD: neo4j.password,
      NEO4J_DATABASE: neo4j.database,
      LLM_PROVIDER: 'compatible',
      LLM_BASE_URL: scripted.baseURL.replace('//', '//smoke:s3cret@'),
      LLM_MODEL: 'smoke-model',
      LLM_MAX_RETRIES: '0',
      REAL_MODEL_TIMEOUT_MS: '20000',
      LOG_LEVEL: 'silent',
    });
    // fetch refuses such a URL: every call failed, each failure repeating the password.
    await cli.exited;
    expect(cli.output()).toMatch(/LLM_BASE_URL must not carry user:password@/);
    expect(cli.output()).not.toContain('s3cret');
    expect(await smokeNodes()).toBe(0);
  });
});
