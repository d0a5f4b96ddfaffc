import { describe, expect, it } from 'vitest';
import { assertAcyclic } from '../src/services/batch-shape.js';

const task = (id: string, dependsOn: string[]) => ({ id, title: `Task ${id}`, dependsOn });

describe('the shape of a batch of tasks', () => {
  // A task waiting for a cycle was named as one of it: the person looked for a cycle through it.
  it('names only the tasks of a dependency cycle, not those that wait for it', () => {
    expect(() =>
      assertAcyclic([task('a', ['b']), task('b', ['a']), task('c', ['a']), task('d', ['c'])]),
    ).toThrow(/^These tasks depend on each other in a cycle: "Task a", "Task b"$/);
    expect(() => assertAcyclic([task('c', ['a']), task('a', ['a'])])).toThrow(
      /^This task depends on itself: "Task a"$/,
    );
  });
});
