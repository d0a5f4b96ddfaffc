import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../graph/cypher.js';
import {
  performanceQuery,
  performanceRows,
  type PerformanceSubject,
} from '../graph/analytics.repository.js';
import { createOperators } from './utils/engine-steps.js';
import { expectWorkUnchanged, profiler } from './utils/profile.js';
import { startTestServer, type TestServer } from './utils/server.js';

const DAY = 86_400_000;

/**
 * A subject's performance over a window (`agent.performance`, asked of every agent by the
 * console's Organisation page; `capabilityPerformance` on its Performance page) walked every
 * run of the agent, or of the capability's tasks, ever made to find the window's: a Chief of
 * Staff makes one for every task, and at 50,000 a week's read cost 80 ms. The runs now come
 * from the tenant's runs in the window when those are fewer than the edges to the subject
 * (graph/analytics.repository.ts: runsOf, by the (tenantId, endedAt) index).
 */
describe('performance over a window', () => {
  let server: TestServer;
  const prof = profiler();
  const ids: Record<string, string> = {};
  const until = Date.now() + DAY;
  const window = () => ({ tenantId: server.tenantId, sinceMs: until - 7 * DAY, untilMs: until });
  /** Agents by name and capabilities by their own name: each subject's key. */
  const keyOf = (name: string) => ids[name] ?? name;

  /** Each subject's runs and evaluated runs over the window, and runs per bucket, by name. */
  const performanceOf = (tx: Tx, subject: PerformanceSubject, names: string[]) =>
    performanceRows(tx, subject, { ...window(), keys: names.map(keyOf), bucketMs: DAY }).then(
      (rows) =>
        Object.fromEntries(
          names.map((name) => {
            const { overall, buckets } = rows.get(keyOf(name))!;
            return [name, { ...overall, buckets: buckets.map((b) => [b.bucket, b.runs]) }];
          }),
        ),
    );

  /**
   * `n` runs by `agent` of tasks requiring `capability`, ended `daysAgo` days ago (plus i
   * minutes): every seventh RELEASED (no outcome: left out), every other third FAILED.
   */
  const runs = (agent: string, capability: string, n: number, daysAgo: number) =>
    server.graph.write((tx) =>
      tx.run({
        cypher: `
          MATCH (a:Agent {tenantId: $t, id: $agent})
          MERGE (c:Capability {tenantId: $t, name: $capability})
          WITH a, c
          UNWIND range(1, $n) AS i
          WITH a, c, i, datetime() - duration({days: $ago}) + duration({minutes: i}) AS at
          CREATE (run:Run {id: randomUUID(), tenantId: $t, createdAt: at, startedAt: at,
                        endedAt: at + duration({seconds: i}), latencyMs: 1000 * i,
                        status: CASE WHEN i % 7 = 0 THEN 'RELEASED'
                                     WHEN i % 3 = 0 THEN 'FAILED' ELSE 'SUCCEEDED' END})
                 -[:BY]->(a),
                 (run)-[:OF]->(:Task {id: randomUUID(), tenantId: $t, title: 'task ' + i,
                                      status: 'COMPLETED', priority: 'MEDIUM', createdAt: at,
                                      updatedAt: at})-[:REQUIRES]->(c)`,
        params: {
          t: server.tenantId,
          agent: ids[agent],
          capability,
          n: neo4j.int(n),
          ago: neo4j.int(daysAgo),
        },
      }),
    );

  beforeAll(async () => {
    server = await startTestServer();
    Object.assign(ids, await createOperators(server, { Busy: [], Quiet: [] }));
    await runs('Busy', 'writing', 40, 1);
    await runs('Busy', 'writing', 10, 3);
    await runs('Busy', 'writing', 200, 30);
    await runs('Quiet', 'review', 6, 2);
  }, 60_000);

  afterAll(async () => {
    await server.stop();
    await prof.close();
  });

  it('reads as walking each subject’s runs does', async () => {
    /** The statement's rows, the tenant's runs in the window given as `windowRuns`. */
    const rowsWith = (subject: PerformanceSubject, names: string[], windowRuns: number | null) =>
      server.graph.read((tx) =>
        tx.run(
          performanceQuery(subject, {
            ...window(),
            keys: names.map(keyOf),
            bucketMs: DAY,
            windowRuns,
          }),
        ),
      );
    // With 50: the busy subjects' (250 runs) from the tenant's window, the quiet ones' walked.
    for (const [subject, names] of [
      ['agent', ['Busy', 'Quiet']],
      ['capability', ['writing', 'review']],
    ] as const) {
      expect(await rowsWith(subject, [...names], 50)).toEqual(
        await rowsWith(subject, [...names], null),
      );
    }
    const agents = await server.graph.read((tx) => performanceOf(tx, 'agent', ['Busy', 'Quiet']));
    expect(agents.Busy).toMatchObject({ runs: 44, evaluated: 0 });
    expect(agents.Quiet).toMatchObject({ runs: 6, evaluated: 0 });
    const capabilities = await server.graph.read((tx) =>
      performanceOf(tx, 'capability', ['writing', 'review']),
    );
    expect(capabilities).toEqual({ writing: agents.Busy, review: agents.Quiet });
  });

  it('costs as much when a busy subject had 300 more runs before the window', async () => {
    const reads = {
      agents: (tx: Tx) => performanceOf(tx, 'agent', ['Busy', 'Quiet']),
      capabilities: (tx: Tx) => performanceOf(tx, 'capability', ['writing', 'review']),
    };
    const expected = {
      agents: await server.graph.read(reads.agents),
      capabilities: await server.graph.read(reads.capabilities),
    };
    await expectWorkUnchanged(prof, reads, () => runs('Busy', 'writing', 300, 60), expected);
  });
});
