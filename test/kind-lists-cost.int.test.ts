import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Tx } from '../graph/cypher.js';
import { listAgents } from '../graph/agent.repository.js';
import { listAuditEvents } from '../graph/audit.repository.js';
import { listKnowledge } from '../graph/knowledge.repository.js';
import { listEntities } from '../graph/memory/entity.repository.js';
import { listEpisodes } from '../graph/memory/episode.repository.js';
import { listFacts } from '../graph/memory/fact.repository.js';
import { listMessages } from '../graph/message.repository.js';
import { listTasks } from '../graph/task.repository.js';
import { AgentRole, AgentStatus } from '../src/domain/agent.js';
import { KnowledgeKind } from '../src/domain/knowledge.js';
import { EpisodeKind, EpisodeStatus } from '../src/domain/memory.js';
import { MessageKind } from '../src/domain/message.js';
import { TaskPriority } from '../src/domain/task.js';
import { expectWorkUnchanged, profiler, shown } from './utils/profile.js';
import { startTestServer, type TestServer } from './utils/server.js';

/** Rows of another kind the tenant gains between the two measures. */
const MORE = 300;

/**
 * Lists of one kind of a label (the skills among knowledge, the facts of one predicate, the
 * Chiefs of Staff or the paused among agents, the audit events of one operation, the episodes
 * that failed or of one kind, the entities of one type, the urgent tasks, the questions among
 * messages) read the tenant's rows in list order and kept that kind: a kind few rows are of
 * read every row of the tenant. They are now read from a (tenantId, that property) index when
 * they are few (graph/page-direct.ts: OneOf).
 */
