import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../src/config/config.js';

/*
 * The README's "Environment variables" table names every variable the configuration reads:
 * `EVOLUTION` and `EVOLUTION_INTERVAL_MS` were read and used, and missing from it.
 */

const readme = readFileSync('README.md', 'utf8');
const table = readme.slice(readme.indexOf('## Environment variables'));

/** The names a row's first cell documents: `NAME`, or a pattern such as `LLM_MODEL_<PURPOSE>`. */
function documented(): RegExp[] {
  return [...table.matchAll(/^\| (.+?) \|/gm)].flatMap(([, cell]) =>
    [...cell!.matchAll(/`([A-Z0-9_<>|\\]+)`/g)].map(([, name]) => {
      const pattern = name!
        .replace(/\\\|/g, '|')
        .replace(/<PURPOSE>/g, '[A-Z_]+')
        .replace(/<([A-Z|]+)>/g, '($1)');
      return new RegExp(`^${pattern}$`);
    }),
  );
}

describe('the README’s environment variables', () => {
  it('document every variable the configuration reads', () => {
    const names = documented();
    const missing = Object.keys(envSchema.shape).filter((key) => !names.some((n) => n.test(key)));
    expect(missing).toEqual([]);
  });
});
