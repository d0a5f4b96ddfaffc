import { describe, expect, it } from 'vitest';
import { envSchema, loadConfig } from '../src/config/config.js';

/*
 * Numeric variables were read with Number(): ENGINE_CONCURRENCY=1e3 ran 1000 steps at once,
 * 0x10 meant 16, and a budget of Infinity was no budget. A number is written in plain digits
 * (a decimal point where a fraction is allowed), spaces around it trimmed.
 */

const CANDIDATES = ['5', '10', '100', '1000', '1024', '60000', '0.1', '0.05', '0.01'];

/** Every variable of the schema that reads a number, with one value it accepts. */
function numericVariables(): [string, string][] {
  return Object.entries(envSchema.shape).flatMap(([name, schema]) => {
    const ok = CANDIDATES.find((c) => typeof schema.safeParse(c).data === 'number');
    return ok === undefined ? [] : [[name, ok] as [string, string]];
  });
}

describe('numeric environment variables', () => {
  it('are found in the schema, ports, timers, counts and shares alike', () => {
    const names = numericVariables().map(([name]) => name);
    for (const name of ['PORT', 'ENGINE_CONCURRENCY', 'MAX_BODY_BYTES', 'LLM_TIMEOUT_MS'])
      expect(names).toContain(name);
    for (const name of ['BUDGET_TENANT_USD', 'EVOLUTION_CANARY_SHARE', 'METRICS_PORT'])
      expect(names).toContain(name);
    expect(names.length).toBeGreaterThan(50);
  });

  it('accept plain digits with spaces around them', () => {
    for (const [name, value] of numericVariables()) {
      expect(envSchema.shape[name as 'PORT'].safeParse(` ${value} `).data, name).toBe(
        Number(value),
      );
    }
  });

  it('refuse exponents, hex, binary, octal, signs, Infinity and trailing text', () => {
    const accepted: string[] = [];
    for (const [name, value] of numericVariables()) {
      const n = Number(value);
      const forms = [`${value}e0`, `+${value}`, 'Infinity', `${value}abc`, `${value}_0`];
      if (Number.isInteger(n))
        forms.push(`0x${n.toString(16)}`, `0b${n.toString(2)}`, `0o${n.toString(8)}`);
      for (const form of forms) {
        if (envSchema.shape[name as 'PORT'].safeParse(form).success)
          accepted.push(`${name}=${form}`);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('name the variable and say to write plain digits', () => {
    expect(() => loadConfig({ ENGINE_CONCURRENCY: '1e3' })).toThrow(
      'Invalid environment: ENGINE_CONCURRENCY must be a whole number from 1 to 256, ' +
        'in plain digits, but got "1e3"',
    );
    expect(() => loadConfig({ BUDGET_TENANT_USD: '0x10' })).toThrow(
      /^Invalid environment: BUDGET_TENANT_USD .*plain digits.*, but got "0x10"$/,
    );
  });
});
