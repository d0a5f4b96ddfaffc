import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../graph/cypher.js';
import { listAgents } from '../graph/agent.repository.js';
import { listKnowledge } from '../graph/knowledge.repository.js';
import { listEpisodes } from '../graph/memory/episode.repository.js';
import { listFacts } from '../graph/memory/fact.repository.js';
import { listMessages } from '../graph/message.repository.js';
import { DIRECT_LIMIT } from '../graph/page-direct.js';
import { listTasks } from '../graph/task.repository.js';
import { MessageKind } from '../src/domain/message.js';
import { createOperators } from './utils/engine-steps.js';
import { pageThrough } from './utils/pages.js';
import { expectWorkUnchanged, profiler, shown } from './utils/profile.js';
import { startTestServer, type TestServer } from './utils/server.js';

/** Rows of each label a busy agent and a busy entity gain between the two measures. */
const MORE = 300;

/**
 * A list filtered by an agent or an entity (an agent's tasks, its chat history, an entity's
 * facts) read the tenant's rows in list order and tested each for the link: an agent or an
 * entity with fewer rows than the page read every row of the tenant, twice with the count.
 * graph/page-direct.ts now walks from the node when it holds few rows (DIRECT_LIMIT), and reads in
 * list order only for a node that holds many, where a page's rows come soon.
 */
