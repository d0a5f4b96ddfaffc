import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../src/domain/errors.js';
import { byId, groupedBy } from '../src/loaders/loaders.js';

describe('loaders', () => {
  it('batch every load of a tick into one fetch, answering in key order with NotFound in gaps', async () => {
    const calls: (readonly string[])[] = [];
    const loader = byId('Agent', async (ids) => {
      calls.push(ids);
      return ids.filter((id) => id !== 'missing').map((id) => ({ id, name: id.toUpperCase() }));
    });
    const results = await Promise.allSettled([
      loader.load('b'),
      loader.load('a'),
      loader.load('missing'),
      loader.load('a'),
    ]);
    expect(calls).toEqual([['b', 'a', 'missing']]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: { id: 'b', name: 'B' } });
    expect(results[1]).toEqual({ status: 'fulfilled', value: { id: 'a', name: 'A' } });
    expect(results[2]?.status).toBe('rejected');
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(NotFoundError);
    expect(((results[2] as PromiseRejectedResult).reason as Error).message).toBe(
      'Agent "missing" does not exist',
    );
  });

  it('group lists by parent, with an empty list for parents without children', async () => {
    let calls = 0;
    const loader = groupedBy(
      async (ids) => {
        calls++;
        return ids.flatMap((id) =>
          id === 'none'
            ? []
            : [
                { parent: id, n: 1 },
                { parent: id, n: 2 },
              ],
        );
      },
      (row) => row.parent,
    );
    const [x, none] = await Promise.all([loader.load('x'), loader.load('none')]);
    expect(calls).toBe(1);
    expect(x).toEqual([
      { parent: 'x', n: 1 },
      { parent: 'x', n: 2 },
    ]);
    expect(none).toEqual([]);
  });
});
