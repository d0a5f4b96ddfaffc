import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimEpisodes, expireEpisodeLeases } from '../graph/memory/ingest.repository.js';
import { forgetEpisodes } from '../graph/memory/episode.repository.js';
import { EpisodeKind } from '../src/domain/memory.js';
import { skipUnreflectable, unreflectedRuns } from '../graph/reflection.repository.js';
import { lessonsToReview } from '../graph/lesson.repository.js';
import { settleSkillDue, skillSources, skillsToReview } from '../graph/skill.repository.js';
import { idleSpawned, spawnNeeds } from '../graph/spawning.repository.js';
import type { Tx } from '../graph/cypher.js';
import { ratePerson } from './utils/person-rating.js';
import { profiler } from './utils/profile.js';
import { startTestServer, type TestServer } from './utils/server.js';

/**
 * Issue 15: the polls every process makes in the background (memory ingestion every 500 ms,
 * reflection every evolution tick) must cost what is due, never the whole history. Found by
 * EXPLAINing every statement of the suite on a fresh database: the episode claims scanned
 * every episode of every tenant (their index's prefix alone cannot be sought), and reflection
 * read every ended run ever to find the few not yet reflected on; the lifecycle's reviews read
 * all knowledge, the idle sweep every agent, the search for skills every completed task. Work
 * is PROFILE db hits.
 */
