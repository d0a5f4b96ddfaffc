import { describe, expect, it } from 'vitest';
import { newestOnly } from '../subscriptions/newest.js';

describe('newestOnly', () => {
  it('leaves out an older or repeated event of an entity, keeps a newer one, per entity', () => {
    const isNewest = newestOnly();
    expect(isNewest('a', 2)).toBe(true);
    expect(isNewest('a', 1)).toBe(false);
    expect(isNewest('a', 2)).toBe(false); // a second copy (at-least-once)
    expect(isNewest('b', 1)).toBe(true); // another entity has its own newest
    expect(isNewest('a', 3)).toBe(true);
    expect(isNewest('a', 2)).toBe(false);
  });

  it('remembers only the entities heard last, so a long subscription holds a bounded map', () => {
    const isNewest = newestOnly(2);
    isNewest('a', 5);
    isNewest('b', 5);
    isNewest('a', 6); // heard again: now the newest entry
    isNewest('c', 5); // forgets b, heard longest ago
    expect(isNewest('a', 1)).toBe(false);
    expect(isNewest('b', 1)).toBe(true);
  });
});
