import { describe, expect, it } from 'vitest';
import type { Promotable } from '../graph/promotion.repository.js';
import type { ParentState } from '../graph/settlement.repository.js';
import { promotion, settlement } from '../src/engine/decisions.js';
import { backoffMs, retryAfterMs } from '../src/engine/retry.js';
import { FailurePolicy, skipCause, TaskStatus, type Task } from '../src/domain/task.js';

const task = (over: Partial<Task> = {}) =>
  ({
    id: 'p',
    condition: null,
    requiresApproval: false,
    decision: null,
    failurePolicy: FailurePolicy.FAIL_FAST,
    ...over,
  }) as Task;

const child = (key: string, status: TaskStatus, result: string | null = null) => ({
  id: key,
  key,
  title: key,
  status,
  result,
  removed: false,
});

const promote = (over: Partial<Promotable>) =>
  promotion({ task: task(), hasChildren: false, dependencies: [], ...over });

describe('promotion rules', () => {
  const dep = (status: TaskStatus, result: string | null = null) => ({ key: 'a', status, result });

  it('makes a step READY, a parent IN_PROGRESS, and a gated one AWAITING_APPROVAL', () => {
    expect(promote({})).toEqual({ to: TaskStatus.READY });
    expect(promote({ hasChildren: true })).toEqual({ to: TaskStatus.IN_PROGRESS });
    expect(promote({ task: task({ requiresApproval: true }) })).toEqual({
      to: TaskStatus.AWAITING_APPROVAL,
    });
  });

  it('skips after a failed dependency, after all-skipped ones, and on a false condition', () => {
    expect(promote({ dependencies: [dep(TaskStatus.FAILED)] }).to).toBe(TaskStatus.SKIPPED);
    expect(promote({ dependencies: [dep(TaskStatus.SKIPPED)] }).to).toBe(TaskStatus.SKIPPED);
    const join = [dep(TaskStatus.SKIPPED), { ...dep(TaskStatus.COMPLETED), key: 'b' }];
    expect(promote({ dependencies: join }).to).toBe(TaskStatus.READY);
    const conditional = task({ condition: 'steps.a.output.n > 2' });
    expect(
      promote({ task: conditional, dependencies: [dep(TaskStatus.COMPLETED, '{"n": 1}')] }),
    ).toEqual({
      to: TaskStatus.SKIPPED,
      error: 'condition was false: steps.a.output.n > 2',
    });
    expect(
      promote({ task: conditional, dependencies: [dep(TaskStatus.COMPLETED, '{"n": 3}')] }).to,
    ).toBe(TaskStatus.READY);
  });

  it('writes each skip with a reason skipCause reads back (evaluation and retry go by it)', () => {
    const cause = (p: Partial<Promotable>) => skipCause(promote(p).error);
    expect(cause({ dependencies: [dep(TaskStatus.FAILED)] })).toBe('brokenDependency');
    expect(cause({ dependencies: [dep(TaskStatus.CANCELLED)] })).toBe('brokenDependency');
    expect(cause({ dependencies: [dep(TaskStatus.SKIPPED)] })).toBe('skippedDependencies');
    const conditional = task({ condition: 'steps.a.output.n > 2' });
    expect(
      cause({ task: conditional, dependencies: [dep(TaskStatus.COMPLETED, '{"n": 1}')] }),
    ).toBe('falseCondition');
    expect(skipCause('cancelled by alice')).toBeNull();
    expect(skipCause(null)).toBeNull();
  });
});

describe('settling a parent', () => {
  const state = (policy: FailurePolicy, children: ParentState['children']): ParentState => ({
    parent: task({ failurePolicy: policy }),
    children,
  });

  it('fails fast at the first failure, cancelling the unfinished steps', () => {
    const s = settlement(
      state(FailurePolicy.FAIL_FAST, [
        child('a', TaskStatus.FAILED),
        child('b', TaskStatus.IN_PROGRESS),
        child('c', TaskStatus.COMPLETED),
      ]),
    );
    expect(s).toEqual({ to: TaskStatus.FAILED, error: 'step "a" failed', cancel: ['b'] });
  });

  it('waits under CONTINUE, then fails naming how many steps failed', () => {
    const running = [child('a', TaskStatus.FAILED), child('b', TaskStatus.IN_PROGRESS)];
    expect(settlement(state(FailurePolicy.CONTINUE, running))).toBeNull();
    const ended = [child('a', TaskStatus.FAILED), child('b', TaskStatus.COMPLETED)];
    expect(settlement(state(FailurePolicy.CONTINUE, ended))).toMatchObject({
      to: TaskStatus.FAILED,
      error: '1 of 2 steps failed',
    });
  });

  it('ends CANCELLED when a step was cancelled, COMPLETED with results by key otherwise', () => {
    const cancelled = [child('a', TaskStatus.CANCELLED), child('b', TaskStatus.COMPLETED)];
    expect(settlement(state(FailurePolicy.FAIL_FAST, cancelled))).toMatchObject({
      to: TaskStatus.CANCELLED,
      error: '1 of 2 steps were cancelled',
    });
    const done = [child('a', TaskStatus.COMPLETED, '{"x": 1}'), child('b', TaskStatus.SKIPPED)];
    const s = settlement(state(FailurePolicy.FAIL_FAST, done));
    expect(s?.to).toBe(TaskStatus.COMPLETED);
    expect(JSON.parse(s!.result!)).toEqual({ a: { x: 1 } });
  });

  it('leaves out a step removed from the plan, even one a person had cancelled', () => {
    const removed = { ...child('a', TaskStatus.CANCELLED), removed: true };
    const s = settlement(
      state(FailurePolicy.FAIL_FAST, [removed, child('b', TaskStatus.COMPLETED)]),
    );
    expect(s?.to).toBe(TaskStatus.COMPLETED);
  });
});

describe('retry backoff', () => {
  it('doubles per attempt up to the cap, with jitter between half and all of it', () => {
    const at = (attempt: number, random: number) =>
      backoffMs(attempt, { baseMs: 100, maxMs: 1_000, random: () => random });
    expect([1, 2, 3, 4, 5].map((n) => at(n, 0.999999))).toEqual([100, 200, 400, 800, 1_000]);
    expect([1, 2, 3].map((n) => at(n, 0))).toEqual([50, 100, 200]);
  });

  it('reads a refusal’s Retry-After, in seconds, ms or a date, on the error or its cause', () => {
    const refused = (status: number, h: Record<string, string>) =>
      Object.assign(new Error('refused'), { status, headers: new Headers(h) });
    expect(retryAfterMs(refused(429, { 'retry-after': '3' }), 60_000)).toBe(3_000);
    expect(retryAfterMs(refused(429, { 'retry-after-ms': '250' }), 60_000)).toBe(250);
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, 30)).toUTCString();
    const now = Date.UTC(2026, 0, 1);
    expect(retryAfterMs(refused(503, { 'retry-after': at }), 60_000, now)).toBe(30_000);
    expect(retryAfterMs(refused(429, { 'retry-after': '3600' }), 60_000)).toBe(60_000);
    expect(retryAfterMs({ cause: refused(429, { 'retry-after': '2' }) }, 60_000)).toBe(2_000);
    // Only a refusal says when to come back; a plain object of headers counts too.
    expect(retryAfterMs(refused(500, { 'retry-after': '3' }), 60_000)).toBe(0);
    expect(retryAfterMs({ status: 429, headers: { 'retry-after': 'soon' } }, 60_000)).toBe(0);
    expect(retryAfterMs(new Error('no'), 60_000)).toBe(0);
  });
});
