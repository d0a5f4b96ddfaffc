import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * retryEpisodes put FAILED episodes back in the ingestion queue past
 * TENANT_MAX_PENDING_EPISODES, which held documents, messages and chat messages only: a tenant
 * whose thousands of chunks failed in an outage queued them all again at once, whatever its
 * backlog. It is now held to the cap as they are.
 */

const INGEST = `mutation($text: String!) { ingestDocument(title: "Notes", text: $text) { id } }`;
const RETRY = `mutation($ids: [ID!]) { retryEpisodes(ids: $ids) { id status } }`;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(
    undefined,
    {},
    undefined,
    {},
    {
      backlog: { maxPendingEpisodes: 3 },
    },
  );
});
afterAll(() => server?.stop());

/** Queues a one-chunk document; returns its episode's id. */
async function chunk(text: string): Promise<string> {
  const res = await server.gql(INGEST, { text } as never);
  expect(res.errors).toBeUndefined();
  const [row] = await server.graph.read((tx) =>
    tx.run<{ id: string }>({
      cypher: `MATCH (e:Episode {tenantId: $tenantId})-[:FROM_DOCUMENT]->(:Document {id: $id})
               RETURN e.id AS id`,
      params: {
        tenantId: server.tenantId,
        id: (res.data as { ingestDocument: { id: string } }).ingestDocument.id,
      },
    }),
  );
  return row!.id;
}

/** Sets episodes' status as ingestion would have left them. */
const settle = (ids: string[], status: 'FAILED' | 'INGESTED') =>
  server.graph.write((tx) =>
    tx.run({
      cypher: `MATCH (e:Episode {tenantId: $tenantId}) WHERE e.id IN $ids
               SET e.status = $status, e.error = CASE $status WHEN 'FAILED' THEN 'down' END`,
      params: { tenantId: server.tenantId, ids, status },
    }),
  );

const statuses = async (ids: string[]) =>
  (
    await server.graph.read((tx) =>
      tx.run<{ status: string }>({
        cypher: `UNWIND $ids AS id MATCH (e:Episode {tenantId: $tenantId, id: id})
                 RETURN e.status AS status`,
        params: { tenantId: server.tenantId, ids },
      }),
    )
  ).map((r) => r.status);

it('refuses a retryEpisodes past TENANT_MAX_PENDING_EPISODES, taking nothing back', async () => {
  const failed = [await chunk('Acme is a company.'), await chunk('Kite is a farm.')];
  await settle(failed, 'FAILED');
  const waiting = [
    await chunk('Ana is a person.'),
    await chunk('Bo is a dog.'),
    await chunk('Cy is a cat.'),
  ];

  const one = await server.gql(RETRY, { ids: [failed[0]] } as never);
  expect(one.errors?.[0]?.extensions).toMatchObject({
    code: 'LIMIT_EXCEEDED',
    limit: 'TENANT_MAX_PENDING_EPISODES',
    count: 3,
    adding: 1,
    cap: 3,
  });
  expect(one.errors?.[0]?.message).toBe(
    'retryEpisodes would add 1 episodes to the 3 of this organisation waiting for memory ingestion (PENDING or INGESTING), but TENANT_MAX_PENDING_EPISODES allows 3: let ingestion catch up (episodes(filter: { status: PENDING })), or raise TENANT_MAX_PENDING_EPISODES',
  );
  const all = await server.gql(RETRY, {} as never);
  expect(all.errors?.[0]?.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', adding: 2 });
  expect(await statuses(failed)).toEqual(['FAILED', 'FAILED']);

  // Once ingestion caught up, what fits is taken back.
  await settle(waiting.slice(0, 2), 'INGESTED');
  const retried = await server.gql(RETRY, {} as never);
  expect(retried.errors).toBeUndefined();
  expect(await statuses(failed)).toEqual(['PENDING', 'PENDING']);
});
