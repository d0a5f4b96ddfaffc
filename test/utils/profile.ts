import neo4j, { type Driver } from 'neo4j-driver';
import { expect, inject } from 'vitest';
import type { CypherQuery, Row, Tx } from '../../graph/cypher.js';

interface ProfiledPlan {
  operatorType: string;
  dbHits: number;
  rows: number;
  arguments: { Details?: unknown };
  children: ProfiledPlan[];
}

const hitsOf = (plan: ProfiledPlan): number =>
  plan.dbHits + plan.children.reduce((sum, child) => sum + hitsOf(child), 0);

/** The plan as an indented tree of operators with their db hits, for a failed bound's message. */
const render = (plan: ProfiledPlan, depth = 0): string =>
  `${'  '.repeat(depth)}${plan.operatorType.replace(/@.*/, '')} hits=${plan.dbHits} rows=${plan.rows}` +
  ` ${String(plan.arguments.Details ?? '').slice(0, 160)}\n` +
  plan.children.map((child) => render(child, depth + 1)).join('');

/**
 * Measures the work of repository code, not its time: `measure(work)` runs `work` with a Tx
 * that PROFILEs every statement (results as usual) and returns the db hits they took in all,
 * how many statements it sent, and their plans (pass `plans` as an assertion's message: a
 * bound that fails in CI then shows which operator did the work).
 */
export function profiler(): {
  measure<T>(
    work: (tx: Tx) => Promise<T>,
  ): Promise<{ result: T; dbHits: number; statements: number; plans: string }>;
  close(): Promise<void>;
} {
  const settings = inject('neo4j');
  const driver: Driver = neo4j.driver(
    settings.uri,
    neo4j.auth.basic(settings.user, settings.password),
    { disableLosslessIntegers: true },
  );
  return {
    async measure(work) {
      const session = driver.session({ database: settings.database });
      const tx = await session.beginTransaction();
      let dbHits = 0;
      let statements = 0;
      let plans = '';
      const profiled: Tx = {
        async run<R extends Row>(q: CypherQuery) {
          statements += 1;
          const res = await tx.run(`PROFILE ${q.cypher}`, q.params ?? {});
          const plan = res.summary.profile as unknown as ProfiledPlan;
          dbHits += hitsOf(plan);
          plans += render(plan);
          return res.records.map((r) => r.toObject() as R);
        },
      };
      try {
        const result = await work(profiled);
        return { result, dbHits, statements, plans };
      } finally {
        await tx.rollback();
        await session.close();
      }
    },
    close: () => driver.close(),
  };
}

/** What measureEach gives of one read: its db hits, its result as JSON, and its plans. */
export interface ReadWork {
  hits: number;
  result: string;
  plans: string;
}

/** Measures each read once, in turn, by name (a bound's "before" or "after"). */
export async function measureEach(
  prof: ReturnType<typeof profiler>,
  reads: Record<string, (tx: Tx) => Promise<unknown>>,
): Promise<Record<string, ReadWork>> {
  const out: Record<string, ReadWork> = {};
  for (const [name, read] of Object.entries(reads)) {
    const { result, dbHits, plans } = await prof.measure(read);
    out[name] = { hits: dbHits, result: JSON.stringify(result), plans };
  }
  return out;
}

/** What a page shows of its rows (one property each) and its count, for comparing reads. */
export const shown = (p: { items: { node: object }[]; totalCount?: number }, key: string) => ({
  rows: p.items.map((i) => (i.node as Record<string, unknown>)[key]),
  totalCount: p.totalCount,
});

/**
 * The bound of the *-cost suites: each read gives `expected` after `grow` adds rows it must not
 * read, and its db hits grow by fewer than `slack` (a read whose work follows the tenant's rows
 * grows by hundreds). Soft: every read's failure is reported, with its plans.
 */
export async function expectWorkUnchanged(
  prof: ReturnType<typeof profiler>,
  reads: Record<string, (tx: Tx) => Promise<unknown>>,
  grow: () => Promise<unknown>,
  expected: Record<string, unknown>,
  slack = 30,
): Promise<void> {
  const before = await measureEach(prof, reads);
  await grow();
  const after = await measureEach(prof, reads);
  for (const [name, want] of Object.entries(expected)) {
    expect.soft(JSON.parse(after[name]!.result), name).toEqual(want);
    const grew = after[name]!.hits - before[name]!.hits;
    expect.soft(grew, `${name}\n${after[name]!.plans}`).toBeLessThan(slack);
  }
}
