import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vectorProperty } from '../graph/memory/vector.repository.js';
import { Role } from '../src/domain/auth.js';
import { MemoryScope } from '../src/domain/memory.js';
import { OpenAIEmbedder } from '../src/memory/embeddings/openai.embedder.js';
import { mergeDocument } from '../src/memory/memory.service.js';
import { startLoopbackEmbeddings, type LoopbackEmbeddings } from './utils/embeddings-server.js';
import { ingestHelpers, startIngestServer } from './utils/memory-ingest-fixtures.js';
import type { TestServer } from './utils/server.js';

// Episodes FAILED by an outage (the embeddings endpoint down) are taken back with
// retryEpisodes once it is up again, and their facts and vectors are then written: before it,
// a FAILED episode stayed FAILED for good. The endpoint is a scripted loopback server.

const RETRY = `
  mutation Retry($ids: [ID!]) {
    retryEpisodes(ids: $ids) { id status attempts error }
  }`;

const code = (r: { errors?: readonly { extensions?: Record<string, unknown> }[] }) =>
  r.errors?.[0]?.extensions?.code;

let server: TestServer;
const endpoint: LoopbackEmbeddings = await startLoopbackEmbeddings({ dimensions: 64 });
const embedder = new OpenAIEmbedder({
  model: 'nomic-embed-text',
  dimensions: 64,
  baseUrl: endpoint.baseURL,
  apiKey: '',
  sendDimensions: false,
  timeoutMs: 10_000,
});

beforeAll(async () => {
  server = await startIngestServer(embedder);
});
afterAll(async () => {
  await server?.stop();
  await endpoint.close();
});

const { rows, note, ingestPending, episode } = ingestHelpers(() => server, embedder);

/** Ingests what is PENDING with one attempt per episode: a failure is FAILED at once. */
const ingestOnce = () => ingestPending({ maxAttempts: 1 });

/** Marks episodes FAILED as an outage would (the tests of the mutation's rules). */
const failed = (ids: string[]) =>
  server.graph.write((tx) =>
    tx.run({
      cypher: `MATCH (e:Episode {tenantId: $tenantId}) WHERE e.id IN $ids
        SET e.status = 'FAILED', e.attempts = 3, e.error = 'embeddings endpoint down'`,
      params: { tenantId: server.tenantId, ids },
    }),
  );

