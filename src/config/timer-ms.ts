import { wholeNumber } from './env-number.js';

/** The longest delay a Node.js timer holds (about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * An environment variable that sets a timer: whole milliseconds from `min` to `max` (at most
 * MAX_TIMER_MS, which is also the default). Add `.default(…)` or `.optional()`. Its message
 * reads after the variable's name, as loadConfig puts it: "must be a whole number of
 * milliseconds from 100 to 2147483647".
 */
export function timerMs(min: number, max = MAX_TIMER_MS) {
  if (max > MAX_TIMER_MS) throw new RangeError(`a timer holds at most ${MAX_TIMER_MS} ms`);
  return wholeNumber(min, max, `must be a whole number of milliseconds from ${min} to ${max}`);
}