describe('a list of one kind', () => {
  let server: TestServer;
  const prof = profiler();
  const newest = { property: 'createdAt' as const, descending: true };
  const page = { first: 20, total: true };

  const reads: Record<string, (tx: Tx) => Promise<unknown>> = {
    skills: (tx) =>
      listKnowledge(tx, server.tenantId, { kind: KnowledgeKind.SKILL }, newest, page).then((p) =>
        shown(p, 'content'),
      ),
    spans: (tx) =>
      listFacts(tx, server.tenantId, { predicate: 'spans' }, newest, page).then((p) =>
        shown(p, 'text'),
      ),
    chiefs: (tx) =>
      listAgents(tx, server.tenantId, { role: AgentRole.CHIEF_OF_STAFF }, newest, page).then((p) =>
        shown(p, 'name'),
      ),
    paused: (tx) =>
      listAgents(tx, server.tenantId, { status: [AgentStatus.PAUSED] }, newest, page).then((p) =>
        shown(p, 'name'),
      ),
    failedEpisodes: (tx) =>
      listEpisodes(tx, server.tenantId, { status: EpisodeStatus.FAILED }, newest, page).then((p) =>
        shown(p, 'content'),
      ),
    chatTurns: (tx) =>
      listEpisodes(tx, server.tenantId, { kind: EpisodeKind.CHAT_TURN }, newest, page).then((p) =>
        shown(p, 'content'),
      ),
    places: (tx) =>
      listEntities(tx, server.tenantId, { type: 'Place' }, newest, page).then((p) =>
        shown(p, 'name'),
      ),
    urgent: (tx) =>
      listTasks(tx, server.tenantId, { priority: [TaskPriority.URGENT] }, newest, page).then((p) =>
        shown(p, 'title'),
      ),
    questions: (tx) =>
      listMessages(tx, server.tenantId, { kind: MessageKind.QUESTION }, newest, page).then((p) =>
        shown(p, 'content'),
      ),
    deletions: (tx) =>
      listAuditEvents(tx, server.tenantId, { operation: 'deleteAgent' }, page).then((p) =>
        shown(p, 'actor'),
      ),
  };

  /** `n` FACT knowledge items and `n` facts of another predicate, a millisecond apart. */
  const others = (n: number) =>
    server.graph.write((tx) =>
      tx.run({
        cypher: `
          MATCH (e:Entity {tenantId: $t, name: 'Bridge'})
          UNWIND range(1, $n) AS i
          WITH e, i, datetime() + duration({milliseconds: i}) AS at
          CREATE (:Knowledge {id: randomUUID(), tenantId: $t, kind: 'FACT', content: 'other ' + i,
                              tags: [], tagText: '', confidence: 1.0, createdAt: at,
                              updatedAt: at})
          CREATE (:Fact {id: randomUUID(), tenantId: $t, predicate: 'is', text: 'other ' + i,
                         confidence: 1.0, recordedAt: at, createdAt: at, updatedAt: at})
                 -[:SUBJECT]->(e)
          CREATE (:Agent {id: randomUUID(), tenantId: $t, name: 'operator ' + randomUUID(),
                          role: 'MASTER_OPERATOR', status: 'IDLE', active: true, version: 1,
                          createdAt: at, updatedAt: at})
          CREATE (:Episode {id: randomUUID(), tenantId: $t, kind: 'NOTE', status: 'INGESTED',
                            sourceKey: randomUUID(), content: 'other ' + i, scope: 'TENANT',
                            occurredAt: at, createdAt: at, updatedAt: at})
          CREATE (:Entity {id: randomUUID(), tenantId: $t, name: 'thing ' + randomUUID(),
                           normName: randomUUID(), type: 'Thing', summary: '', aliases: [],
                           aliasText: '', createdAt: at, updatedAt: at})
          CREATE (:AuditEvent {id: randomUUID(), tenantId: $t, operation: 'createTask',
                               outcome: 'SUCCESS', actor: 'other', targetIds: [], createdAt: at})
          CREATE (:Task {id: randomUUID(), tenantId: $t, title: 'other ' + i, status: 'PENDING',
                         priority: 'MEDIUM', root: true, createdAt: at, updatedAt: at})
          CREATE (:Message {id: randomUUID(), tenantId: $t, kind: 'CHAT', content: 'other ' + i,
                            broadcast: true, createdAt: at})`,
        params: { t: server.tenantId, n: neo4j.int(n) },
      }),
    );

  beforeAll(async () => {
    server = await startTestServer();
    await server.graph.write((tx) =>
      tx.run({
        cypher: `
          CREATE (e:Entity {id: randomUUID(), tenantId: $t, name: 'Bridge', normName: 'bridge',
                            type: 'Thing', summary: '', aliases: [], aliasText: '',
                            createdAt: datetime(), updatedAt: datetime()})
          CREATE (:Knowledge {id: randomUUID(), tenantId: $t, kind: 'SKILL',
                              content: 'How to survey a bridge', tags: [], tagText: '',
                              confidence: 1.0, createdAt: datetime() - duration('PT1M'),
                              updatedAt: datetime()})
          CREATE (:Fact {id: randomUUID(), tenantId: $t, predicate: 'spans',
                         text: 'Bridge spans the river', confidence: 1.0,
                         recordedAt: datetime() - duration('PT1M'),
                         createdAt: datetime() - duration('PT1M'), updatedAt: datetime()})
                 -[:SUBJECT]->(e)
          CREATE (:Agent {id: randomUUID(), tenantId: $t, name: 'Chief', role: 'CHIEF_OF_STAFF',
                          status: 'IDLE', active: true, version: 1,
                          createdAt: datetime() - duration('PT1M'), updatedAt: datetime()})
          CREATE (:Agent {id: randomUUID(), tenantId: $t, name: 'Sleeper', role: 'MASTER_OPERATOR',
                          status: 'PAUSED', active: true, version: 1,
                          createdAt: datetime() - duration('PT1M'), updatedAt: datetime()})
          CREATE (:Episode {id: randomUUID(), tenantId: $t, kind: 'CHAT_TURN', status: 'FAILED',
                            sourceKey: randomUUID(), content: 'a chat turn', scope: 'TENANT',
                            occurredAt: datetime() - duration('PT1M'),
                            createdAt: datetime() - duration('PT1M'), updatedAt: datetime()})
          CREATE (:Entity {id: randomUUID(), tenantId: $t, name: 'Harbour', normName: 'harbour',
                           type: 'Place', summary: '', aliases: [], aliasText: '',
                           createdAt: datetime() - duration('PT1M'), updatedAt: datetime()})
          CREATE (:AuditEvent {id: randomUUID(), tenantId: $t, operation: 'deleteAgent',
                               outcome: 'SUCCESS', actor: 'ada', targetIds: [],
                               createdAt: datetime() - duration('PT1M')})
          CREATE (:Task {id: randomUUID(), tenantId: $t, title: 'Mend the bridge',
                         status: 'PENDING', priority: 'URGENT', root: true,
                         createdAt: datetime() - duration('PT1M'), updatedAt: datetime()})
          CREATE (:Message {id: randomUUID(), tenantId: $t, kind: 'QUESTION',
                            content: 'Which bridge?', broadcast: true,
                            createdAt: datetime() - duration('PT1M')})`,
        params: { t: server.tenantId },
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await server.stop();
    await prof.close();
  });

  it('costs as much with 300 more rows of another kind in the tenant', async () => {
    await others(10);
    await expectWorkUnchanged(prof, reads, () => others(MORE), {
      skills: { rows: ['How to survey a bridge'], totalCount: 1 },
      spans: { rows: ['Bridge spans the river'], totalCount: 1 },
      chiefs: { rows: ['Chief'], totalCount: 1 },
      paused: { rows: ['Sleeper'], totalCount: 1 },
      deletions: { rows: ['ada'], totalCount: 1 },
      failedEpisodes: { rows: ['a chat turn'], totalCount: 1 },
      chatTurns: { rows: ['a chat turn'], totalCount: 1 },
      places: { rows: ['Harbour'], totalCount: 1 },
      urgent: { rows: ['Mend the bridge'], totalCount: 1 },
      questions: { rows: ['Which bridge?'], totalCount: 1 },
    });
  });
});
