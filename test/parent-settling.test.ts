import { describe, expect, it } from 'vitest';
import { ParentSettling } from '../src/engine/parent-settling.js';

/** A settle that ends when told to, recording when it started. */
function gate(log: string[], name: string) {
  let open!: () => void;
  let fail!: (err: Error) => void;
  const ended = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return {
    run: () => {
      log.push(`start ${name}`);
      return ended;
    },
    open,
    fail,
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/**
 * At a DAG's tail the ends of one group each settled the parent: all but the first locked it
 * only to find it ended. Ends that ask while a settle waits to start now share it; one that
 * asks while a settle runs gets one more after it (src/engine/parent-settling.ts).
 */
describe('settling a parent for the ends that ask', () => {
  it('settles once for the ends that ask at once', async () => {
    const settling = new ParentSettling();
    const log: string[] = [];
    const first = gate(log, 'first');
    const asked = Array.from({ length: 8 }, () => settling.settle('p', first.run));
    await tick();
    first.open();
    await Promise.all(asked);
    expect(log).toEqual(['start first']);
  });

  it('settles once more, after the running one, for ends that ask while it runs', async () => {
    const settling = new ParentSettling();
    const log: string[] = [];
    const [first, second] = [gate(log, 'first'), gate(log, 'second')];
    const one = settling.settle('p', first.run);
    await tick();
    // Asked while the first runs: it may have read the children before these ends committed.
    const later = [settling.settle('p', second.run), settling.settle('p', second.run)];
    await tick();
    expect(log).toEqual(['start first']);
    first.open();
    await one;
    await tick();
    expect(log).toEqual(['start first', 'start second']);
    second.open();
    await Promise.all(later);
    expect(log).toEqual(['start first', 'start second']);
  });

  it('never makes one parent’s settle wait for another’s', async () => {
    const settling = new ParentSettling();
    const log: string[] = [];
    const [p, q] = [gate(log, 'p'), gate(log, 'q')];
    const both = [settling.settle('p', p.run), settling.settle('q', q.run)];
    await tick();
    expect(log).toEqual(['start p', 'start q']);
    q.open();
    await both[1];
    p.open();
    await both[0];
  });

  it('rejects the ends that shared a failed settle, and settles anew for the next', async () => {
    const settling = new ParentSettling();
    const log: string[] = [];
    const [first, again] = [gate(log, 'first'), gate(log, 'again')];
    const shared = [settling.settle('p', first.run), settling.settle('p', first.run)];
    await tick();
    first.fail(new Error('deadlock'));
    for (const end of shared) await expect(end).rejects.toThrow('deadlock');
    const next = settling.settle('p', again.run);
    await tick();
    again.open();
    await next;
    expect(log).toEqual(['start first', 'start again']);
  });
});
