import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { countRefusal, type Refusal } from '../graph/audit.repository.js';
import { claimWarning } from '../graph/budget.repository.js';
import { putCheckpoint, putCheckpointWrites } from '../graph/checkpoint.repository.js';
import { connectGraph, type Graph } from '../graph/graph.js';
import { claimEpisodes } from '../graph/memory/ingest.repository.js';
import { claimOutbox } from '../graph/outbox.repository.js';
import { claimReflection } from '../graph/reflection.repository.js';
import { AuditOutcome } from '../src/domain/auth.js';
import { BudgetScope } from '../src/domain/budget.js';
import { checkpointRecord } from './utils/checkpoint-fixtures.js';
import { deleteTenant } from './utils/server.js';

/**
 * Issue 15, after test/engine-deadlocks.int.test.ts: the other places that take a node's write
 * lock before a check-then-write (an outbox relay's claim, an ingester's claim, a checkpoint
 * put on its run, a reflection's claim, a budget warning, a refusal count) raced by four
 * writers at once. Each must give the node to one writer (or count every writer) and none may
 * deadlock: a deadlock is retried after a backoff, which a claim queue pays in latency.
 * Deadlocks are counted as the retries of a Graph of the suite's own.
 */
const WORKERS = 4;
const ROUNDS = 60;

