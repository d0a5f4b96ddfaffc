import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printAppSchema, SCHEMA_FILE } from '../src/cli/print-schema.js';

describe('schema/schema.graphql', () => {
  it('matches the schema the code builds (run npm run schema:print after a change)', async () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(await printAppSchema());
  });
});
