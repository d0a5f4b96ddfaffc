import { describe, expect, it } from 'vitest';
import { adviceFor } from '../console/src/advice.js';
import { alreadyExists } from '../src/domain/errors.js';
import { assertTaskTransition, TaskStatus } from '../src/domain/task.js';

/** The console's advice under an API error (console/src/advice.ts), for the API's own messages. */
describe('the console’s advice for an error', () => {
  const refusal = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('did not throw');
  };

  // "reload to see it, then try again" read wrongly under "… create or activate one first".
  it('adds none to a message that says what to do', () => {
    for (const message of [
      'No active CHIEF_OF_STAFF agent to plan the task: create or activate one first',
      'A task IN_PROGRESS cannot be unassigned; cancel it first',
      'Version 2 (v2) changed meanwhile: try again',
      alreadyExists('Agent', { name: 'Ada' }).message,
    ])
      expect(adviceFor('CONFLICT', message), message).toBe('');
  });

  it('keeps the advice of the code when the message says only what went wrong', () => {
    expect(adviceFor('CONFLICT', 'a tool server named docs exists already')).toContain(
      'reload to see it',
    );
    const cannot = refusal(() =>
      assertTaskTransition(TaskStatus.COMPLETED, TaskStatus.CANCELLED, 'cancel'),
    );
    expect(adviceFor('BAD_USER_INPUT', cannot)).toContain('Correct the fields');
    expect(adviceFor('NETWORK')).toContain('check that it is running');
  });
});
