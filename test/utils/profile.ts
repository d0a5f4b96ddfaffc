import neo4j, { type Driver } from 'neo4j-driver';
import { inject } from 'vitest';
import type { CypherQuery, Row, Tx } from '../../graph/cypher.js';

interface ProfiledPlan {
  dbHits: number;
  children: ProfiledPlan[];
}

const hitsOf = (plan: ProfiledPlan): number =>
  plan.dbHits + plan.children.reduce((sum, child) => sum + hitsOf(child), 0);

/**
 * Measures the work of repository code, not its time: `measure(work)` runs `work` with a Tx
 * that PROFILEs every statement (results as usual) and returns the db hits they took in all,
 * and how many statements it sent.
 */
export function profiler(): {
  measure<T>(
    work: (tx: Tx) => Promise<T>,
  ): Promise<{ result: T; dbHits: number; statements: number }>;
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
      const profiled: Tx = {
        async run<R extends Row>(q: CypherQuery) {
          statements += 1;
          const res = await tx.run(`PROFILE ${q.cypher}`, q.params ?? {});
          dbHits += hitsOf(res.summary.profile as unknown as ProfiledPlan);
          return res.records.map((r) => r.toObject() as R);
        },
      };
      try {
        const result = await work(profiled);
        return { result, dbHits, statements };
      } finally {
        await tx.rollback();
        await session.close();
      }
    },
    close: () => driver.close(),
  };
}
