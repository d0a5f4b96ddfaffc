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
  /** The runs' model calls, in USD. */
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

/** Whose runs: the only text spliced into the statement. */
const SUBJECTS = {
  agent: {
    subject: 'OPTIONAL MATCH (s:Agent {tenantId: $tenantId, id: key}) USING INDEX SEEK s:Agent(id)',
    runs: 'MATCH (r:Run)-[:BY]->(s)',
  },
  capability: {
    subject: 'OPTIONAL MATCH (s:Capability {tenantId: $tenantId, name: key})',
    runs: 'MATCH (r:Run)-[:OF]->(:Task)-[:REQUIRES]->(s)',
  },
} as const;
export type PerformanceSubject = keyof typeof SUBJECTS;

/** Runs with an outcome; released, abandoned and aborted attempts are nobody's result. */
const ENDED = ['SUCCEEDED', 'FAILED'];

/**
 * The aggregates of one statement over a bounded list of per-run maps (the window's runs).
 * Percentiles are interpolated by percentileCont in Cypher, so the reply is one row whatever
 * the number of runs: no per-run list crosses the wire.
 */
const AGGREGATES = `count(x) AS runs, count(x.score) AS evaluated,
    sum(CASE WHEN x.verdict = 'PASS' THEN 1 ELSE 0 END) AS successes,
    avg(x.score) AS meanScore, sum(x.cost) AS costUsd,
    percentileCont(x.latencyMs, 0.5) AS latencyP50Ms,
    percentileCont(x.latencyMs, 0.95) AS latencyP95Ms`;

/**
 * The statement: for each key, the subject (tenant-scoped), its runs that ended in
 * [since, until), each with its effective evaluation and its model calls' cost, then the totals
 * and the totals per bucket (index = whole buckets between `since` and the run's end). One row
 * per key, so a page of agents is one statement.
 */
export function performanceQuery(
  subject: PerformanceSubject,
  o: {
    tenantId: string;
    keys: readonly string[];
    sinceMs: number;
    untilMs: number;
    bucketMs: number;
  },
): CypherQuery {
  const { subject: match, runs } = SUBJECTS[subject];
  return {
    cypher: `
      UNWIND $keys AS key
      ${match}
      CALL (s) {
        WITH s WHERE s IS NOT NULL
        ${runs}
        WHERE r.tenantId = $tenantId AND r.status IN $ended
          AND r.endedAt >= datetime({epochMillis: $sinceMs})
          AND r.endedAt < datetime({epochMillis: $untilMs})
        CALL (r) { ${effectiveEvaluation('r')} }
        CALL (r) {
          OPTIONAL MATCH (r)-[:CALLED]->(c:LLMCall)
          RETURN coalesce(sum(c.costUsd), 0.0) AS cost
        }
        RETURN collect({bucket: (r.endedAt.epochMillis - $sinceMs) / $bucketMs,
                        latencyMs: r.latencyMs, score: score, verdict: verdict, cost: cost}) AS list
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
