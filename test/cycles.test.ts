import { describe, expect, it } from 'vitest';
import {
  blockedByCycle,
  dependencyOrder,
  oneCycle,
  selfWaitingDependency,
} from '../src/domain/cycles.js';

/** Each id of `cycle` depends on the next, and the last on the first. */
function isCycle(deps: Map<string, string[]>, cycle: string[]): boolean {
  return cycle.every((id, i) => deps.get(id)!.includes(cycle[(i + 1) % cycle.length]!));
}

describe('cycles', () => {
  it('finds none in a diamond, and ignores ids outside the set', () => {
    const deps = new Map([
      ['d', ['b', 'c']],
      ['b', ['a', 'elsewhere']],
      ['c', ['a']],
      ['a', []],
    ]);
    expect(blockedByCycle(deps)).toEqual([]);
    expect(oneCycle(deps)).toBeNull();
  });

  it('blocks a cycle and what depends on it, and names one cycle', () => {
    const deps = new Map([
      ['after', ['x']],
      ['x', ['y']],
      ['y', ['z', 'free']],
      ['z', ['x']],
      ['free', []],
    ]);
    expect(blockedByCycle(deps)).toEqual(['after', 'x', 'y', 'z']);
    const cycle = oneCycle(deps)!;
    expect([...cycle].sort()).toEqual(['x', 'y', 'z']);
    expect(isCycle(deps, cycle)).toBe(true);
  });

  it('sees a task that depends on itself', () => {
    const deps = new Map([['self', ['self']]]);
    expect(oneCycle(deps)).toEqual(['self']);
  });

  it('walks a chain of 100,000 (each id once: a quadratic walk would time out)', () => {
    const n = 100_000;
    const deps = new Map(Array.from({ length: n }, (_, i) => [`t${i}`, i ? [`t${i - 1}`] : []]));
    expect(blockedByCycle(deps)).toEqual([]);
    deps.set('t0', [`t${n - 1}`]);
    expect(oneCycle(deps)).toHaveLength(n);
  });

  it('walks a star of 100,000 dependants of one id', () => {
    const n = 100_000;
    const deps = new Map(Array.from({ length: n }, (_, i) => [`t${i}`, i ? ['t0'] : []]));
    expect(blockedByCycle(deps)).toEqual([]);
  });

  it('orders by dependencies, the smallest free id first, and puts a cycle’s ids last', () => {
    const deps = new Map([
      ['d', ['b', 'c']],
      ['c', ['a']],
      ['b', ['a']],
      ['a', []],
      ['x', ['y']],
      ['y', ['x']],
      ['e', []],
    ]);
    const byName = (p: string, q: string) => p.localeCompare(q);
    expect(dependencyOrder(deps, byName)).toEqual(['a', 'b', 'c', 'd', 'e', 'x', 'y']);
    const reverse = (p: string, q: string) => q.localeCompare(p);
    expect(dependencyOrder(deps, reverse)).toEqual(['e', 'a', 'c', 'b', 'd', 'x', 'y']);
  });
});

describe('selfWaitingDependency', () => {
  const t = (id: string, parentId: string | null, dependsOn: string[] = []) => ({
    id,
    parentId,
    dependsOn,
  });

  it('finds none in a plan whose steps depend on siblings and on tasks outside it', () => {
    const plan = [t('r', null), t('a', 'r', ['elsewhere']), t('b', 'r', ['a']), t('c', 'b')];
    expect(selfWaitingDependency(plan)).toBeNull();
  });

  it('names a step that depends on its parent, and a root on its step', () => {
    expect(selfWaitingDependency([t('r', null), t('s', 'r', ['r'])])).toEqual({
      from: 's',
      to: 'r',
    });
    const down = [t('r', null, ['s']), t('m', 'r'), t('s', 'm')];
    expect(selfWaitingDependency(down)).toEqual({ from: 'r', to: 's' });
  });

  it('names a dependency on a cousin that waits for the step', () => {
    const plan = [t('r', null), t('m', 'r', ['s']), t('x', 'm'), t('s', 'r', ['x'])];
    // Either dependency of the cycle s -> x -> m -> s may be named.
    const either = [
      { from: 's', to: 'x' },
      { from: 'm', to: 's' },
    ];
    expect(either).toContainEqual(selfWaitingDependency(plan));
  });
});
