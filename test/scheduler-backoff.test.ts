import { describe, expect, it } from 'vitest';
import type { Tx } from '../graph/cypher.js';
import { UnavailableError } from '../src/domain/errors.js';
import { Scheduler } from '../src/engine/scheduler.js';
import type { Logger } from '../src/logger.js';
import type { UnitOfWork } from '../src/services/unit-of-work.js';

/** The scheduler's loop while the graph is unreachable (issue 10), with no database at all. */

const until = async (what: string, check: () => boolean, timeoutMs = 20_000) => {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('the scheduler while the graph is unavailable', () => {
  it('backs off exponentially and logs once when the graph goes away and once when it is back', async () => {
    let down = true;
    const calls: number[] = [];
    // Every statement of a tick answers nothing when the graph is up.
    const tx = { run: async () => [] } as unknown as Tx;
    const attempt = async <T>(work: (tx: Tx, emit: () => void) => Promise<T>): Promise<T> => {
      calls.push(performance.now());
      if (down) throw new UnavailableError('The graph database is not reachable right now');
      return work(tx, () => {});
    };
    const uow = { run: attempt, read: attempt, write: attempt } as unknown as UnitOfWork;
    const logged: { level: string; msg: string }[] = [];
    const log = (level: string) => (_obj: unknown, msg: string) => logged.push({ level, msg });
    const logger = {
      warn: log('warn'),
      info: log('info'),
      error: log('error'),
      debug: log('debug'),
    } as unknown as Logger;
    const pollMs = 50;
    const scheduler = new Scheduler({
      uow,
      logger,
      executor: () => Promise.reject(new Error('no steps here')),
      pollMs,
      leaseMs: 60_000,
    });
    scheduler.start();
    try {
      // Each failed tick makes one call; five of them, waiting 2, 4, 8, 16 polls in between.
      await until('five failed ticks', () => calls.length >= 5);
      expect(calls[4]! - calls[0]!).toBeGreaterThanOrEqual(pollMs * (2 + 4 + 8 + 16) - 5);
      expect(logged).toEqual([
        {
          level: 'warn',
          msg: 'the graph is unavailable; the scheduler retries with backoff up to 5000 ms',
        },
      ]);

      down = false;
      await until('the graph to be seen again', () => logged.length === 2);
      expect(logged[1]).toEqual({
        level: 'info',
        msg: 'the graph is reachable again; scheduling resumes',
      });
      // Back to the poll interval: more ticks follow, each a few calls, and nothing more is logged.
      const seen = calls.length;
      await until('ticks at the poll interval', () => calls.length >= seen + 10);
      expect(logged).toHaveLength(2);
    } finally {
      await scheduler.stop();
    }
  });
});