describe('a list of an agent’s or an entity’s rows', () => {
  let server: TestServer;
  const prof = profiler();
  let quiet = '';
  let busy = '';
  let entityId = '';
  let busyEntityId = '';
  const newest = { property: 'createdAt' as const, descending: true };
  const page = { first: 20, total: true };

  const reads: Record<string, (tx: Tx) => Promise<unknown>> = {
    tasks: (tx) =>
      listTasks(tx, server.tenantId, { assigneeId: quiet }, newest, page).then((p) =>
        shown(p, 'title'),
      ),
    // A capability's tasks: the node is named by its name, not an id.
    surveys: (tx) =>
      listTasks(tx, server.tenantId, { capability: 'survey' }, newest, page).then((p) =>
        shown(p, 'title'),
      ),
    surveyors: (tx) =>
      listAgents(tx, server.tenantId, { capability: 'survey' }, newest, page).then((p) =>
        shown(p, 'name'),
      ),
    // Walked from the agent, each task tested for the capability.
    surveysOfQuiet: (tx) =>
      listTasks(
        tx,
        server.tenantId,
        { assigneeId: quiet, capability: 'survey' },
        newest,
        page,
      ).then((p) => shown(p, 'title')),
    knowledge: (tx) =>
      listKnowledge(tx, server.tenantId, { agentId: quiet }, newest, page).then((p) =>
        shown(p, 'content'),
      ),
    messages: (tx) =>
      listMessages(tx, server.tenantId, { agentId: quiet }, newest, page).then((p) =>
        shown(p, 'content'),
      ),
    chat: (tx) =>
      listMessages(
        tx,
        server.tenantId,
        { agentId: quiet, kind: MessageKind.CHAT },
        newest,
        page,
      ).then((p) => shown(p, 'content')),
    facts: (tx) =>
      listFacts(tx, server.tenantId, { entityId }, newest, page).then((p) => shown(p, 'text')),
    subjectFacts: (tx) =>
      listFacts(tx, server.tenantId, { subjectId: entityId }, newest, page).then((p) =>
        shown(p, 'text'),
      ),
    episodes: (tx) =>
      listEpisodes(tx, server.tenantId, { entityId }, newest, page).then((p) =>
        shown(p, 'content'),
      ),
  };
  const expected = {
    tasks: { rows: ['Quiet task'], totalCount: 1 },
    surveys: { rows: ['Quiet task'], totalCount: 1 },
    surveysOfQuiet: { rows: ['Quiet task'], totalCount: 1 },
    surveyors: { rows: ['Quiet'], totalCount: 1 },
    knowledge: { rows: ['Quiet lesson'], totalCount: 1 },
    messages: { rows: ['to all', 'from quiet', 'hello quiet'], totalCount: 3 },
    chat: { rows: ['hello quiet'], totalCount: 1 },
    facts: { rows: ['Bridge spans the river'], totalCount: 1 },
    subjectFacts: { rows: ['Bridge spans the river'], totalCount: 1 },
    episodes: { rows: ['the bridge'], totalCount: 1 },
  };

  /** `n` rows of each label linked to the busy agent or entity, none to the measured ones. */
  const others = (n: number) =>
    server.graph.write((tx) =>
      tx.run({
        cypher: `
          MATCH (b:Agent {tenantId: $t, id: $busy}), (be:Entity {tenantId: $t, id: $busyEntity})
          MATCH (haul:Capability {tenantId: $t, name: 'haul'})
          UNWIND range(1, $n) AS i
          // Apart in time, as rows written one by one are: a page then stops at its last row.
          WITH b, be, haul, i, datetime() + duration({milliseconds: i}) AS at
          CREATE (haul)<-[:HAS_CAPABILITY {proficiency: 1.0, runs: 0, successes: 0}]-
                 (:Agent {id: randomUUID(), tenantId: $t, name: 'hauler ' + randomUUID(),
                          role: 'MASTER_OPERATOR', status: 'IDLE', active: true, version: 1,
                          createdAt: at, updatedAt: at})
          CREATE (haul)<-[:REQUIRES]-(:Task {id: randomUUID(), tenantId: $t, title: 'other ' + i,
                   status: 'PENDING', priority: 'MEDIUM', createdAt: at, updatedAt: at})
                 -[:ASSIGNED_TO]->(b)
          CREATE (:Knowledge {id: randomUUID(), tenantId: $t, kind: 'FACT', content: 'other ' + i,
                              tags: [], tagText: '', confidence: 1.0, createdAt: at,
                              updatedAt: at})-[:CONTRIBUTED_BY]->(b)
          CREATE (b)-[:SENT]->(m:Message {id: randomUUID(), tenantId: $t, kind: 'CHAT',
                   content: 'other ' + i, broadcast: false, conversationId: 'c-busy', seq: i,
                   createdAt: at})-[:TO]->(b)
          CREATE (:Fact {id: randomUUID(), tenantId: $t, predicate: 'is', text: 'other ' + i,
                         confidence: 1.0, recordedAt: at, createdAt: at, updatedAt: at})
                 -[:SUBJECT]->(be)
          CREATE (be)-[:MENTIONED_IN]->(:Episode {id: randomUUID(), tenantId: $t, kind: 'NOTE',
                   status: 'INGESTED', sourceKey: randomUUID(), content: 'other ' + i,
                   scope: 'TENANT', occurredAt: at, createdAt: at, updatedAt: at})`,
        params: { t: server.tenantId, n: neo4j.int(n), busy, busyEntity: busyEntityId },
      }),
    );

  beforeAll(async () => {
    server = await startTestServer();
    const agents = await createOperators(server, { Quiet: ['survey'], Busy: ['haul'] });
    quiet = agents.Quiet!;
    busy = agents.Busy!;
    const [row] = await server.graph.write((tx) =>
      tx.run<{ entity: string; busyEntity: string }>({
        cypher: `
          MATCH (q:Agent {tenantId: $t, id: $quiet}), (b:Agent {tenantId: $t, id: $busy})
          // Created before the broadcast below, which it therefore receives.
          SET q.createdAt = datetime() - duration('PT1M')
          MERGE (survey:Capability {tenantId: $t, name: 'survey'})
          CREATE (survey)<-[:REQUIRES]-(:Task {id: randomUUID(), tenantId: $t, title: 'Quiet task',
                   status: 'PENDING', priority: 'MEDIUM', createdAt: datetime(),
                   updatedAt: datetime()})-[:ASSIGNED_TO]->(q)
          CREATE (:Knowledge {id: randomUUID(), tenantId: $t, kind: 'LESSON',
                              content: 'Quiet lesson', tags: [], tagText: '', confidence: 1.0,
                              createdAt: datetime(), updatedAt: datetime()})-[:CONTRIBUTED_BY]->(q)
          CREATE (:Message {id: randomUUID(), tenantId: $t, kind: 'CHAT', content: 'hello quiet',
                            senderUser: 'ada', broadcast: false, conversationId: 'c-quiet',
                            seq: 1, createdAt: datetime() - duration('PT3S')})-[:TO]->(q)
          CREATE (q)-[:SENT]->(:Message {id: randomUUID(), tenantId: $t, kind: 'REPORT',
                   content: 'from quiet', broadcast: false, conversationId: 'c-report', seq: 1,
                   createdAt: datetime() - duration('PT2S')})-[:TO]->(b)
          CREATE (:Message {id: randomUUID(), tenantId: $t, kind: 'REPORT', content: 'to all',
                            senderUser: 'ada', broadcast: true, conversationId: 'c-all', seq: 1,
                            createdAt: datetime() - duration('PT1S')})
          CREATE (e:Entity {id: randomUUID(), tenantId: $t, name: 'Bridge', normName: 'bridge',
                            type: 'Thing', summary: '', aliases: [], aliasText: '',
                            createdAt: datetime(), updatedAt: datetime()})
          CREATE (be:Entity {id: randomUUID(), tenantId: $t, name: 'Road', normName: 'road',
                             type: 'Thing', summary: '', aliases: [], aliasText: '',
                             createdAt: datetime(), updatedAt: datetime()})
          CREATE (:Fact {id: randomUUID(), tenantId: $t, predicate: 'spans',
                         text: 'Bridge spans the river', confidence: 1.0, recordedAt: datetime(),
                         createdAt: datetime(), updatedAt: datetime()})-[:SUBJECT]->(e)
          CREATE (e)-[:MENTIONED_IN]->(:Episode {id: randomUUID(), tenantId: $t, kind: 'NOTE',
                   status: 'INGESTED', sourceKey: randomUUID(), content: 'the bridge',
                   scope: 'TENANT', occurredAt: datetime(), createdAt: datetime(),
                   updatedAt: datetime()})
          RETURN e.id AS entity, be.id AS busyEntity`,
        params: { t: server.tenantId, quiet, busy },
      }),
    );
    entityId = row!.entity;
    busyEntityId = row!.busyEntity;
  }, 60_000);

  afterAll(async () => {
    await server.stop();
    await prof.close();
  });

  it('of a quiet one costs as much with 300 more rows of a busy one in the tenant', async () => {
    await others(10);
    await expectWorkUnchanged(prof, reads, () => others(MORE), expected);
  });

  it('of a quiet one pages through its messages, broadcasts included, in either order', async () => {
    for (const descending of [false, true]) {
      const messages = await pageThrough((after) =>
        server.graph.read((tx) =>
          listMessages(
            tx,
            server.tenantId,
            { agentId: quiet },
            { property: 'createdAt', descending },
            { first: 1, after, total: false },
          ),
        ),
      );
      const oldestFirst = ['hello quiet', 'from quiet', 'to all'];
      expect(messages.map((m) => m.content)).toEqual(
        descending ? oldestFirst.reverse() : oldestFirst,
      );
    }
  });

  it('of a busy one pages in order through the tenant’s rows, not all of its own', async () => {
    // The busy agent now holds more tasks than a walk reads (DIRECT_LIMIT), all but one of the
    // tenant's: a page reads the tenant's newest rows until it is full.
    await others(DIRECT_LIMIT - MORE);
    let hits = 0;
    let plans = '';
    const tasks = await pageThrough(async (after) => {
      const read = await prof.measure((tx) =>
        listTasks(tx, server.tenantId, { assigneeId: busy }, newest, {
          first: 20,
          after,
          total: false,
        }),
      );
      if (read.dbHits > hits) [hits, plans] = [read.dbHits, read.plans];
      return read.result;
    }, 2);
    const counted = await prof.measure((tx) =>
      listTasks(tx, server.tenantId, { assigneeId: busy }, newest, { first: 1, total: true }),
    );
    expect(counted.result.totalCount).toBe(DIRECT_LIMIT + 10);
    const newestTitles = await server.graph.read((tx) =>
      tx.run<{ title: string }>({
        cypher: `MATCH (t:Task {tenantId: $t})-[:ASSIGNED_TO]->(:Agent {id: $busy})
                 RETURN t.title AS title ORDER BY t.createdAt DESC, t.id DESC LIMIT 40`,
        params: { t: server.tenantId, busy },
      }),
    );
    expect(tasks.map((t) => t.title)).toEqual(newestTitles.map((r) => r.title));
    // Walking would read each of its DIRECT_LIMIT + 10 tasks and their creation times.
    expect(hits, plans).toBeLessThan(DIRECT_LIMIT);
  });
});
