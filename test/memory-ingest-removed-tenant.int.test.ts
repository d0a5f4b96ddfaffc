import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTenantBatch } from '../graph/tenant-removal.repository.js';
import { generateApiKey } from '../src/auth/keys.js';
import { loadConfig } from '../src/config/config.js';
import { forgetStructuredModes } from '../src/llm/structured.js';
import { IngestionQueue } from '../src/memory/ingest/queue.js';
import { mergeDocument } from '../src/memory/memory.service.js';
import { eventually } from './utils/engine-steps.js';
import { startScriptedOpenAI, type Reply, type ScriptedOpenAI } from './utils/openai-server.js';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';

/*
 * A tenant removed (deleteTenantBatch, in batches) while its episodes waited for ingestion or
 * were being ingested: the ingestion queue went on with them, spending model calls for a tenant
 * being removed and writing its nodes back after the removal (an episode's model call record).
 * Nothing of a removed tenant may be written again.
 */

const EXTRACTED = {
  entities: [{ name: 'Acme Corp', type: 'Organisation', summary: 'A company.' }],
  facts: [],
};

let server: TestServer;
let scripted: ScriptedOpenAI;
let reply: () => Reply = () => ({ json: EXTRACTED });
const removed: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  scripted = await startScriptedOpenAI(() => reply());
  forgetStructuredModes();
});
afterAll(async () => {
  for (const id of removed) await deleteTenant(server.graph, id);
  await scripted.close();
  await server?.stop();
});

/** A tenant with a document of three chunks waiting for ingestion, and a queue serving it. */
async function tenantWithPendingChunks() {
  const tenantId = `test-${randomUUID()}`;
  removed.push(tenantId);
  await server.services.auth.ensureAdminKey(tenantId, generateApiKey(), 'removed tenant');
  const chunks = ['Acme Corp is a company.', 'Acme Corp sells anvils.', 'Acme Corp has 9 staff.'];
  await mergeDocument(server.services.uow, tenantId, {
    title: 'Acme',
    mime: 'text/plain',
    bytes: chunks.join('\n').length,
    contentHash: randomUUID(),
    chunks,
  });
  const queue = new IngestionQueue({
    uow: server.services.uow,
    llm: loadConfig({
      LLM_PROVIDER: 'compatible',
      LLM_BASE_URL: scripted.baseURL,
      LLM_MODEL: 'qwen2.5-3b-instruct',
      LLM_MAX_RETRIES: '0',
    }).llm,
    logger: server.logger,
    similarity: 0.85,
    tenantIds: [tenantId],
    concurrency: 1,
  });
  return { tenantId, queue };
}

const batch = (tenantId: string) => server.graph.write((tx) => deleteTenantBatch(tx, tenantId));

async function remove(tenantId: string): Promise<void> {
  while ((await batch(tenantId)) > 0);
}

/** Every node of the tenant, by label, and its :Tenant node. */
const left = async (tenantId: string) =>
  (
    await server.graph.read((tx) =>
      tx.run<{ label: string }>({
        cypher: `MATCH (n) WHERE n.tenantId = $tenantId OR (n:Tenant AND n.id = $tenantId)
                 RETURN labels(n)[0] AS label`,
        params: { tenantId },
      }),
    )
  ).map((r) => r.label);

/** What the queue does over a few rounds once it is left to run. */
async function runOut(queue: IngestionQueue): Promise<void> {
  for (let round = 0; round < 3; round++) {
    await queue.tick();
    await queue.idle();
  }
}

describe('memory ingestion of a tenant being removed', () => {
  it('writes nothing of a tenant removed while one of its episodes was being ingested', async () => {
    const { tenantId, queue } = await tenantWithPendingChunks();
    const before = scripted.requests.length;
    reply = () => ({ delayMs: 1_500, then: { json: EXTRACTED } });
    await queue.tick();
    await eventually('the extraction request', async () => scripted.requests.length > before);

    await remove(tenantId);
    expect(await left(tenantId)).toEqual([]);
    await queue.idle();
    reply = () => ({ json: EXTRACTED });
    await runOut(queue);
    expect(await left(tenantId)).toEqual([]);
    expect(scripted.requests.length - before).toBe(1);
  });

  it('ingests no more episodes of a tenant once its removal has begun', async () => {
    const { tenantId, queue } = await tenantWithPendingChunks();
    const before = scripted.requests.length;
    expect(await batch(tenantId)).toBeGreaterThan(0);
    await runOut(queue);
    expect(scripted.requests.length - before).toBe(0);
    await remove(tenantId);
    expect(await left(tenantId)).toEqual([]);
  });
});
