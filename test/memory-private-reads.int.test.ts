import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../src/domain/auth.js';
import { MemoryScope } from '../src/domain/memory.js';
import { ScriptedEmbedder, seedCorpus } from './utils/memory-search-fixtures.js';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * The memory reads (episodes, entities, facts, node and their sub-fields) keep agent- and
 * task-private memory to ADMIN keys, as searchMemory does (memory-search-access.int.test.ts).
 */

const READS = `
  query Reads($zebra: ID!, $okapi: ID!) {
    episodes { totalCount nodes { id entities { name } } }
    entities { totalCount nodes { name } }
    facts { totalCount nodes { text subject { name } object { name } episodes { id } } }
    okapi: entity(id: $okapi) {
      facts { text }
      neighbours { entity { name } }
      episodes { totalCount nodes { id } }
    }
    zebraFacts: facts(filter: { subjectId: $zebra }) { totalCount }
    mentions: episodes(filter: { entityId: $zebra }) { totalCount }
  }`;
/** The private nodes by id, one query each (a NOT_FOUND root field nulls the whole answer). */
const BY_ID: Record<string, [doc: string, seeded: string]> = {
  zebra: ['query($id: ID!) { entity(id: $id) { name } }', 'Zebra Project'],
  private: ['query($id: ID!) { episode(id: $id) { id } }', 'private'],
  task: ['query($id: ID!) { episode(id: $id) { id } }', 'task'],
  node: ['query($id: ID!) { node(id: $id) { id } }', 'private'],
};

type Reads = {
  episodes: { totalCount: number; nodes: { id: string; entities: { name: string }[] }[] };
  entities: { totalCount: number; nodes: { name: string }[] };
  facts: {
    totalCount: number;
    nodes: {
      text: string;
      subject: { name: string };
      object: { name: string } | null;
      episodes: { id: string }[];
    }[];
  };
  okapi: {
    facts: { text: string }[];
    neighbours: { entity: { name: string } }[];
    episodes: { totalCount: number; nodes: { id: string }[] };
  };
  zebraFacts: { totalCount: number };
  mentions: { totalCount: number };
};

