import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { candidatesToDecide } from '../graph/agent-version.repository.js';
import { unreflectedRuns } from '../graph/reflection.repository.js';
import { skillSources } from '../graph/skill.repository.js';
import { spawnNeeds } from '../graph/spawning.repository.js';
import { startTestServer, type TestServer } from './utils/server.js';

/**
 * One tenant can never slow another: reflection (a model call a run) and the skills pass take a
 * page of what is due each tick. Oldest first across tenants, a tenant with a backlog of 30
 * ended runs (or due roots) held a quieter tenant's one back until the backlog was through:
 * 30 model calls of another tenant's. Each tenant's oldest now comes before anyone's second.
 * Spawning took the biggest backlogs first: a tenant with more of them than a page (at its
 * quota of spawned agents, so they never shrink) kept another tenant's backlog off every page,
 * as a tenant's page of canaries still waiting for evidence kept another's from being decided.
 */
describe('the evolution passes share each tick between tenants', () => {
  let server: TestServer;
  const busy = `busy-${randomUUID()}`;
  const quiet = `quiet-${randomUUID()}`;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.graph.write((tx) =>
      tx.run({
        cypher: `MATCH (n) WHERE n.tenantId IN [$busy, $quiet]
                   AND (n:Run OR n:Task OR n:Evaluation OR n:Capability OR n:AgentVersion) DETACH DELETE n`,
        params: { busy, quiet },
      }),
    );
    await server.stop();
  });

  /** `n` rows of the tenant made by `create`, the first `from` seconds ago, a second apart. */
  const seed = (create: string) => (tenantId: string, n: number, from: number) =>
    server.graph.write((tx) =>
      tx.run<{ id: string }>({
        cypher: `
          UNWIND range(0, $n - 1) AS i
          WITH i, datetime() - duration({seconds: $from - i}) AS at
          ${create}
          RETURN id ORDER BY i`,
        params: { tenantId, n, from },
      }),
    );
  /** Failed runs, judged by a person, not reflected on yet. */
  const endedRuns = seed(`
    CREATE (t:Task {id: randomUUID(), tenantId: $tenantId, title: 'step ' + i,
                    status: 'FAILED', createdAt: at, updatedAt: at})
    CREATE (r:Run {id: randomUUID(), tenantId: $tenantId, status: 'FAILED', attempt: 1,
                   startedAt: at, endedAt: at, reflectionDueAt: at,
                   createdAt: at, updatedAt: at})-[:OF]->(t)
    CREATE (:Evaluation {id: randomUUID(), tenantId: $tenantId, source: 'PERSON',
                         score: 0.1, verdict: 'FAIL', createdAt: at})-[:EVALUATES]->(r)
    WITH i, r.id AS id`);
  /** Candidate versions (a canary each) waiting for their decision. */
  const candidates = seed(`
    CREATE (v:AgentVersion {id: randomUUID(), tenantId: $tenantId, agentId: randomUUID(),
                            version: 2, status: 'CANDIDATE', origin: 'PLATFORM',
                            reason: 'a canary', canaryShare: 0.2, createdAt: at})
    WITH i, v.id AS id`);
  /** Completed roots of one family, due for the skills pass. */
  const dueRoots = seed(`
    CREATE (t:Task {id: randomUUID(), tenantId: $tenantId, title: 'root ' + i,
                    family: 'family of ' + $tenantId, status: 'COMPLETED',
                    skillDueAt: at, createdAt: at, updatedAt: at})
    WITH i, t.id AS id`);

  /** `n` capabilities of the tenant, each with `waiting` READY steps no agent could take. */
  const backlogs = (tenantId: string, n: number, waiting: number) =>
    server.graph.write((tx) =>
      tx.run({
        cypher: `
          UNWIND range(1, $n) AS i
          CREATE (c:Capability {id: randomUUID(), tenantId: $tenantId, name: 'skill ' + i,
                                createdAt: datetime(), updatedAt: datetime()})
          WITH c UNWIND range(1, $waiting) AS j
          CREATE (:Task {id: randomUUID(), tenantId: $tenantId, title: 'waits ' + j,
                         status: 'READY', orchestrated: true, priority: 'MEDIUM',
                         waitingReason: 'no agent', createdAt: datetime(),
                         updatedAt: datetime()})-[:REQUIRES]->(c)`,
        params: { tenantId, n, waiting },
      }),
    );

  it('reflects on a quiet tenant’s run before a busy tenant’s backlog', async () => {
    const backlog = await endedRuns(busy, 30, 100);
    const [late] = await endedRuns(quiet, 1, 10);
    const page = await server.graph.read((tx) => unreflectedRuns(tx, [busy, quiet], 10));
    // Each tenant's oldest first, then the busy tenant's next ones, in the order they ended.
    expect(page.map((s) => s.runId)).toEqual([
      backlog[0]!.id,
      late!.id,
      ...backlog.slice(1, 9).map((r) => r.id),
    ]);
  });

  it('looks at a quiet tenant’s due root before a busy tenant’s backlog', async () => {
    await dueRoots(busy, 30, 100);
    const [late] = await dueRoots(quiet, 1, 10);
    const { settled } = await server.graph.read((tx) => skillSources(tx, [busy, quiet], 2, 10));
    expect(settled.filter((d) => d.tenantId === quiet).map((d) => d.id)).toEqual([late!.id]);
    expect(settled.filter((d) => d.tenantId === busy)).toHaveLength(9);
  });

  it('looks at a quiet tenant’s backlog of steps beside a busy tenant’s bigger ones', async () => {
    await backlogs(busy, 12, 5);
    await backlogs(quiet, 1, 4);
    const needs = await server.graph.read((tx) => spawnNeeds(tx, [busy, quiet], 3, 10));
    // Each tenant's biggest first, then the busy tenant's next ones.
    expect(needs.map((n) => [n.tenantId, n.waiting])).toEqual([
      [busy, 5],
      [quiet, 4],
      ...Array(8).fill([busy, 5]),
    ]);
  });

  it('decides a quiet tenant’s canary beside a busy tenant’s page of undecided ones', async () => {
    // Canaries wait for evidence: a busy tenant's 60 oldest filled every page of 50.
    await candidates(busy, 60, 100);
    const [late] = await candidates(quiet, 1, 10);
    const page = await server.graph.read((tx) => candidatesToDecide(tx, [busy, quiet], 50));
    expect(page.filter((v) => v.tenantId === quiet).map((v) => v.id)).toEqual([late!.id]);
    expect(page).toHaveLength(50);
  });
});