describe('retrying episodes that failed ingestion', () => {
  it('learns an episode FAILED while the embeddings endpoint was down once retried', async () => {
    endpoint.setStatus(503);
    const e = await note('Quarkton Labs revenue is 7M.');
    await ingestOnce();
    expect(await episode(e.id)).toMatchObject({
      status: 'FAILED',
      error: expect.stringMatching(/embeddings request to http:\/\/127\.0\.0\.1:\d+\/v1/),
    });

    endpoint.setStatus(undefined);
    await ingestOnce();
    expect((await episode(e.id)).status).toBe('FAILED'); // the queue never takes it back itself

    const retried = await server.gql(RETRY, { ids: [e.id] });
    expect(retried.errors).toBeUndefined();
    expect(retried.data).toEqual({
      retryEpisodes: [{ id: e.id, status: 'PENDING', attempts: 0, error: null }],
    });
    await ingestOnce();
    expect(await episode(e.id)).toMatchObject({ status: 'INGESTED', attempts: 1 });
    const [learned] = await rows<{ facts: number; vector: boolean }>(
      `MATCH (e:Episode {tenantId: $tenantId, id: $id})
       RETURN COUNT { (f:Fact)-[:FROM_EPISODE]->(e) } AS facts,
         e[$prop] IS NOT NULL AS vector`,
      { id: e.id, prop: vectorProperty(embedder) },
    );
    expect(learned).toEqual({ facts: 1, vector: true });
    const [audit] = await rows<{ targetIds: string[] }>(
      `MATCH (a:AuditEvent {tenantId: $tenantId, operation: 'retryEpisodes'})
       RETURN a.targetIds AS targetIds`,
    );
    expect(audit?.targetIds).toContain(e.id);
  });

  it('without ids retries every FAILED episode the key may see, and no other', async () => {
    const shared = await note('Shared note about Pelmora.');
    const own = await note('A private note about Pelmora.', {
      scope: MemoryScope.AGENT,
      scopeId: 'agent-x',
    });
    const done = await note('An ingested note.');
    await failed([shared.id, own.id]);
    const operator = { authorization: `Bearer ${await server.keyFor(Role.OPERATOR)}` };

    const byOperator = await server.gql(RETRY, {}, operator);
    expect(byOperator.errors).toBeUndefined();
    expect(byOperator.data).toEqual({
      retryEpisodes: [{ id: shared.id, status: 'PENDING', attempts: 0, error: null }],
    });
    // A private episode is the ADMIN key's, as every read of it.
    expect((await episode(own.id)).status).toBe('FAILED');
    expect(code(await server.gql(RETRY, { ids: [own.id] }, operator))).toBe('NOT_FOUND');
    const byAdmin = await server.gql(RETRY, {});
    expect(byAdmin.data).toEqual({
      retryEpisodes: [{ id: own.id, status: 'PENDING', attempts: 0, error: null }],
    });
    expect((await server.gql(RETRY, {})).data).toEqual({ retryEpisodes: [] });
    await ingestOnce();
    expect((await episode(done.id)).status).toBe('INGESTED');
  });

  it('refuses, changing nothing, ids that are not FAILED episodes of the tenant', async () => {
    const a = await note('Note one about Tarvin.');
    const b = await note('Note two about Tarvin.');
    await failed([a.id]);
    const viewer = { authorization: `Bearer ${await server.keyFor(Role.VIEWER)}` };

    const notFailed = await server.gql(RETRY, { ids: [a.id, b.id] });
    expect(code(notFailed)).toBe('BAD_USER_INPUT');
    expect(notFailed.errors?.[0]?.message).toBe(
      `episode ${b.id} is PENDING: only FAILED episodes are retried`,
    );
    expect((await episode(a.id)).status).toBe('FAILED'); // all or nothing
    const refusals = await rows<{ targetIds: string[] }>(
      `MATCH (a:AuditEvent {tenantId: $tenantId, operation: 'retryEpisodes', outcome: 'FAILURE'})
       WHERE $id IN a.targetIds RETURN a.targetIds AS targetIds`,
      { id: b.id },
    );
    expect(refusals.map((r) => r.targetIds)).toEqual([[a.id, b.id]]);
    expect(code(await server.gql(RETRY, { ids: [a.id, 'no-such-episode'] }))).toBe('NOT_FOUND');
    const empty = await server.gql(RETRY, { ids: [] });
    expect(code(empty)).toBe('BAD_USER_INPUT');
    expect(empty.errors?.[0]?.message).toMatch(/ids must name at least one episode/);
    const many = Array.from({ length: 101 }, (_, i) => `id-${i}`);
    const tooMany = await server.gql(RETRY, { ids: many });
    expect(code(tooMany)).toBe('BAD_USER_INPUT');
    expect(tooMany.errors?.[0]?.message).toMatch(/at most 100 episodes, but got 101/);
    expect(code(await server.gql(RETRY, { ids: [a.id] }, viewer))).toBe('FORBIDDEN');
    expect((await episode(a.id)).status).toBe('FAILED');
    await server.gql(RETRY, { ids: [a.id] });
    await ingestOnce();
  });

  it('takes a FAILED document back to INGESTING with its chunk; it ends INGESTED', async () => {
    endpoint.setStatus(503);
    const doc = await mergeDocument(server.services.uow, server.tenantId, {
      title: 'Outage notes',
      mime: 'text/plain',
      bytes: 40,
      contentHash: randomUUID(),
      chunks: ['Brindle Works revenue is 3M.'],
    });
    await ingestOnce();
    const read = `query Doc($id: ID!) { document(id: $id) { status progress { failed } } }`;
    expect((await server.gql(read, { id: doc.id })).data).toEqual({
      document: { status: 'FAILED', progress: { failed: 1 } },
    });
    endpoint.setStatus(undefined);
    const [chunk] = await rows<{ id: string }>(
      `MATCH (e:Episode)-[:FROM_DOCUMENT]->(:Document {tenantId: $tenantId, id: $id})
       RETURN e.id AS id`,
      { id: doc.id },
    );
    await server.gql(RETRY, { ids: [chunk!.id] });
    expect((await server.gql(read, { id: doc.id })).data).toEqual({
      document: { status: 'INGESTING', progress: { failed: 0 } },
    });
    await ingestOnce();
    expect((await server.gql(read, { id: doc.id })).data).toEqual({
      document: { status: 'INGESTED', progress: { failed: 0 } },
    });
  });
});
