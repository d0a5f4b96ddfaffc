import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { unreflectedRuns } from '../graph/reflection.repository.js';
import { loadConfig } from '../src/config/config.js';
import { learnFrom, reflectionPass } from '../src/evolution/lessons/learn.js';
import { forgetStructuredModes } from '../src/llm/structured.js';
import { constructRuns, ensureCapability, evolutionContext } from './utils/lesson-history.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from './utils/openai-server.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { assertProviderRequest } from './utils/strict-schema.js';
import { DEFAULT_MAX_TOKENS } from '../src/llm/config.js';

// Reflection on the real ChatOpenAI client against the scripted loopback server (issue 12):
// one request on the reflection model, strict-schema valid, carrying the run and its feedback.

let server: TestServer;
let scripted: ScriptedOpenAI;

beforeAll(async () => {
  server = await startTestServer();
  scripted = await startScriptedOpenAI(() => ({
    json: {
      rule: 'State every weight in kg',
      rationale: 'The person asked for kilograms.',
      // Strict mode answers every property; the run followed no lesson to replace.
      replaces: [],
    },
    usage: { prompt_tokens: 200, completion_tokens: 20 },
  }));
});
afterAll(async () => {
  await scripted?.close();
  await server?.stop();
});
beforeEach(() => forgetStructuredModes());

describe('reflection against an OpenAI-compatible server', () => {
  it('sends one strict-schema valid request with the feedback, and saves the rule as a CANDIDATE lesson', async () => {
    await ensureCapability(server, 'shipping');
    const [runId] = await constructRuns(server, 'ship-crates', 'shipping', [
      {
        pass: false,
        comment: 'Weights came in pounds; we need kilograms.',
        title: 'Ship crates to Oslo',
      },
    ]);
    const llm = loadConfig({
      LLM_PROVIDER: 'compatible',
      LLM_BASE_URL: scripted.baseURL,
      LLM_MODEL: 'qwen2.5-3b-instruct',
      LLM_MODEL_REFLECTION: 'reflector-1',
      LLM_MAX_RETRIES: '0',
    }).llm;
    const [subject] = await server.graph.read((tx) => unreflectedRuns(tx, [server.tenantId], 10));
    expect(subject?.runId).toBe(runId);
    const learned = await learnFrom({ ...evolutionContext(server), llm }, subject!);
    expect(learned).toMatchObject({ kind: 'created', content: 'State every weight in kg.' });

    expect(scripted.requests).toHaveLength(1);
    const request = scripted.requests[0]!;
    expect(request.model).toBe('reflector-1');
    expect(assertProviderRequest(request, DEFAULT_MAX_TOKENS.reflection)).toBe(1);
    const asked = JSON.stringify(request.messages);
    expect(asked).toContain('Weights came in pounds; we need kilograms.');
    expect(asked).toContain('Ship crates to Oslo');

    // The call is recorded as a reflection of the tenant.
    const calls = await server.graph.read((tx) =>
      tx.run<{ purpose: string }>({
        cypher: `MATCH (c:LLMCall {tenantId: $tenantId, purpose: 'reflection'}) RETURN c.purpose AS purpose`,
        params: { tenantId: server.tenantId },
      }),
    );
    expect(calls).toHaveLength(1);
  });

  it('backs off a run whose reflection keeps failing, and gives it up after 3 tries', async () => {
    // A model that failed a run's reflection was asked again on every tick (5 s), forever:
    // 84 calls for one run in seven minutes against a broken server.
    const broken = await startScriptedOpenAI(() => ({ status: 500, error: 'down' }));
    try {
      await ensureCapability(server, 'shipping');
      const [runId] = await constructRuns(server, 'ship-pallets', 'shipping', [
        { pass: false, comment: 'Wrong port.', title: 'Ship pallets to Bergen' },
      ]);
      const llm = loadConfig({
        LLM_PROVIDER: 'compatible',
        LLM_BASE_URL: broken.baseURL,
        LLM_MODEL: 'broken-1',
        LLM_MAX_RETRIES: '0',
      }).llm;
      const ctx = { ...evolutionContext(server), llm };
      const tick = () => reflectionPass.run(ctx, new AbortController().signal);
      for (let i = 0; i < 3; i++) await tick();
      expect(broken.requests).toHaveLength(1); // not again before its backoff
      const state = () =>
        server.graph.read((tx) =>
          tx.run<{ skipped: boolean | null; due: boolean }>({
            cypher: `MATCH (r:Run {id: $runId, tenantId: $tenantId})
              RETURN r.reflectSkipped AS skipped, r.reflectionDueAt IS NOT NULL AS due`,
            params: { runId, tenantId: server.tenantId },
          }),
        );
      for (let i = 0; i < 4; i++) {
        // Its backoff passed.
        await server.graph.write((tx) =>
          tx.run({
            cypher: `MATCH (r:Run {id: $runId, tenantId: $tenantId}) WHERE r.reflectionDueAt IS NOT NULL
              SET r.reflectionDueAt = datetime() - duration('PT1S')`,
            params: { runId, tenantId: server.tenantId },
          }),
        );
        await tick();
      }
      expect(broken.requests).toHaveLength(3);
      expect(await state()).toEqual([{ skipped: true, due: false }]);
    } finally {
      await broken.close();
    }
  });
});
