import neo4j from 'neo4j-driver';
import type { CypherQuery, Tx } from './cypher.js';
import { effectiveEvaluation } from './evaluation.repository.js';

/*
 * Performance analytics (issue 12): the ended runs of an agent, or of the tasks that require a
 * capability, over a window, aggregated overall and per time bucket in one statement.
 */

/** Sums over a set of runs, as the database aggregates them. */
export type RunAggregate = {
  runs: number;
  /** Runs with an effective evaluation. */
  evaluated: number;
  /** Runs whose effective verdict is PASS. */
  successes: number;
  /** Mean effective score over the evaluated runs; null when none is. */
  meanScore: number | null;
  /**
   * The model calls, in USD, of every attempt that ended in the period, counted or not: an
   * interrupted, released or abandoned attempt is no run of the figures, but it was paid for.
   */
  costUsd: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
};

export interface PerformanceRows {
  /** False when the agent or capability is not the tenant's. */
  found: boolean;
  overall: RunAggregate;
  /** Only buckets with runs, by index from the window's start (0 = the oldest). */
  buckets: (RunAggregate & { bucket: number })[];
}

/** The window's ended runs, by the (tenantId, endedAt) index: for a MATCH binding `r`. */
const WINDOW_RUNS = `MATCH (r:Run {tenantId: $tenantId}) USING INDEX SEEK r:Run(tenantId, endedAt)
        WHERE r.endedAt >= datetime({epochMillis: $sinceMs})
          AND r.endedAt < datetime({epochMillis: $untilMs})`;

/** The most of the tenant's runs in a window counted to choose how a subject's are read. */
const WINDOW_RUNS_COUNTED = 10_000;

/** Binds `windowRuns`: the tenant's runs in the window, counted up to WINDOW_RUNS_COUNTED. */
const WINDOW_COUNT = `CALL () {
        ${WINDOW_RUNS}
        WITH r LIMIT ${WINDOW_RUNS_COUNTED + 1}
        RETURN count(r) AS counted
      }
      WITH CASE WHEN counted <= ${WINDOW_RUNS_COUNTED} THEN counted END AS windowRuns`;

/**
 * Whose runs, the only text spliced into the statement: the subject `s` (tenant-scoped), its
 * runs walked from it, the test of a run `r` of the window (both bound: each hop an expand
 * between two nodes, from the run's side), and how many edges lead to it (a count the store
 * keeps).
 */
const SUBJECTS = {
  agent: {
    subject: 'OPTIONAL MATCH (s:Agent {tenantId: $tenantId, id: key}) USING INDEX SEEK s:Agent(id)',
    walk: 'MATCH (r:Run)-[:BY]->(s)',
    test: 'WHERE (r)-[:BY]->(s)',
    degree: 'COUNT { (s)<-[:BY]-() }',
  },
  capability: {
    subject: 'OPTIONAL MATCH (s:Capability {tenantId: $tenantId, name: key})',
    walk: 'MATCH (r:Run)-[:OF]->(:Task)-[:REQUIRES]->(s)',
    test: 'MATCH (r)-[:OF]->(t:Task) WHERE (t)-[:REQUIRES]->(s)',
    degree: 'COUNT { (s)<-[:REQUIRES]-() }',
  },
} as const;
export type PerformanceSubject = keyof typeof SUBJECTS;

/**
 * A subject's runs, bound as `r`: walked from it, or the tenant's in the window when those are
 * fewer than the edges to it (`windowRuns`, bound by WINDOW_COUNT; null: more than it counts).
 * A Chief of Staff makes a run for every task, and walking all of them to find a week's cost
 * its whole history (50,000: 80 ms); a capability's tasks likewise.
 */
function runsOf({ walk, test, degree }: (typeof SUBJECTS)[PerformanceSubject]): string {
  return `CALL (s, windowRuns) {
          WITH s WHERE windowRuns IS NULL OR ${degree} <= windowRuns
          ${walk} RETURN r
          UNION ALL
          WITH s WHERE ${degree} > windowRuns
          ${WINDOW_RUNS}
          WITH r, s ${test} RETURN r
        }
        WITH r`;
}

/**
 * Runs with an outcome, the runs of the figures; interrupted, released, abandoned and aborted
 * attempts are nobody's result, and count only in the cost (their model calls were paid for).
 */
const ENDED = ['SUCCEEDED', 'FAILED'];

/**
 * The aggregates of one statement over a bounded list of per-attempt maps (the window's ended
 * attempts; one without an outcome has `counted` false and no score nor latency, so it adds its
 * cost only). Percentiles are interpolated by percentileCont in Cypher, so the reply is one row
 * whatever the number of runs: no per-run list crosses the wire.
 */
