import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeEpisodes } from '../graph/memory/episode.repository.js';
import { addMentions, createEntities } from '../graph/memory/entity.repository.js';
import { createFacts, endFacts } from '../graph/memory/fact.repository.js';
import { Role } from '../src/domain/auth.js';
import { EpisodeKind, MemoryScope } from '../src/domain/memory.js';
import { normaliseName } from '../src/memory/normalise.js';
import { startTestServer, type TestServer } from './utils/server.js';

const ENTITY = `
  query Entity($id: ID!, $asOf: DateTimeISO) {
    entity(id: $id) {
      id name aliases mergedInto
      facts { id predicate value current }
      past: facts(past: true) { id value validUntil expiredAt replacedBy { id value } }
      then: facts(asOf: $asOf) { id value }
      neighbours { entity { name } facts }
      episodes { totalCount nodes { id } }
    }
  }`;
const FACTS = `
  query Facts($asOf: DateTimeISO, $filter: FactFilter) {
    facts(asOf: $asOf, filter: $filter) {
      totalCount
      nodes { id value subject { name } object { name } episodes { id source } }
    }
  }`;
const MERGE = `
  mutation Merge($intoId: ID!, $ids: [ID!]!) {
    mergeEntities(intoId: $intoId, ids: $ids, reason: "same company") { id aliases }
  }`;
const UNMERGE = `mutation Unmerge($id: ID!) { unmergeEntity(id: $id) { id mergedInto } }`;

