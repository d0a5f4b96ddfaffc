import { z } from 'zod';

/**
 * An environment variable that holds a whole number from `min` to `max` (unbounded: "of at
 * least `min`"). Add `.default(…)` or `.optional()`. Its message reads after the variable's
 * name, as loadConfig puts it: "must be a whole number from 1 to 256".
 */
export function wholeNumber(min: number, max?: number) {
  const contract =
    max === undefined
      ? `must be a whole number of at least ${min}`
      : `must be a whole number from ${min} to ${max}`;
  const n = z.coerce.number({ error: contract }).int(contract).min(min, contract);
  return n.max(max ?? Number.MAX_SAFE_INTEGER, contract);
}
