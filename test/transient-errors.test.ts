import neo4j from 'neo4j-driver';
import { describe, expect, it } from 'vitest';
import { isTransient, StepError } from '../src/engine/executor.js';
import { translateDriverError } from '../graph/errors.js';

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

  /**
   * bench:agents with 1,000 runs at once (4 workers x 250 steps, 2026-12-02): a step whose
   * writes found every connection of its process busy got the app's "busy" error and was
   * recorded FAILED at its first of three attempts, 76 workflows in 7 minutes. The same
   * wait is a 503 "try again shortly" to a client; a step tries again too.
   */
  it('takes "the graph database is busy" or "not reachable" for transient', () => {
    const acquisition = Object.assign(
      new Error('Connection acquisition timed out in 5000 ms. Pool status: Active conn count = 16'),
      { code: 'N/A' },
    );
    const busy = translateDriverError(acquisition);
    expect((busy as Error).message).toMatch(/busy/);
    expect(isTransient(busy)).toBe(true);
    const gone = translateDriverError(
      new neo4j.Neo4jError('Could not perform discovery', 'ServiceUnavailable', '08000', ''),
    );
    expect((gone as Error).message).toMatch(/not reachable/);
    expect(isTransient(gone)).toBe(true);
  });

  it('reads a dropped connection through its causes, and ends on causes that loop', () => {
    const socket = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    expect(isTransient(new TypeError('terminated', { cause: socket }))).toBe(true);
    const a: Error & { cause?: unknown } = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(isTransient(a)).toBe(false);
  });
});
