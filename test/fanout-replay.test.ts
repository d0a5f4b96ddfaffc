import { describe, expect, it } from 'vitest';
import { withEventId } from '../subscriptions/event-id.js';
import { createFanout } from '../subscriptions/fanout.js';
import { newestOnly } from '../subscriptions/newest.js';

// A resumed subscription's filter sees its events in the order the subscriber gets them: the
// replayed history first, then the live events that arrived while it loaded. taskUpdated's
// filter remembers the newest version it let through (subscriptions/newest.ts); a live event
// filtered before the history made it drop the history's older changes (round 40 of
// 2026-12-02: a client resuming over Redis got t4 and never t2 and t3).

const event = (id: string, version: number) =>
  withEventId({ tenantId: 't', task: { id: 'task', version } }, id);

/** The next event's version, or null when none comes within 200 ms. */
async function nextVersion(sub: AsyncIterator<unknown>): Promise<number | null> {
  const none = new Promise<null>((r) => setTimeout(() => r(null), 200));
  const next = sub.next().then((r) => (r.value as { task: { version: number } }).task.version);
  return Promise.race([next, none]);
}

describe('a resumed subscription with a stateful filter', () => {
  it('filters the history before the live events that arrived while it loaded', async () => {
    const fanout = createFanout(100);
    const isNewest = newestOnly();
    let loaded!: (events: unknown[]) => void;
    const history = new Promise<unknown[]>((resolve) => (loaded = resolve));
    const sub = fanout.subscribe(
      'TASK_UPDATED',
      {
        tenantId: 't',
        after: '1-0',
        filter: (e) => {
          const { task } = e as { task: { id: string; version: number } };
          return isNewest(task.id, task.version);
        },
      },
      () => history,
    );
    // The reader delivers the newest change while the history is still being read...
    fanout.deliver('TASK_UPDATED', event('4-0', 4));
    // ...and the history holds the ones the client missed, that one included.
    loaded([event('2-0', 2), event('3-0', 3), event('4-0', 4)]);
    const versions = [];
    for (let i = 0; i < 3; i++) versions.push(await nextVersion(sub));
    expect(versions).toEqual([2, 3, 4]);
    // Nothing else: the live copy of 4-0 was replayed already.
    fanout.deliver('TASK_UPDATED', event('5-0', 5));
    expect(await nextVersion(sub)).toBe(5);
    await sub.return!();
  });
});