describe('the background polls', () => {
  let server: TestServer;
  const other = `other-${randomUUID()}`;
  // A tenant no worker of the polls serves: its runs and roots stay due (nothing reflects on
  // them or looks for their skills), and must not cost the served tenants' polls anything.
  const unserved = `unserved-${randomUUID()}`;
  const prof = profiler();
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.graph.write((tx) =>
      tx.run({
        cypher: `MATCH (n) WHERE n.tenantId IN [$other, $unserved] AND (n:Episode OR n:Run OR n:Task
                   OR n:Knowledge OR n:Agent OR n:Capability) DETACH DELETE n`,
        params: { other, unserved },
      }),
    );
    await prof.close();
    await server.stop();
  });

  /**
   * Each poll, as a worker of the two tenants, its db hits. Not as an all-tenant worker: that
   * one also claims the work other suites running beside this one queue meanwhile (CI).
   */
  const polls = async () => {
    const hits: Record<string, number> = {};
    const plans: Record<string, string> = {};
    const work: Record<string, (tx: Tx) => Promise<unknown>> = {};
    const t = [server.tenantId, other];
    work['claim episodes'] = (tx) => claimEpisodes(tx, 'poll-test', 5, 60_000, t);
    work['expire episode leases'] = (tx) => expireEpisodeLeases(tx, 3, t);
    work['unreflected runs'] = (tx) => unreflectedRuns(tx, t, 10);
    work['skip unreflectable'] = (tx) => skipUnreflectable(tx, t, 200);
    work['lessons to review'] = (tx) => lessonsToReview(tx, t, 10);
    work['skills to review'] = (tx) => skillsToReview(tx, t, 10);
    work['skill sources'] = (tx) => skillSources(tx, t, 2, 10);
    work['idle spawned agents'] = (tx) => idleSpawned(tx, t, 60_000, 10);
    work['capabilities short of agents'] = (tx) => spawnNeeds(tx, t, 3, 10);
    // A tenant's retention sweep, in batches until none is left: its own episodes only.
    work['forget episodes'] = (tx) =>
      forgetEpisodes(tx, server.tenantId, EpisodeKind.RUN_RESULT, new Date().toISOString(), 100);
    for (const [name, w] of Object.entries(work)) {
      const m = await prof.measure(w);
      hits[name] = m.dbHits;
      plans[name] = m.plans;
    }
    return { hits, plans };
  };

  it('cost what is due, however much history other tenants hold', async () => {
    await server.graph.write((tx) => tx.run({ cypher: 'CALL db.clearQueryCaches()' }));
    const before = await polls();
    // Another tenant's history: 500 each of ingested episodes, ended runs reflected on,
    // retired lessons and notes, completed root tasks looked at before (each requiring a
    // capability), and agents made by people; and the unserved tenant's 500 ended runs and
    // 500 completed roots, all still due.
    await server.graph.write((tx) =>
      tx.run({
        cypher: `
          CREATE (t:Task {id: randomUUID(), tenantId: $other, title: 'history', status: 'COMPLETED',
                          createdAt: datetime(), updatedAt: datetime()})
          CREATE (c:Capability {id: randomUUID(), tenantId: $other, name: 'history',
                                createdAt: datetime(), updatedAt: datetime()})
          WITH t, c
          UNWIND range(1, 500) AS i
          CREATE (:Episode {id: randomUUID(), tenantId: $other, sourceKey: 'run:' + i,
                            kind: 'RUN_RESULT', status: 'INGESTED', content: 'done',
                            occurredAt: datetime(), createdAt: datetime(), updatedAt: datetime()})
          CREATE (:Run {id: randomUUID(), tenantId: $other, status: 'SUCCEEDED', attempt: 1,
                        startedAt: datetime(), endedAt: datetime(), reflectedAt: datetime(),
                        createdAt: datetime(), updatedAt: datetime()})-[:OF]->(t)
          CREATE (:Knowledge {id: randomUUID(), tenantId: $other, content: 'old',
                              kind: CASE WHEN i % 2 = 0 THEN 'LESSON' ELSE 'NOTE' END,
                              status: 'RETIRED', createdAt: datetime(), updatedAt: datetime()})
          CREATE (:Task {id: randomUUID(), tenantId: $other, title: 'done ' + i, family: 'history',
                         status: 'COMPLETED', createdAt: datetime(), updatedAt: datetime()})
                 -[:REQUIRES]->(c)
          CREATE (:Agent {id: randomUUID(), tenantId: $other, name: 'agent ' + i, spawned: false,
                          active: true, role: 'MASTER_OPERATOR', status: 'IDLE',
                          createdAt: datetime(), updatedAt: datetime()})
          CREATE (:Run {id: randomUUID(), tenantId: $unserved, status: 'SUCCEEDED', attempt: 1,
                        startedAt: datetime(), endedAt: datetime(), reflectionDueAt: datetime(),
                        createdAt: datetime(), updatedAt: datetime()})
          CREATE (:Task {id: randomUUID(), tenantId: $unserved, title: 'due ' + i, family: 'due',
                         status: 'COMPLETED', skillDueAt: datetime(), createdAt: datetime(),
                         updatedAt: datetime()})`,
        params: { other, unserved },
      }),
    );
    const after = await polls();
    const grown = Object.keys(before.hits).filter(
      (name) => after.hits[name]! >= before.hits[name]! + 250,
    );
    const report = grown.map(
      (name) => `${name}: ${before.hits[name]} → ${after.hits[name]} db hits\n${after.plans[name]}`,
    );
    expect(grown, report.join('\n')).toEqual([]);
  });

  it('keeps a root due for skills when it is judged again while its family is looked at', async () => {
    const rootId = randomUUID();
    await server.graph.write((tx) =>
      tx.run({
        cypher: `CREATE (:Task {id: $rootId, tenantId: $tenantId, title: 'rejudged root',
                   family: 'rejudged', status: 'COMPLETED', createdAt: datetime(),
                   updatedAt: datetime()})`,
        params: { rootId, tenantId: server.tenantId },
      }),
    );
    const judge = (score: number) =>
      server.graph.write((tx) => ratePerson(tx, server.tenantId, rootId, score));
    const due = async () => {
      const [row] = await server.graph.read((tx) =>
        tx.run<{ due: boolean }>({
          cypher: 'MATCH (t:Task {id: $rootId}) RETURN t.skillDueAt IS NOT NULL AS due',
          params: { rootId },
        }),
      );
      return row!.due;
    };
    const look = () => server.graph.read((tx) => skillSources(tx, [server.tenantId], 3, 10));

    await judge(0.2);
    const first = await look();
    expect(first.settled.map((d) => d.id)).toEqual([rootId]);
    await judge(0.9); // a person changes the verdict while the pass works
    await server.graph.write((tx) => settleSkillDue(tx, first.settled));
    expect(await due()).toBe(true);
    const second = await look();
    await server.graph.write((tx) => settleSkillDue(tx, second.settled));
    expect(await due()).toBe(false);
  });
});
