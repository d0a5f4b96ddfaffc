import neo4j from 'neo4j-driver';
import { describe, expect, it } from 'vitest';
import { isTransient, StepError } from '../src/engine/executor.js';

/**
 * A step whose outcome could not be written because Neo4j kept reporting a deadlock (its own
 * retries ran out) was recorded FAILED at its first attempt, although nothing in the step
 * failed: 6 of 200 submitted tasks in bench:agents (2026-12-01), the plan's writes deadlocking
 * on a Chief of Staff many plans link to. Neo4j's transient errors are retried like a 503.
 */
describe('isTransient', () => {
  it('takes Neo4j transient errors (a deadlock, a lock timeout) for transient', () => {
    const deadlock = new neo4j.Neo4jError(
      'can not acquire ExclusiveLock: deadlock detected',
      'Neo.TransientError.Transaction.DeadlockDetected',
      '50N05',
      'error: general processing exception - deadlock detected',
    );
    expect(deadlock.retriable).toBe(true);
    expect(isTransient(deadlock)).toBe(true);
  });

  it('takes Neo4j client errors (a syntax error, a constraint) for permanent', () => {
    const constraint = new neo4j.Neo4jError(
      'already exists with label',
      'Neo.ClientError.Schema.ConstraintValidationFailed',
      '22N41',
      'error: data exception',
    );
    expect(isTransient(constraint)).toBe(false);
    expect(isTransient(new Error('the model refused'))).toBe(false);
    expect(isTransient(new StepError('bad input', false))).toBe(false);
  });
});
