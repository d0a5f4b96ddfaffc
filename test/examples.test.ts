import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';

describe('schema/examples.graphql', () => {
  it('holds only operations that are valid against schema/schema.graphql', () => {
    const schema = buildSchema(readFileSync('schema/schema.graphql', 'utf8'));
    const examples = parse(readFileSync('schema/examples.graphql', 'utf8'));
    expect(validate(schema, examples).map((e) => e.message)).toEqual([]);
    expect(examples.definitions.length).toBeGreaterThan(10);
  });
});
