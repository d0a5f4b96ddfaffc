import { describe, expect, it } from 'vitest';
import {
  objectiveOfRun,
  objectiveOfTask,
  type RunSignals,
} from '../src/evolution/evaluate/objective.js';

const run = (over: Partial<RunSignals> = {}): RunSignals => ({
  status: 'SUCCEEDED',
  attempt: 1,
  maxAttempts: 3,
  willRetry: false,
  timedOut: false,
  latencyMs: 1_000,
  timeoutMs: 300_000,
  costUsd: 0,
  costReferenceUsd: 0.05,
  ...over,
});

describe('the objective evaluation of a run', () => {
  it('scores a quick, cheap first-attempt success 1 and PASS, listing every signal', () => {
    const e = objectiveOfRun(run());
    expect(e).toMatchObject({ source: 'OBJECTIVE', score: 1, verdict: 'PASS' });
    expect(e.rubric).toMatch(/status.*attempts.*duration.*cost/);
    expect(e.reasons).toHaveLength(4);
    expect(e.reasons[0]).toBe('status SUCCEEDED');
    expect(e.reasons[1]).toBe('attempt 1 of 3');
    expect(e.reasons[2]).toMatch(/^took 1000 ms, 0% of the 300000 ms step timeout$/);
    expect(e.reasons[3]).toMatch(/^cost \$0\.0000 against a reference/);
  });

  it('scores any failure 0, a retried one too, and says why', () => {
    const retried = objectiveOfRun(run({ status: 'FAILED', willRetry: true }));
    expect(retried).toMatchObject({ score: 0, verdict: 'FAIL' });
    expect(retried.reasons[0]).toMatch(/failed \(will be retried\)/);
    const timedOut = objectiveOfRun(run({ status: 'FAILED', timedOut: true, latencyMs: 300_000 }));
    expect(timedOut.score).toBe(0);
    expect(timedOut.reasons[0]).toMatch(/timed out/);
  });

  it('takes 0.1 per retry (at most 0.3), up to 0.2 for using the timeout, up to 0.1 for cost', () => {
    expect(objectiveOfRun(run({ attempt: 2 })).score).toBe(0.9);
    expect(objectiveOfRun(run({ attempt: 9, maxAttempts: 10 })).score).toBe(0.7);
    expect(objectiveOfRun(run({ latencyMs: 150_000 })).score).toBe(1); // half: nothing
    expect(objectiveOfRun(run({ latencyMs: 225_000 })).score).toBe(0.9);
    expect(objectiveOfRun(run({ latencyMs: 300_000 })).score).toBe(0.8);
    expect(objectiveOfRun(run({ costUsd: 0.05 })).score).toBe(1);
    expect(objectiveOfRun(run({ costUsd: 0.075 })).score).toBe(0.95);
    expect(objectiveOfRun(run({ costUsd: 5 })).score).toBe(0.9);
    const worst = objectiveOfRun(
      run({ attempt: 4, maxAttempts: 4, latencyMs: 300_000, costUsd: 5 }),
    );
    expect(worst).toMatchObject({ score: 0.4, verdict: 'PARTIAL' });
    expect(worst.reasons.filter((r) => /\(-0\.\d\d\)$/.test(r))).toHaveLength(3);
  });

  it('does not score time without a timeout, nor cost without a reference', () => {
    const e = objectiveOfRun(run({ timeoutMs: null, costReferenceUsd: 0, costUsd: 9 }));
    expect(e.score).toBe(1);
    expect(e.reasons[2]).toMatch(/no step timeout known/);
    expect(e.reasons[3]).toMatch(/not scored/);
  });
});

describe('the objective evaluation of a root task', () => {
  const step = (status: string, attempts = 1, error: string | null = null, removed = false) => ({
    title: `step ${status}`,
    status,
    attempts,
    error,
    removed,
  });

  it('scores a completed task 1, less 0.05 per retried attempt of its steps', () => {
    expect(objectiveOfTask({ status: 'COMPLETED', steps: [step('COMPLETED')] }).score).toBe(1);
    const retried = objectiveOfTask({
      status: 'COMPLETED',
      steps: [step('COMPLETED', 3), step('COMPLETED', 2)],
    });
    expect(retried.score).toBe(0.85);
    expect(retried.reasons).toContain('3 retried attempt(s) across the steps (-0.15)');
  });

  it('does not count a step skipped by a false condition, but does one skipped by a failure', () => {
    const byCondition = objectiveOfTask({
      status: 'COMPLETED',
      steps: [step('COMPLETED'), step('SKIPPED', 0, 'condition was false: steps.a.output > 1')],
    });
    expect(byCondition.score).toBe(1);
    expect(byCondition.reasons.join('\n')).toMatch(/skipped by a false condition/);
    const broken = objectiveOfTask({
      status: 'COMPLETED',
      steps: [step('COMPLETED'), step('SKIPPED', 0, 'dependency a ended FAILED')],
    });
    expect(broken.score).toBe(0.9);
  });

  it('does not count a step a person rejected or removed, nor one after skipped steps only', () => {
    const decided = objectiveOfTask({
      status: 'COMPLETED',
      steps: [
        step('COMPLETED'),
        step('SKIPPED', 0, 'rejected by alice: not needed'),
        step('SKIPPED', 0, 'removed from the plan by bob'),
        step('SKIPPED', 0, 'every dependency was skipped'),
      ],
    });
    expect(decided.score).toBe(1);
    expect(decided.reasons.join('\n')).not.toMatch(/dependency failed/);
    expect(decided.reasons).toContain('2 step(s) skipped by a person (rejected or removed)');
  });

  // A step a person cancelled, then removed from the plan (approvePlan), stayed CANCELLED: the
  // task completed without it, yet its reasons said "1 cancelled" as if it had counted.
  it('leaves a step removed from the plan out of its counts, even one a person cancelled', () => {
    const removed = objectiveOfTask({
      status: 'COMPLETED',
      steps: [
        step('COMPLETED'),
        step('CANCELLED', 2, 'cancelled by alice', true),
        step('SKIPPED', 0, 'removed from the plan by alice', true),
      ],
    });
    expect(removed.score).toBe(1);
    expect(removed.reasons).toContain('1 step(s): 1 completed, 0 failed, 0 cancelled, 0 skipped');
    expect(removed.reasons).toContain('0 retried attempt(s) across the steps');
    expect(removed.reasons).toContain('2 step(s) removed from the plan by a person (not counted)');
    expect(removed.reasons.join('\n')).not.toMatch(/skipped by a person/);
  });

  it('scores a failed or cancelled task 0 and names the first failed step', () => {
    const failed = objectiveOfTask({
      status: 'FAILED',
      steps: [step('COMPLETED'), step('FAILED', 3, 'boom')],
    });
    expect(failed).toMatchObject({ score: 0, verdict: 'FAIL' });
    expect(failed.reasons.at(-1)).toBe('first failed step "step FAILED": boom');
    expect(objectiveOfTask({ status: 'CANCELLED', steps: [] }).score).toBe(0);
  });
});
