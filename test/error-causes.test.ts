import { describe, expect, it } from 'vitest';
import { AwaitingInputError, awaitingInputOf } from '../src/engine/awaiting-input.js';

describe('reading an error through its causes', () => {
  it('finds the AwaitingInputError a middleware wrapped, and ends on causes that loop', () => {
    const held = new AwaitingInputError([]);
    expect(awaitingInputOf(new Error('middleware', { cause: held }))).toBe(held);
    // A cause chain that loops hung the worker (the engine reads every failed step so).
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(awaitingInputOf(a)).toBeNull();
  });
});
