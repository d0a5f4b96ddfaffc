import { z } from 'zod';

/** What a person writes for a number: digits, and a decimal point where fractions are allowed. */
const DIGITS = /^\d+$/;
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

/**
 * An environment variable holding a number written plainly; spaces around it are trimmed.
 * Number() also read "1e3", "0x10", "0b1", "+5" and "Infinity", so ENGINE_CONCURRENCY=1e3
 * ran 1000 steps at once. Other text gets `contract`, with ", in plain digits" where Number()
 * would have read it; `number` then checks the range with its own messages.
 * Add `.default(…)` or `.optional()`.
 */
export function plainNumber(contract: string, number = z.number(), whole = false) {
  return z
    .string({ error: contract })
    .trim()
    .superRefine((text, ctx) => {
      if ((whole ? DIGITS : DECIMAL).test(text)) return;
      // "-1", "1.5" (whole) and "abc" are out of range or no number: the contract says it all.
      const written = /^-?(\d+(\.\d*)?|\.\d+)$/.test(text) || !Number.isFinite(Number(text));
      ctx.addIssue({
        code: 'custom',
        message: written ? contract : `${contract}, in plain digits`,
      });
    })
    .transform(Number)
    .pipe(number);
}

/**
 * A whole number from `min` to `max` (unbounded: "of at least `min`"). Its message reads after
 * the variable's name, as loadConfig puts it: "must be a whole number from 1 to 256"; `contract`
 * replaces it.
 */
export function wholeNumber(min: number, max?: number, contract?: string) {
  const says =
    contract ??
    (max === undefined
      ? `must be a whole number of at least ${min}`
      : `must be a whole number from ${min} to ${max}`);
  const most = max === undefined ? `must be at most ${Number.MAX_SAFE_INTEGER}` : says;
  const n = z
    .number()
    .int(says)
    .min(min, says)
    .max(max ?? Number.MAX_SAFE_INTEGER, most);
  return plainNumber(says, n, true);
}

/** A port; `min` 1 where something must connect to it (0: the system chooses one). */
export const portNumber = (min = 0) =>
  wholeNumber(min, 65535, `must be a port number from ${min} to 65535`);

/** A number from `min` to `max`, fractions allowed: "must be a number from 0 to 1". */
export function decimal(min: number, max: number) {
  const says = `must be a number from ${min} to ${max}`;
  return plainNumber(says, z.number().min(min, says).max(max, says));
}