const AGGREGATES = `sum(CASE WHEN x.counted THEN 1 ELSE 0 END) AS runs, count(x.score) AS evaluated,
    sum(CASE WHEN x.verdict = 'PASS' THEN 1 ELSE 0 END) AS successes,
    avg(x.score) AS meanScore, sum(x.cost) AS costUsd,
    percentileCont(x.latencyMs, 0.5) AS latencyP50Ms,
    percentileCont(x.latencyMs, 0.95) AS latencyP95Ms`;

/**
 * The statement: for each key, the subject (tenant-scoped), its attempts that ended in
 * [since, until), each with its model calls' cost and (a run with an outcome) its effective
 * evaluation, then the totals and the totals per bucket (index = whole buckets between `since`
 * and the attempt's end). One row per key, so a page of agents is one statement. `windowRuns`
 * given (a number, or null: walk every subject's runs) stands for WINDOW_COUNT: to compare the
 * two ways.
 */
export function performanceQuery(
  subject: PerformanceSubject,
  o: {
    tenantId: string;
    keys: readonly string[];
    sinceMs: number;
    untilMs: number;
    bucketMs: number;
    windowRuns?: number | null;
  },
): CypherQuery {
  const { subject: match } = SUBJECTS[subject];
  return {
    cypher: `
      ${o.windowRuns === undefined ? WINDOW_COUNT : 'WITH $windowRuns AS windowRuns'}
      UNWIND $keys AS key
      ${match}
      CALL (s, windowRuns) {
        WITH s WHERE s IS NOT NULL
        ${runsOf(SUBJECTS[subject])}
        WHERE r.tenantId = $tenantId
          AND r.endedAt >= datetime({epochMillis: $sinceMs})
          AND r.endedAt < datetime({epochMillis: $untilMs})
        WITH r, r.status IN $ended AS counted
        // Only a run with an outcome is judged in the figures: the others' is not read.
        OPTIONAL CALL (r, counted) {
          WITH r WHERE counted
          ${effectiveEvaluation('r')}
        }
        CALL (r) {
          OPTIONAL MATCH (r)-[:CALLED]->(c:LLMCall)
          RETURN coalesce(sum(c.costUsd), 0.0) AS cost
        }
        RETURN collect({bucket: (r.endedAt.epochMillis - $sinceMs) / $bucketMs, counted: counted,
                        latencyMs: CASE WHEN counted THEN r.latencyMs END,
                        score: score, verdict: verdict, cost: cost}) AS list
      }
      CALL (list) {
        UNWIND list AS x
        RETURN ${AGGREGATES}
      }
      CALL (list) {
        UNWIND list AS x
        WITH x.bucket AS bucket, ${AGGREGATES}
        ORDER BY bucket
        RETURN collect({bucket: bucket, runs: runs, evaluated: evaluated, successes: successes,
                        meanScore: meanScore, costUsd: costUsd, latencyP50Ms: latencyP50Ms,
                        latencyP95Ms: latencyP95Ms}) AS buckets
      }
      RETURN key, s IS NOT NULL AS found, runs, evaluated, successes, meanScore, costUsd,
             latencyP50Ms, latencyP95Ms, buckets`,
    params: {
      tenantId: o.tenantId,
      keys: [...o.keys],
      ended: ENDED,
      sinceMs: neo4j.int(o.sinceMs),
      untilMs: neo4j.int(o.untilMs),
      bucketMs: neo4j.int(o.bucketMs),
      windowRuns: o.windowRuns == null ? null : neo4j.int(o.windowRuns),
    },
  };
}

/** Runs the performance statement for agents (by id) or capabilities (by name), by key. */
export async function performanceRows(
  tx: Tx,
  subject: PerformanceSubject,
  o: Parameters<typeof performanceQuery>[1],
): Promise<Map<string, PerformanceRows>> {
  const rows = await tx.run<
    RunAggregate & { key: string; found: boolean; buckets: PerformanceRows['buckets'] }
  >(performanceQuery(subject, o));
  return new Map(
    rows.map(({ key, found, buckets, ...overall }) => [
      key,
      {
        found,
        overall: aggregate(overall),
        buckets: buckets.map((b) => ({ ...aggregate(b), bucket: Number(b.bucket) })),
      },
    ]),
  );
}

function aggregate(r: RunAggregate): RunAggregate {
  const num = (v: unknown) => (v == null ? null : Number(v));
  return {
    runs: Number(r.runs),
    evaluated: Number(r.evaluated),
    successes: Number(r.successes),
    meanScore: num(r.meanScore),
    costUsd: Number(r.costUsd ?? 0),
    latencyP50Ms: num(r.latencyP50Ms),
    latencyP95Ms: num(r.latencyP95Ms),
  };
}