describe('memory reads and private memory', () => {
  let server: TestServer;
  let ids: Record<string, string>;

  beforeAll(async () => {
    server = await startTestServer();
    ids = await seedCorpus(server, new ScriptedEmbedder(), server.tenantId, {
      episodes: [
        {
          key: 'private',
          content: 'Zebra budget',
          scope: MemoryScope.AGENT,
          scopeId: randomUUID(),
        },
        { key: 'task', content: 'Okapi task note', scope: MemoryScope.TASK, scopeId: randomUUID() },
        { key: 'shared', content: 'Okapi is shared' },
      ],
      entities: [{ name: 'Zebra Project' }, { name: 'Okapi Shared' }],
      facts: [
        { text: 'Zebra Project budget is 5M', subject: 'Zebra Project', episodes: ['private'] },
        {
          text: 'Zebra Project partners Okapi',
          subject: 'Zebra Project',
          object: 'Okapi Shared',
          episodes: ['private'],
        },
        { text: 'Okapi Shared is public', subject: 'Okapi Shared', episodes: ['shared'] },
        { text: 'Okapi Shared grew', subject: 'Okapi Shared', episodes: ['shared', 'task'] },
      ],
    });
  });

  afterAll(() => server?.stop());

  const read = (key: string) =>
    server.gql<Reads, Record<string, string>>(
      READS,
      { zebra: ids['Zebra Project']!, okapi: ids['Okapi Shared']! },
      { authorization: `Bearer ${key}` },
    );
  /** Each private node by id: its data, or its error code. */
  const byId = async (key: string) => {
    const out: Record<string, unknown> = {};
    for (const [name, [doc, seeded]] of Object.entries(BY_ID)) {
      const id = ids[seeded]!;
      const res = await server.gql<Record<string, unknown>, { id: string }>(
        doc,
        { id },
        { authorization: `Bearer ${key}` },
      );
      out[name] = res.errors?.[0]?.extensions?.code ?? Object.values(res.data!)[0];
    }
    return out;
  };
  const sorted = (xs: string[]) => [...xs].sort();

  it('shows VIEWER and OPERATOR keys only shared memory; a private id is NOT_FOUND', async () => {
    for (const role of [Role.VIEWER, Role.OPERATOR]) {
      const key = await server.keyFor(role);
      const res = await read(key);
      expect(res.errors).toBeUndefined();
      const d = res.data!;
      expect(d.episodes.totalCount).toBe(1);
      expect(d.episodes.nodes).toEqual([{ id: ids.shared, entities: [{ name: 'Okapi Shared' }] }]);
      expect(d.entities.nodes.map((n) => n.name)).toEqual(['Okapi Shared']);
      expect(d.facts.totalCount).toBe(2);
      expect(sorted(d.facts.nodes.map((f) => f.text))).toEqual([
        'Okapi Shared grew',
        'Okapi Shared is public',
      ]);
      // A shared fact names only its shared episodes.
      expect(d.facts.nodes.flatMap((f) => f.episodes.map((e) => e.id))).toEqual([
        ids.shared,
        ids.shared,
      ]);
      expect(sorted(d.okapi.facts.map((f) => f.text))).toEqual([
        'Okapi Shared grew',
        'Okapi Shared is public',
      ]);
      expect(d.okapi.neighbours).toEqual([]);
      expect(d.okapi.episodes).toEqual({ totalCount: 1, nodes: [{ id: ids.shared }] });
      expect(d.zebraFacts.totalCount).toBe(0);
      expect(d.mentions.totalCount).toBe(0);
      expect(await byId(key)).toEqual({
        zebra: 'NOT_FOUND',
        private: 'NOT_FOUND',
        task: 'NOT_FOUND',
        node: 'NOT_FOUND',
      });
    }
  });

  it('shows an ADMIN key all of it', async () => {
    const res = await read(server.adminKey);
    expect(res.errors).toBeUndefined();
    const d = res.data!;
    expect(d.episodes.totalCount).toBe(3);
    expect(sorted(d.entities.nodes.map((n) => n.name))).toEqual(['Okapi Shared', 'Zebra Project']);
    expect(d.facts.totalCount).toBe(4);
    const grew = d.facts.nodes.find((f) => f.text === 'Okapi Shared grew')!;
    expect(sorted(grew.episodes.map((e) => e.id))).toEqual(sorted([ids.shared!, ids.task!]));
    expect(d.okapi.facts).toHaveLength(3);
    expect(d.okapi.neighbours).toEqual([{ entity: { name: 'Zebra Project' } }]);
    expect(d.okapi.episodes.totalCount).toBe(2);
    expect(d.zebraFacts.totalCount).toBe(2);
    expect(d.mentions.totalCount).toBe(1);
    expect(await byId(server.adminKey)).toEqual({
      zebra: { name: 'Zebra Project' },
      private: { id: ids.private },
      task: { id: ids.task },
      node: { id: ids.private },
    });
  });

  it('answers a merge or unmerge of a private entity by an OPERATOR key NOT_FOUND, as a read', async () => {
    const key = await server.keyFor(Role.OPERATOR);
    const as = { authorization: `Bearer ${key}` };
    const [zebra, okapi] = [ids['Zebra Project']!, ids['Okapi Shared']!];
    const merge = await server.gql<unknown, { into: string; ids: string[] }>(
      'mutation($into: ID!, $ids: [ID!]!) { mergeEntities(intoId: $into, ids: $ids) { name } }',
      { into: okapi, ids: [zebra] },
      as,
    );
    expect(merge.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(merge.errors?.[0]?.message).toBe(`Entity "${zebra}" does not exist`);
    const unmerge = await server.gql<unknown, { id: string }>(
      'mutation($id: ID!) { unmergeEntity(id: $id) { name } }',
      { id: zebra },
      as,
    );
    expect(unmerge.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // Nothing moved: the ADMIN key still sees both, standing alone.
    type Both = { entities: { nodes: { name: string; mergedInto: unknown }[] } };
    const both = await server.gql<Both, never>(
      '{ entities(filter: { includeMerged: true }) { nodes { name mergedInto } } }',
    );
    expect(both.data!.entities.nodes).toEqual(
      expect.arrayContaining([
        { name: 'Zebra Project', mergedInto: null },
        { name: 'Okapi Shared', mergedInto: null },
      ]),
    );
  });

  // Runs last: it forgets the private episodes the tests above read.
  it('keeps what only private episodes taught private once they are forgotten', async () => {
    const more = await seedCorpus(server, new ScriptedEmbedder(), server.tenantId, {
      episodes: [
        { key: 'oldShared', content: 'Gnu is shared' },
        { key: 'oldPrivate', content: 'Gnu note', scope: MemoryScope.AGENT, scopeId: randomUUID() },
      ],
      entities: [{ name: 'Gnu Shared' }],
      facts: [
        {
          text: 'Gnu Shared was founded',
          subject: 'Gnu Shared',
          episodes: ['oldShared', 'oldPrivate'],
        },
      ],
    });
    const old = [ids.private!, ids.task!, more.oldShared!, more.oldPrivate!];
    await server.graph.write((tx) =>
      tx.run({
        cypher: `UNWIND $old AS id MATCH (e:Episode {id: id})
          SET e.status = 'INGESTED', e.occurredAt = datetime('2020-01-01T00:00:00Z')`,
        params: { old },
      }),
    );
    const forgot = await server.gql<{ forgetEpisodes: number }, never>(
      'mutation { forgetEpisodes(kind: NOTE, olderThanDays: 365) }',
    );
    expect(forgot.data?.forgetEpisodes).toBe(4);

    const viewer = await read(await server.keyFor(Role.VIEWER));
    expect(viewer.errors).toBeUndefined();
    const v = viewer.data!;
    expect(sorted(v.entities.nodes.map((n) => n.name))).toEqual(['Gnu Shared', 'Okapi Shared']);
    expect(sorted(v.facts.nodes.map((f) => f.text))).toEqual([
      'Gnu Shared was founded',
      'Okapi Shared grew',
      'Okapi Shared is public',
    ]);
    expect(v.okapi.neighbours).toEqual([]);
    expect(v.zebraFacts.totalCount).toBe(0);
    const zebra = await server.gql<unknown, { id: string }>(
      BY_ID.zebra![0],
      { id: ids['Zebra Project']! },
      { authorization: `Bearer ${await server.keyFor(Role.VIEWER)}` },
    );
    expect(zebra.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const admin = (await read(server.adminKey)).data!;
    expect(sorted(admin.entities.nodes.map((n) => n.name))).toEqual([
      'Gnu Shared',
      'Okapi Shared',
      'Zebra Project',
    ]);
    expect(admin.facts.totalCount).toBe(5);
    expect(admin.zebraFacts.totalCount).toBe(2);
  });
});
