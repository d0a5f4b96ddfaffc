/**
 * Where a benchmark's database time went: the Cypher statements this process sent during a
 * load, by the repository function that sent them, read from the metrics registry
 * (`neo4j_statement_duration_seconds`, src/metrics/metrics.ts) before and after it. Only this
 * process's statements: worker processes keep registries of their own.
 */
import { metrics } from '../src/metrics/metrics.js';
import { int, ms } from './stats.js';

export interface StatementTotal {
  statement: string;
  count: number;
  seconds: number;
}

/** Every statement's count and total seconds so far in this process. */
export async function statementTotals(): Promise<Map<string, StatementTotal>> {
  const totals = new Map<string, StatementTotal>();
  const { values } = await metrics.neo4j.statement.get();
  for (const v of values) {
    const statement = String(v.labels.statement);
    const total = totals.get(statement) ?? { statement, count: 0, seconds: 0 };
    if (v.metricName?.endsWith('_count')) total.count = v.value;
    else if (v.metricName?.endsWith('_sum')) total.seconds = v.value;
    else continue;
    totals.set(statement, total);
  }
  return totals;
}

/** What was sent between two readings, most time first. */
export function statementsBetween(
  before: Map<string, StatementTotal>,
  after: Map<string, StatementTotal>,
): StatementTotal[] {
  return [...after.values()]
    .map((a) => {
      const b = before.get(a.statement);
      return {
        statement: a.statement,
        count: a.count - (b?.count ?? 0),
        seconds: a.seconds - (b?.seconds ?? 0),
      };
    })
    .filter((t) => t.count > 0)
    .sort((x, y) => y.seconds - x.seconds);
}

/** A table of the `top` statements by time, with counts per run (`runs` of the load). */
export function printStatements(rows: StatementTotal[], runs: number, top = 10): void {
  const count = rows.reduce((n, r) => n + r.count, 0);
  const seconds = rows.reduce((n, r) => n + r.seconds, 0);
  console.log(
    `  ${int(count)} statements from this process (${(count / Math.max(1, runs)).toFixed(1)} per run), ` +
      `${seconds.toFixed(1)} s of statement time (statements at once add up); the ${top} that took longest:`,
  );
  console.log('  | statement | count | per run | mean | share of the time |');
  console.log('  |---|---|---|---|---|');
  for (const r of rows.slice(0, top)) {
    console.log(
      `  | ${r.statement} | ${int(r.count)} | ${(r.count / Math.max(1, runs)).toFixed(2)} | ` +
        `${ms((r.seconds * 1000) / r.count)} | ${((100 * r.seconds) / Math.max(seconds, 1e-9)).toFixed(1)}% |`,
    );
  }
}
