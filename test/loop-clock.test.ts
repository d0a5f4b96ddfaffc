import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Tx } from '../graph/cypher.js';
import { Scheduler } from '../src/engine/scheduler.js';
import { createLogger } from '../src/logger.js';
import { IngestionQueue } from '../src/memory/ingest/queue.js';
import type { UnitOfWork } from '../src/services/unit-of-work.js';
import { eventually } from './utils/engine-steps.js';

/**
 * The background loops' cadences after the wall clock steps back (NTP, a virtual machine
 * resumed): a sweep kept on `Date.now()` waited for the clock to catch up, an hour here, while
 * the leases of workers that died stayed taken. No database: every statement answers nothing.
 */

const HOUR_MS = 3_600_000;
const logger = createLogger('silent');

/** A unit of work whose statements all answer nothing; `statements` collects their Cypher. */
function emptyGraph() {
  const statements: string[] = [];
  const tx = {
    run: async ({ cypher }: { cypher: string }) => {
      statements.push(cypher);
      return [];
    },
  } as unknown as Tx;
  const work = async <T>(f: (tx: Tx, emit: () => void) => Promise<T>) => f(tx, () => {});
  const uow = { run: work, read: work, write: work } as unknown as UnitOfWork;
  return { uow, statements };
}

afterEach(() => void vi.useRealTimers());

/** Steps the wall clock back an hour once the loop has swept `before` times. */
async function stepBackAfter(what: string, before: () => number): Promise<number> {
  await eventually(`${what}'s first sweep`, () => before() >= 1);
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(Date.now() - HOUR_MS);
  return before();
}

describe('a background loop after the wall clock steps back', () => {
  it('the scheduler goes on sweeping expired leases every third of a lease', async () => {
    const { uow, statements } = emptyGraph();
    const sweeps = () => statements.filter((c) => c.includes('leaseExpiresAt < datetime()')).length;
    const scheduler = new Scheduler({
      uow,
      logger,
      executor: () => Promise.reject(new Error('no steps here')),
      pollMs: 10,
      leaseMs: 150,
    });
    scheduler.start();
    try {
      const seen = await stepBackAfter('the scheduler', sweeps);
      await eventually('sweeps after the step', () => sweeps() >= seen + 3, 5_000);
    } finally {
      await scheduler.stop();
    }
  });

  it('the memory ingestion queue goes on sweeping expired episode leases', async () => {
    const { uow } = emptyGraph();
    const queue = new IngestionQueue({
      uow,
      logger,
      embedder: null as never,
      pollMs: 10,
      leaseMs: 150,
    } as never);
    const sweep = vi.spyOn(queue, 'sweep');
    queue.start();
    try {
      const seen = await stepBackAfter('the queue', () => sweep.mock.calls.length);
      await eventually('sweeps after the step', () => sweep.mock.calls.length >= seen + 3, 5_000);
    } finally {
      await queue.stop();
    }
  });
});
