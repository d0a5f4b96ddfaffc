import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEntities } from '../graph/memory/entity.repository.js';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * Entity merges at once (memory-api.int.test.ts: one at a time). A merge needs both entities
 * unmerged; two merges that each read them so before either wrote both went through, and an
 * entity merged into one merged into it vanished from memory with it.
 */

const MERGE = `mutation($into: ID!, $ids: [ID!]!) { mergeEntities(intoId: $into, ids: $ids) { id } }`;
const UNMERGE = `mutation($id: ID!) { unmergeEntity(id: $id) { id } }`;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

async function entities(count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  await server.graph.write((tx) =>
    createEntities(
      tx,
      server.tenantId,
      ids.map((id, i) => ({
        id,
        name: `Entity ${i} ${id}`,
        normName: `entity ${i} ${id}`,
        type: 'Organisation',
        summary: '',
        aliases: [],
      })),
    ),
  );
  return ids;
}

/** Entities merged into themselves through any chain, or whose edge and mark disagree. */
async function brokenMerges(): Promise<number> {
  const [row] = await server.graph.read((tx) =>
    tx.run<{ n: number }>({
      cypher: `MATCH (e:Entity {tenantId: $tenantId})
               WHERE EXISTS { (e)-[:MERGED_INTO*1..]->(e) }
                  OR EXISTS { MATCH (e)-[:MERGED_INTO]->(into) WHERE e.mergedInto <> into.id }
                  OR (e.mergedInto IS NOT NULL AND NOT EXISTS { (e)-[:MERGED_INTO]->() })
               RETURN count(e) AS n`,
      params: { tenantId: server.tenantId },
    }),
  );
  return row!.n;
}

const codes = (answers: { errors?: readonly { extensions?: Record<string, unknown> }[] }[]) =>
  answers.map((res) => res.errors?.[0]?.extensions?.code ?? 'OK').sort();

it('merges of two entities into each other at once: one goes through, the other is a CONFLICT', async () => {
  const ids = await entities(24);
  const pairs = Array.from({ length: 12 }, (_, i) => [ids[2 * i]!, ids[2 * i + 1]!] as const);
  const answers = await Promise.all(
    pairs.map(([a, b]) =>
      Promise.all([
        server.gql(MERGE, { into: b, ids: [a] } as never),
        server.gql(MERGE, { into: a, ids: [b] } as never),
      ]),
    ),
  );
  for (const pair of answers) expect(codes(pair)).toEqual(['CONFLICT', 'OK']);
  expect(await brokenMerges()).toBe(0);
});

it('three merges in a circle at once: one is a CONFLICT, and no entity ends merged into itself', async () => {
  const ids = await entities(36);
  const answers = await Promise.all(
    Array.from({ length: 12 }, (_, i) => {
      const [a, b, c] = ids.slice(3 * i, 3 * i + 3) as [string, string, string];
      // One after another, a into b and b into c go through (a chain) and c into a does not.
      return Promise.all([
        server.gql(MERGE, { into: b, ids: [a] } as never),
        server.gql(MERGE, { into: c, ids: [b] } as never),
        server.gql(MERGE, { into: a, ids: [c] } as never),
      ]);
    }),
  );
  for (const three of answers) expect(codes(three)).toContain('CONFLICT');
  expect(await brokenMerges()).toBe(0);

  // Unmerging x while z is merged into it: either order answers OK and keeps the marks true.
  const [x, y, z] = await entities(3);
  expect((await server.gql(MERGE, { into: y, ids: [x] } as never)).errors).toBeUndefined();
  const both = await Promise.all([
    server.gql(UNMERGE, { id: x } as never),
    server.gql(MERGE, { into: x, ids: [z] } as never),
  ]);
  expect(codes(both)).toContain('OK');
  expect(await brokenMerges()).toBe(0);
});