const code = (r: { errors?: readonly { extensions?: Record<string, unknown> }[] }) =>
  r.errors?.[0]?.extensions?.code;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('memory API: entities, facts in time, merges', () => {
  let server: TestServer;
  let other: TestServer;
  const ids = { acme: randomUUID(), acmeCorp: randomUUID(), bank: randomUUID(), bob: randomUUID() };
  const factIds = { ceo: randomUUID(), ceo2: randomUUID(), bank: randomUUID() };
  let episodeId = '';
  let between = '';

  const entity = (id: string, name: string, type = 'Organisation') => ({
    id,
    name,
    normName: normaliseName(name),
    type,
    summary: `${name} summary`,
    aliases: [],
  });

  beforeAll(async () => {
    [server, other] = await Promise.all([startTestServer(), startTestServer()]);
    const t = server.tenantId;
    await server.graph.write(async (tx) => {
      const [episode] = await mergeEpisodes(tx, t, [
        {
          kind: EpisodeKind.NOTE,
          sourceKey: `note:${randomUUID()}`,
          source: 'a test note',
          content: 'Acme Corp. is led by Bob. ACME Corporation banks with Acme Bank.',
          occurredAt: '2020-01-01T00:00:00Z',
          scope: MemoryScope.TENANT,
          scopeId: null,
        },
      ]);
      episodeId = episode!.id;
      await tx.run({
        cypher: "MATCH (e:Episode {id: $id}) SET e.status = 'INGESTED'",
        params: { id: episodeId },
      });
      await createEntities(tx, t, [
        entity(ids.acme, 'Acme Corp.'),
        entity(ids.acmeCorp, 'ACME Corporation'),
        entity(ids.bank, 'Acme Bank'),
        entity(ids.bob, 'Bob', 'Person'),
      ]);
      await addMentions(tx, t, [
        { episodeId, entityId: ids.acme },
        { episodeId, entityId: ids.acmeCorp },
        { episodeId, entityId: ids.bank },
      ]);
      await createFacts(tx, t, [
        {
          id: factIds.ceo,
          subjectId: ids.acme,
          predicate: 'ceo',
          objectId: ids.bob,
          value: 'Bob',
          text: 'Acme Corp. ceo is Bob',
          confidence: 0.9,
          validFrom: null,
          episodeIds: [episodeId],
        },
        {
          id: factIds.bank,
          subjectId: ids.acmeCorp,
          predicate: 'banks_with',
          objectId: ids.bank,
          value: 'Acme Bank',
          text: 'ACME Corporation banks with Acme Bank',
          confidence: 0.8,
          validFrom: null,
          episodeIds: [episodeId],
        },
      ]);
    });
    await pause(50);
    between = new Date().toISOString();
    await pause(50);
    await server.graph.write(async (tx) => {
      await createFacts(tx, t, [
        {
          id: factIds.ceo2,
          subjectId: ids.acme,
          predicate: 'ceo',
          objectId: null,
          value: 'Carol',
          text: 'Acme Corp. ceo is Carol',
          confidence: 0.9,
          validFrom: null,
          episodeIds: [episodeId],
        },
      ]);
      await endFacts(tx, t, [{ id: factIds.ceo, replacedById: factIds.ceo2, validUntil: null }]);
    });
  });

  afterAll(async () => {
    await Promise.all([server?.stop(), other?.stop()]);
  });

  it('shows an entity with its current facts, its ended ones and what held at an earlier time', async () => {
    const r = await server.gql<any, any>(ENTITY, { id: ids.acme, asOf: between });
    expect(r.errors).toBeUndefined();
    const e = r.data.entity;
    expect(e.facts.map((f: any) => f.value)).toEqual(['Carol']);
    expect(e.past).toHaveLength(1);
    expect(e.past[0]).toMatchObject({ value: 'Bob', replacedBy: { value: 'Carol' } });
    expect(e.past[0].validUntil).not.toBeNull();
    expect(e.past[0].expiredAt).not.toBeNull();
    expect(e.then.map((f: any) => f.value)).toEqual(['Bob']);
    expect(e.episodes.nodes.map((n: any) => n.id)).toEqual([episodeId]);
  });

  it("refuses a cursor of one entity's episodes on another entity's episodes", async () => {
    const EPISODES = `query($id: ID!, $after: String) {
      entity(id: $id) { episodes(first: 1, after: $after) { nodes { id } pageInfo { endCursor } } }
    }`;
    type Answer = { entity: { episodes: { pageInfo: { endCursor: string } } } };
    const page = (id: string, after: string | null = null) =>
      server.gql<Answer, { id: string; after: string | null }>(EPISODES, { id, after });
    const acme = await page(ids.acme);
    expect(acme.errors).toBeUndefined();
    const cursor = acme.data!.entity.episodes.pageInfo.endCursor;
    // Its own list goes on from it; another entity's refuses it.
    expect((await page(ids.acme, cursor)).errors).toBeUndefined();
    const foreign = await page(ids.bank, cursor);
    expect(foreign.errors).toHaveLength(1);
    expect(foreign.errors![0]).toMatchObject({
      message: expect.stringMatching(/^after is not a cursor of this list/),
      extensions: { code: 'BAD_USER_INPUT', field: 'after' },
    });
  });

  it('answers facts(asOf) before and after a change, and nothing before anything was known', async () => {
    const filter = { subjectId: ids.acme };
    const now = await server.gql<any, any>(FACTS, { filter });
    const before = await server.gql<any, any>(FACTS, { filter, asOf: between });
    const never = await server.gql<any, any>(FACTS, { filter, asOf: '2001-01-01T00:00:00Z' });
    expect(now.data.facts.nodes.map((f: any) => f.value)).toEqual(['Carol']);
    expect(before.data.facts.nodes.map((f: any) => f.value)).toEqual(['Bob']);
    expect(before.data.facts.nodes[0].object.name).toBe('Bob');
    expect(before.data.facts.nodes[0].episodes[0].source).toBe('a test note');
    expect(never.data.facts.totalCount).toBe(0);
  });

  it('merges lookalikes by hand and undoes the merge, moving facts and mentions both ways', async () => {
    const viewer = await server.keyFor(Role.VIEWER);
    const refused = await server.gql<any, any>(
      MERGE,
      { intoId: ids.acme, ids: [ids.acmeCorp] },
      { authorization: `Bearer ${viewer}` },
    );
    expect(code(refused)).toBe('FORBIDDEN');

    const merged = await server.gql<any, any>(MERGE, { intoId: ids.acme, ids: [ids.acmeCorp] });
    expect(merged.errors).toBeUndefined();
    expect(merged.data.mergeEntities.aliases).toEqual(['ACME Corporation']);
    const bankFacts = await server.gql<any, any>(FACTS, { filter: { predicate: 'banks_with' } });
    expect(bankFacts.data.facts.nodes[0].subject.name).toBe('Acme Corp.');
    const list = await server.gql<any, any>('{ entities { nodes { name } } }');
    expect(list.data.entities.nodes.map((n: any) => n.name)).not.toContain('ACME Corporation');
    const again = await server.gql<any, any>(MERGE, { intoId: ids.bank, ids: [ids.acmeCorp] });
    expect(code(again)).toBe('CONFLICT');

    const undone = await server.gql<any, any>(UNMERGE, { id: ids.acmeCorp });
    expect(undone.data.unmergeEntity.mergedInto).toBeNull();
    const back = await server.gql<any, any>(FACTS, { filter: { predicate: 'banks_with' } });
    expect(back.data.facts.nodes[0].subject.name).toBe('ACME Corporation');
    const acme = await server.gql<any, any>(ENTITY, { id: ids.acme });
    expect(acme.data.entity.aliases).toEqual([]);
    const corp = await server.gql<any, any>(ENTITY, { id: ids.acmeCorp });
    expect(corp.data.entity.episodes.totalCount).toBe(1);
    expect(code(await server.gql<any, any>(UNMERGE, { id: ids.acmeCorp }))).toBe('CONFLICT');
  });

  it('refuses a merge naming an unknown entity and writes nothing', async () => {
    const r = await server.gql<any, any>(MERGE, {
      intoId: ids.acme,
      ids: [ids.bank, randomUUID()],
    });
    expect(code(r)).toBe('NOT_FOUND');
    const bank = await server.gql<any, any>(ENTITY, { id: ids.bank });
    expect(bank.data.entity.mergedInto).toBeNull();
  });

  it("never shows or merges another tenant's memory", async () => {
    expect(code(await other.gql<any, any>(ENTITY, { id: ids.acme }))).toBe('NOT_FOUND');
    const facts = await other.gql<any, any>(FACTS, {});
    expect(facts.data.facts.totalCount).toBe(0);
    const entities = await other.gql<any, any>('{ entities { totalCount } }');
    expect(entities.data.entities.totalCount).toBe(0);
    expect(code(await other.gql<any, any>(MERGE, { intoId: ids.acme, ids: [ids.bank] }))).toBe(
      'NOT_FOUND',
    );
    expect(code(await other.gql<any, any>(UNMERGE, { id: ids.acmeCorp }))).toBe('NOT_FOUND');
    const episodes = await other.gql<any, any>('{ episodes { totalCount } }');
    expect(episodes.data.episodes.totalCount).toBe(0);
  });

  it('applies a retention rule in the sweep: old ingested episodes of its kind go, others stay', async () => {
    const t = server.tenantId;
    const [old, recent] = await server.graph.write((tx) =>
      mergeEpisodes(
        tx,
        t,
        ['2001-05-01T00:00:00Z', new Date().toISOString()].map((occurredAt) => ({
          kind: EpisodeKind.MESSAGE,
          sourceKey: `message:${randomUUID()}`,
          source: 'a message',
          content: `said at ${occurredAt}`,
          occurredAt,
          scope: MemoryScope.TENANT,
          scopeId: null,
        })),
      ),
    );
    await server.graph.write((tx) =>
      tx.run({
        cypher: "UNWIND $ids AS id MATCH (e:Episode {id: id}) SET e.status = 'INGESTED'",
        params: { ids: [old!.id, recent!.id] },
      }),
    );
    const bad = await server.gql<any, any>(
      'mutation { setEpisodeRetention(kind: MESSAGE, days: -1) { kind } }',
    );
    expect(code(bad)).toBe('BAD_USER_INPUT');
    const set = await server.gql<any, any>(
      'mutation { setEpisodeRetention(kind: MESSAGE, days: 30) { kind days } }',
    );
    expect(set.data.setEpisodeRetention).toEqual([{ kind: 'MESSAGE', days: 30 }]);
    const listed = await other.gql<any, any>('{ episodeRetention { kind } }');
    expect(listed.data.episodeRetention).toEqual([]);

    expect(await server.services.memory.sweepRetention()).toBeGreaterThanOrEqual(1);
    const left = await server.gql<any, any>(
      '{ episodes(filter: { kind: MESSAGE }) { nodes { id } } }',
    );
    expect(left.data.episodes.nodes.map((n: any) => n.id)).toEqual([recent!.id]);
    const notes = await server.gql<any, any>('{ episodes(filter: { kind: NOTE }) { totalCount } }');
    expect(notes.data.episodes.totalCount).toBe(1);

    const removed = await server.gql<any, any>(
      'mutation { setEpisodeRetention(kind: MESSAGE, days: null) { kind } }',
    );
    expect(removed.data.setEpisodeRetention).toEqual([]);
  });

  it('forgets old ingested episodes at once and keeps what was learned from them', async () => {
    const r = await server.gql<any, any>(
      'mutation { forgetEpisodes(kind: NOTE, olderThanDays: 365) }',
    );
    expect(r.data.forgetEpisodes).toBe(1);
    const facts = await server.gql<any, any>(FACTS, { filter: { entityId: ids.bank } });
    expect(facts.data.facts.totalCount).toBe(1);
    expect(facts.data.facts.nodes[0].episodes).toEqual([]);
  });

  it('names olderThanDays, the argument sent, when forgetEpisodes refuses it', async () => {
    const r = await server.gql<any, any>(
      'mutation { forgetEpisodes(kind: NOTE, olderThanDays: -1) }',
    );
    expect(r.errors?.[0]).toMatchObject({
      message: 'olderThanDays must be a whole number 0 to 36500, but got -1',
      extensions: { code: 'BAD_USER_INPUT', field: 'olderThanDays' },
    });
  });
});
