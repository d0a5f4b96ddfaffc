import { describe, expect, it } from 'vitest';
import { failFastCancelError, TaskStatus } from '../src/domain/task.js';
import type { OutlineTask } from '../graph/workflow.repository.js';
import { retryScope, type WorkflowGraph } from '../src/services/retry-scope.js';

/** Which tasks a retry brings back with it (the rules; retry-dependants.int runs them live). */

type Row = [id: string, status: keyof typeof TaskStatus, error?: string | null, own?: boolean];

/**
 * A workflow from rows, `parent` edges (child -> parent), `deps` (dependant -> dependency) and
 * the steps approvePlan `removed` from the plan.
 */
function workflow(
  rows: Row[],
  parent: Record<string, string>,
  deps: Record<string, string[]> = {},
  removed: string[] = [],
): WorkflowGraph {
  const tasks = rows.map(([id, status, error = null, own = false]): OutlineTask => ({
    id,
    title: id,
    status: TaskStatus[status],
    error,
    orchestrated: !own,
    removed: removed.includes(id),
  }));
  const edges = [
    ...Object.entries(parent).map(([from, to]) => ({ from, to, type: 'SUBTASK_OF' })),
    ...Object.entries(deps).flatMap(([from, tos]) =>
      tos.map((to) => ({ from, to, type: 'DEPENDS_ON' })),
    ),
  ];
  return { tasks, edges };
}

const back = (wf: WorkflowGraph, id: string) => retryScope(wf, id).back.sort();

describe('retryScope', () => {
  it('brings back the steps skipped because of the step, at any distance', () => {
    const wf = workflow(
      [
        ['root', 'FAILED', '1 of 4 steps failed'],
        ['a', 'FAILED'],
        ['b', 'SKIPPED', 'dependency a ended FAILED'],
        ['c', 'SKIPPED', 'every dependency was skipped'],
        ['d', 'SKIPPED', 'condition was false: steps.c.status == "COMPLETED"'],
      ],
      { a: 'root', b: 'root', c: 'root', d: 'root' },
      { b: ['a'], c: ['b'], d: ['c'] },
    );
    expect(back(wf, 'a')).toEqual(['b', 'c', 'd']);
    expect(retryScope(wf, 'a').ancestors.map((t) => t.id)).toEqual(['root']);
  });

  it("leaves a person's decision, and a step another failure still skips, with what follows it", () => {
    const wf = workflow(
      [
        ['root', 'FAILED'],
        ['a', 'FAILED'],
        ['f', 'FAILED'],
        ['j', 'SKIPPED', 'dependency f ended FAILED'],
        ['after-j', 'SKIPPED', 'every dependency was skipped'],
        ['removed', 'SKIPPED', 'removed from the plan by alice'],
        ['rejected', 'SKIPPED', 'rejected by bob: not now'],
        ['by-hand', 'SKIPPED', null],
        ['mine', 'SKIPPED', 'dependency a ended FAILED', true],
      ],
      {
        a: 'root',
        f: 'root',
        j: 'root',
        'after-j': 'root',
        removed: 'root',
        rejected: 'root',
        'by-hand': 'root',
        mine: 'root',
      },
      {
        j: ['a', 'f'],
        'after-j': ['j'],
        removed: ['a'],
        rejected: ['a'],
        'by-hand': ['a'],
        mine: ['a'],
      },
    );
    expect(back(wf, 'a')).toEqual([]);
  });

  it('brings back what a reopened fail-fast parent cancelled, not what a person cancelled', () => {
    const wf = workflow(
      [
        ['root', 'FAILED', 'step "A" failed'],
        ['a', 'FAILED'],
        ['x', 'CANCELLED', failFastCancelError('step "A" failed')],
        ['x1', 'CANCELLED', failFastCancelError('step "A" failed')],
        ['y', 'CANCELLED', 'cancelled by alice'],
        ['z', 'FAILED', 'z broke'],
      ],
      { a: 'root', x: 'root', x1: 'x', y: 'root', z: 'root' },
    );
    expect(back(wf, 'a')).toEqual(['x', 'x1']);
  });

  it('brings back the dependants of the ancestors it reopens, and the steps under them', () => {
    const wf = workflow(
      [
        ['root', 'FAILED', '1 of 2 steps failed'],
        ['sub', 'FAILED', 'step "S1" failed'],
        ['s1', 'FAILED'],
        ['s2', 'SKIPPED', 'dependency s1 ended FAILED'],
        ['next', 'SKIPPED', 'dependency sub ended FAILED'],
        ['n1', 'CANCELLED', 'cancelled: its parent is SKIPPED'],
      ],
      { sub: 'root', s1: 'sub', s2: 'sub', next: 'root', n1: 'next' },
      { s2: ['s1'], next: ['sub'] },
    );
    expect(back(wf, 's1')).toEqual(['n1', 'next', 's2']);
  });

  it('retried as a subtree, brings back its failed and cancelled steps and what they skipped', () => {
    const wf = workflow(
      [
        ['root', 'FAILED'],
        ['sub', 'FAILED'],
        ['s1', 'FAILED'],
        ['s2', 'SKIPPED', 'dependency s1 ended FAILED'],
        ['s3', 'COMPLETED'],
        ['after', 'SKIPPED', 'dependency sub ended FAILED'],
      ],
      { sub: 'root', s1: 'sub', s2: 'sub', s3: 'sub', after: 'root' },
      { s2: ['s1'], after: ['sub'] },
    );
    expect(back(wf, 'sub')).toEqual(['after', 's1', 's2']);
    expect(retryScope(wf, 'sub').hasChildren).toBe(true);
  });

  // A step a person cancelled, then removed from the plan, came back PENDING and ran again.
  it('never brings back a step removed from the plan, nor what is under it, even CANCELLED', () => {
    const wf = workflow(
      [
        ['root', 'CANCELLED', '1 of 2 steps were cancelled'],
        ['a', 'CANCELLED', 'cancelled by alice'],
        ['synthesis', 'SKIPPED', 'dependency a ended CANCELLED'],
        ['r', 'CANCELLED', 'cancelled by alice'],
        ['r1', 'CANCELLED', 'cancelled: its parent is CANCELLED'],
        ['k', 'SKIPPED', 'dependency a ended CANCELLED'],
      ],
      { a: 'root', synthesis: 'root', r: 'root', r1: 'r', k: 'root' },
      { synthesis: ['a'], k: ['a'] },
      ['r', 'k'],
    );
    expect(back(wf, 'root')).toEqual(['a', 'synthesis']);
    expect(back(wf, 'a')).toEqual(['synthesis']);
    expect(retryScope(wf, 'root').removed).toBeNull();
    expect(retryScope(wf, 'r').removed?.id).toBe('r');
    expect(retryScope(wf, 'r1').removed?.id).toBe('r');
  });
});
