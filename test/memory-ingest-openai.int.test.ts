import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as ingestRepo from '../graph/memory/ingest.repository.js';
import { EpisodeKind, MemoryScope } from '../src/domain/memory.js';
import { loadConfig } from '../src/config/config.js';
import { forgetStructuredModes } from '../src/llm/structured.js';
import { IngestionQueue } from '../src/memory/ingest/queue.js';
import { queueEpisode } from '../src/memory/memory.service.js';
import {
  startScriptedOpenAI,
  type ChatRequest,
  type Reply,
  type ScriptedOpenAI,
} from './utils/openai-server.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { assertProviderRequest } from './utils/strict-schema.js';
import { DEFAULT_MAX_TOKENS } from '../src/llm/config.js';

// Memory ingestion's model calls on the real ChatOpenAI client against the scripted loopback
// server (issue 11): the extraction request passes OpenAI's strict structured-output rules and
// shows the known neighbourhood; a failing model is retried with backoff, then FAILED.

let server: TestServer;
let scripted: ScriptedOpenAI;
let reply: (req: ChatRequest) => Reply;

beforeAll(async () => {
  server = await startTestServer();
  scripted = await startScriptedOpenAI((req) => reply(req));
});
afterAll(async () => {
  await scripted.close();
  await server.stop();
});
beforeEach(() => forgetStructuredModes());

const llm = () =>
  loadConfig({
    LLM_PROVIDER: 'compatible',
    LLM_BASE_URL: scripted.baseURL,
    LLM_MODEL: 'qwen2.5-3b-instruct',
    LLM_MAX_RETRIES: '0',
  }).llm;

const note = (content: string) =>
  server.services.uow.run((tx) =>
    queueEpisode(tx, server.tenantId, {
      kind: EpisodeKind.NOTE,
      sourceKey: `note:${randomUUID()}`,
      source: 'a test note',
      content,
      occurredAt: null,
      scope: MemoryScope.TENANT,
      scopeId: null,
    }),
  );

const episode = async (id: string) =>
  (
    await server.graph.read((tx) =>
      tx.run<{ status: string; modelCalls: number; attempts: number; error: string | null }>({
        cypher: `MATCH (e:Episode {tenantId: $tenantId, id: $id})
                 RETURN e.status AS status, e.modelCalls AS modelCalls, e.attempts AS attempts, e.error AS error`,
        params: { tenantId: server.tenantId, id },
      }),
    )
  )[0]!;

function queue(extra: Partial<ConstructorParameters<typeof IngestionQueue>[0]> = {}) {
  return new IngestionQueue({
    uow: server.services.uow,
    llm: llm(),
    logger: server.logger,
    similarity: 0.85,
    tenantIds: [server.tenantId],
    ...extra,
  });
}

describe('memory ingestion against an OpenAI-compatible server', () => {
  it('sends one extraction request that passes strict structured-output rules, with the known entities', async () => {
    const umbrella = {
      entities: [
        { name: 'Umbrella Corp', type: 'Organisation', summary: 'A pharmaceutical firm.' },
      ],
      facts: [
        {
          subject: 'Umbrella Corp',
          predicate: 'ceo',
          object: 'Albert Wesker',
          value: 'Albert Wesker',
          validFrom: '2026-01-01',
          confidence: 0.9,
        },
      ],
    };
    reply = () => ({ json: umbrella, usage: { prompt_tokens: 120, completion_tokens: 40 } });
    const first = await note('Umbrella Corp named Albert Wesker its CEO on 2026-01-01.');
    const q = queue();
    await q.tick();
    await q.idle();
    expect(await episode(first.id)).toMatchObject({ status: 'INGESTED', modelCalls: 1 });
    expect(scripted.requests).toHaveLength(1);
    expect(assertProviderRequest(scripted.requests[0]!, DEFAULT_MAX_TOKENS.memory)).toBe(1);

    reply = () => ({ json: { entities: [], facts: [] } });
    const second = await note('Umbrella Corporation opened a lab.');
    await q.tick();
    await q.idle();
    expect(await episode(second.id)).toMatchObject({ status: 'INGESTED', modelCalls: 1 });
    const asked = JSON.stringify(scripted.requests[1]!.messages);
    expect(asked).toContain('- Umbrella Corp (Organisation)');
    expect(asked).toContain('Umbrella Corporation opened a lab.');

    const facts = await server.graph.read((tx) =>
      tx.run<{ subject: string; object: string; validFrom: string }>({
        cypher: `MATCH (s:Entity)<-[:SUBJECT]-(f:Fact {tenantId: $tenantId, predicate: 'ceo'})-[:OBJECT]->(o:Entity)
                 RETURN s.name AS subject, o.name AS object, toString(f.validFrom) AS validFrom`,
        params: { tenantId: server.tenantId },
      }),
    );
    expect(facts).toEqual([
      { subject: 'Umbrella Corp', object: 'Albert Wesker', validFrom: '2026-01-01T00:00:00Z' },
    ]);
    const calls = await server.graph.read((tx) =>
      tx.run<{ purpose: string; promptTokens: number }>({
        cypher: `MATCH (c:LLMCall {tenantId: $tenantId}) RETURN c.purpose AS purpose, c.promptTokens AS promptTokens
                 ORDER BY c.createdAt`,
        params: { tenantId: server.tenantId },
      }),
    );
    expect(calls.map((c) => c.purpose)).toEqual(['memory', 'memory']);
  });

  it('asks the contradiction judge in a request a real provider takes', async () => {
    const fact = (value: string) => ({
      entities: [{ name: 'Acme Labs', type: 'Organisation', summary: 'A lab.' }],
      facts: [
        { subject: 'Acme Labs', predicate: 'works_with', object: null, value, validFrom: null },
      ].map((f) => ({ ...f, confidence: 0.9 })),
    });
    let value = 'Globex';
    reply = (req) =>
      req.response_format?.json_schema?.name === 'memory_judge'
        ? { json: { contradicts: false, reason: 'A lab can work with both.' } }
        : { json: fact(value) };
    const q = queue();
    await note('Acme Labs works with Globex.');
    await q.tick();
    await q.idle();
    const before = scripted.requests.length;
    value = 'Initech';
    const second = await note('Acme Labs works with Initech.');
    await q.tick();
    await q.idle();
    expect(await episode(second.id)).toMatchObject({ status: 'INGESTED', modelCalls: 2 });
    const judged = scripted.requests
      .slice(before)
      .filter((r) => r.response_format?.json_schema?.name === 'memory_judge');
    expect(judged).toHaveLength(1);
    expect(assertProviderRequest(judged[0]!, DEFAULT_MAX_TOKENS.memory)).toBe(1);
    expect(JSON.stringify(judged[0]!.messages)).toContain('Current: ');
  });

  it('retries a failing extraction with backoff, then marks the episode FAILED with the error', async () => {
    reply = () => ({ status: 500, error: 'the model server fell over' });
    const e = await note('Cyberdyne Systems built Skynet.');
    const q = queue({ maxAttempts: 2, backoff: { baseMs: 10, maxMs: 20 } });
    for (let i = 0; i < 200 && (await episode(e.id)).status !== 'FAILED'; i++) {
      await q.tick();
      await q.idle();
      await new Promise((r) => setTimeout(r, 25));
    }
    const failed = await episode(e.id);
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 2, modelCalls: 2 });
    expect(failed.error).toMatch(/fell over|500/);
    const counts = await server.graph.read((tx) => ingestRepo.episodeCounts(tx, server.tenantId));
    expect(counts.FAILED).toBe(1);
  });
});