describe('writers racing for one node', () => {
  let graph: Graph;
  const tenantId = `lock-sites-${randomUUID()}`;

  beforeAll(async () => {
    graph = await connectGraph(inject('neo4j'), { log: () => {}, attempts: 3 });
  });
  afterAll(async () => {
    await graph.write((tx) =>
      tx.run({
        cypher: 'MATCH (e:OutboxEvent {tenantId: $tenantId}) DELETE e',
        params: { tenantId },
      }),
    );
    await deleteTenant(graph, tenantId);
    await graph?.close();
  });

  /** Runs `work` by every worker at once, one round per item; what each round's workers got. */
  const race = async <T, I>(items: I[], work: (item: I, worker: number) => Promise<T>) => {
    let deadlocks = 0;
    const rounds: T[][] = [];
    for (const item of items) {
      const retries = graph.retryCount;
      rounds.push(await Promise.all(Array.from({ length: WORKERS }, (_, w) => work(item, w))));
      deadlocks += graph.retryCount - retries;
    }
    return { rounds, deadlocks };
  };
  const create = (cypher: string, params: Record<string, unknown> = {}) =>
    graph.write(async (tx) =>
      (await tx.run<{ id: string }>({ cypher, params: { tenantId, ...params } })).map((r) => r.id),
    );
  const rounds = Array.from({ length: ROUNDS }, (_, i) => i);

  it('outbox relays claiming one due event: one relay gets it, and none deadlocks', async () => {
    const { rounds: got, deadlocks } = await race(rounds, async (i, w) => {
      if (w === 0) {
        // The event appears as the relays poll, as it does after a commit.
        await create(
          `CREATE (e:OutboxEvent {id: randomUUID(), tenantId: $tenantId, event: 'e', at: $i,
                                  seq: 0, owner: 'writer', handoff: false, claimUntil: 0})
           RETURN e.id AS id`,
          { i },
        );
      }
      const claimed = await graph.write((tx) =>
        claimOutbox(tx, {
          claimant: `relay-${w}`,
          handoffs: false,
          tenants: [tenantId],
          leaseMs: 60_000,
          limit: 8,
        }),
      );
      return claimed.map((e) => e.id);
    });
    // Every event went to exactly one relay.
    const claims = got.flat(2);
    expect(new Set(claims).size).toBe(claims.length);
    expect(claims.length).toBe(ROUNDS);
    expect(deadlocks).toBe(0);
  });

  it('a relay claiming an event that another relay deletes under its lock starts again and finds nothing', async () => {
    const [id] = await create(
      `CREATE (e:OutboxEvent {id: randomUUID(), tenantId: $tenantId, event: 'e', at: 0, seq: 0,
                              owner: 'writer', handoff: false, claimUntil: 0})
       RETURN e.id AS id`,
    );
    // Another relay published it: it holds the event's lock and deletes it, not yet committed.
    let deleted!: () => void;
    const isDeleted = new Promise<void>((r) => (deleted = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const deleting = graph.write(async (tx) => {
      await tx.run({
        cypher: 'MATCH (e:OutboxEvent {id: $id}) SET e.claimUntil = 1 DETACH DELETE e',
        params: { id },
      });
      deleted();
      await released;
    });
    await isDeleted;
    const claiming = graph.write((tx) =>
      claimOutbox(tx, {
        claimant: 'relay-late',
        handoffs: false,
        tenants: [tenantId],
        leaseMs: 60_000,
        limit: 8,
      }),
    );
    // The claim matched the event and waits for its lock (Neo4j lists it as blocked).
    await expect
      .poll(
        async () =>
          (
            await graph.readAutoCommit((tx) =>
              tx.run<{ n: number }>({
                cypher: `SHOW TRANSACTIONS YIELD status, currentQuery
                         WHERE status STARTS WITH 'Blocked' AND currentQuery CONTAINS 'OutboxEvent'
                         RETURN count(*) AS n`,
                params: {},
              }),
            )
          )[0]?.n,
        { timeout: 10_000, interval: 50 },
      )
      .toBeGreaterThan(0);
    release();
    await deleting;
    expect(await claiming).toEqual([]);
  });

  it('ingesters claiming one PENDING episode: one gets it, and none deadlocks', async () => {
    const { rounds: got, deadlocks } = await race(rounds, async (i, w) => {
      if (w === 0) {
        await create(
          `CREATE (e:Episode {id: randomUUID(), tenantId: $tenantId, kind: 'NOTE',
                              sourceKey: 'race-' + $i, content: 'c', status: 'PENDING',
                              attempts: 0, occurredAt: datetime(), createdAt: datetime(),
                              updatedAt: datetime()})
           RETURN e.id AS id`,
          { i },
        );
      }
      const claimed = await graph.write((tx) =>
        claimEpisodes(tx, `ingester-${w}`, 8, 60_000, [tenantId]),
      );
      return claimed.map((c) => c.episode.id);
    });
    const claims = got.flat(2);
    expect(new Set(claims).size).toBe(claims.length);
    expect(claims.length).toBe(ROUNDS);
    expect(deadlocks).toBe(0);
  });

  it('checkpoint puts and pending writes of one run at once: all are kept, and none deadlocks', async () => {
    const [runId] = await create(
      `CREATE (r:Run {id: randomUUID(), tenantId: $tenantId, status: 'RUNNING',
                      createdAt: datetime(), updatedAt: datetime()})
       RETURN r.id AS id`,
    );
    const threadId = randomUUID();
    const record = (checkpointId: string) => checkpointRecord(threadId, checkpointId);
    const { rounds: got, deadlocks } = await race(rounds, async (i, w) => {
      const checkpointId = String(i).padStart(4, '0');
      // The first writer stores the round's checkpoint; the others store its pending writes.
      // Its keep is past the rounds: the race is between puts and writes, not pruning.
      return graph.write(async (tx) =>
        w === 0
          ? (await putCheckpoint(tx, tenantId, runId!, record(`${checkpointId}-${w}`), 1_000))
            ? 'written'
            : 'refused'
          : putCheckpointWrites(
              tx,
              tenantId,
              runId!,
              { threadId, ns: '', checkpointId: `${checkpointId}-0` },
              [
                {
                  taskId: `task-${w}`,
                  idx: 0,
                  channel: 'c',
                  type: 'json',
                  value: new Uint8Array([w]),
                  taskPath: '',
                },
              ],
            ),
      );
    });
    // A write that ran before its checkpoint existed says so; none is refused (the run is live).
    expect(got.flat().every((r) => r === 'written' || r === 'missing')).toBe(true);
    const [row] = await graph.read((tx) =>
      tx.run<{ checkpoints: number; writes: number }>({
        cypher: `MATCH (r:Run {id: $runId})
                 RETURN COUNT { (r)-[:CHECKPOINTED]->() } AS checkpoints,
                        COUNT { (:CheckpointWrite {tenantId: $tenantId, threadId: $threadId}) } AS writes`,
        params: { runId, tenantId, threadId },
      }),
    );
    expect(Number(row!.checkpoints)).toBe(ROUNDS);
    expect(Number(row!.writes)).toBe(got.flat().filter((r) => r === 'written').length - ROUNDS);
    expect(deadlocks).toBe(0);
  });

  it('reflectors claiming one ended run: one gets it, and none deadlocks', async () => {
    const runIds = await create(
      `UNWIND range(1, $n) AS i
       CREATE (r:Run {id: randomUUID(), tenantId: $tenantId, status: 'SUCCEEDED',
                      createdAt: datetime(), updatedAt: datetime()})
       RETURN r.id AS id`,
      { n: ROUNDS },
    );
    const { rounds: got, deadlocks } = await race(runIds, (id) =>
      graph.write((tx) => claimReflection(tx, tenantId, id)),
    );
    for (const round of got) expect(round.filter(Boolean).length).toBe(1);
    expect(deadlocks).toBe(0);
  });

  it('callers warning for one budget limit at once: one warns, and none deadlocks', async () => {
    const { rounds: got, deadlocks } = await race(rounds, (i) =>
      graph.write((tx) =>
        claimWarning(
          tx,
          tenantId,
          {
            scope: BudgetScope.TENANT,
            targetId: tenantId,
            limit: { usd: i + 1, tokens: null },
            spent: { usd: 0, tokens: 0 },
            warned: { usd: null, tokens: null },
          },
          ['usd'],
        ),
      ),
    );
    for (const round of got) expect(round.filter((u) => u.length > 0).length).toBe(1);
    expect(deadlocks).toBe(0);
  });

  it('refusals from one address counted at once: every one is counted, and none deadlocks', async () => {
    const refusal: Refusal = {
      tenantId,
      operation: 'authenticate',
      actor: null,
      actorKeyId: null,
      targetIds: [],
      outcome: AuditOutcome.UNAUTHENTICATED,
      code: 'UNAUTHENTICATED',
      address: '203.0.113.9',
    };
    const now = Date.now();
    const { deadlocks } = await race(rounds, () =>
      graph.write((tx) => countRefusal(tx, refusal, now)),
    );
    const [row] = await graph.read((tx) =>
      tx.run<{ total: number }>({
        cypher: `MATCH (e:AuditEvent {tenantId: $tenantId}) RETURN sum(e.count) AS total`,
        params: { tenantId },
      }),
    );
    expect(Number(row!.total)).toBe(ROUNDS * WORKERS);
    expect(deadlocks).toBe(0);
  });
});
