import { readdirSync, readFileSync } from 'node:fs';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  markdownOperations,
  operationProblems,
  rootFields,
  type DocOperation,
} from './utils/doc-operations.js';

const sdl = readFileSync('schema/schema.graphql', 'utf8');
const roots = rootFields(buildSchema(sdl));
const docs = ['README.md', ...readdirSync('docs').map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);

describe('schema/examples.graphql', () => {
  it('holds only operations that are valid against schema/schema.graphql', () => {
    const schema = buildSchema(sdl);
    const examples = parse(readFileSync('schema/examples.graphql', 'utf8'));
    expect(validate(schema, examples).map((e) => e.message)).toEqual([]);
    expect(examples.definitions.length).toBeGreaterThan(10);
  });
});

describe('the operations in README.md and docs/', () => {
  it('are all valid against schema/schema.graphql, so a schema change cannot leave them behind', () => {
    const operations = docs.flatMap((f) => markdownOperations(f, readFileSync(f, 'utf8'), roots));
    expect(operationProblems(sdl, operations)).toEqual([]);
    // The README's Exploring and walkthrough sections hold at least these.
    const readme = operations.filter((op) => op.file === 'README.md');
    expect(readme.length).toBeGreaterThanOrEqual(8);
    expect(readme.some((op) => op.source.includes('submitTask('))).toBe(true);
  });
});

describe('finding operations in Markdown', () => {
  const markdown = [
    'Run `{ viewer { role } }` first, then `query($id: ID!) { task(id: $id) { title } }`.', // 1
    'Send `{ "authorization": "Bearer <key>" }` and build `{ cypher, params }`.', // 2
    'Watch `messageSent { kind content }` and `taskUpdated(taskId | rootId)`.', // 3
    '', // 4
    '1. Submit:', // 5
    '   ```graphql', // 6
    '   mutation {', // 7
    '     submitTask(input: { title: "t" }) {', // 8
    '       id', // 9
    '     }', // 10
    '   }', // 11
    '   ```', // 12
    '```js', // 13
    'const q = `{ viewer { role } }`;', // 14
    '```', // 15
    'Broken: `{ viewer { rol } }`, `mutation { submitTask(input: {}) { id }` and', // 16
    '`{ health { versoin } }`.', // 17
  ].join('\n');
  const found = () => markdownOperations('doc.md', markdown, roots);
  const at = (ops: DocOperation[]) => ops.map((op) => [op.line, op.source]);

  it('takes fenced graphql blocks and operation code spans, with their lines', () => {
    expect(at(found())).toEqual([
      [1, '{ viewer { role } }'],
      [1, 'query($id: ID!) { task(id: $id) { title } }'],
      [3, 'subscription { messageSent { kind content } }'],
      [7, 'mutation {\n  submitTask(input: { title: "t" }) {\n    id\n  }\n}\n'],
      [16, '{ viewer { rol } }'],
      [16, 'mutation { submitTask(input: {}) { id }'],
      [17, '{ health { versoin } }'],
    ]);
  });

  it('leaves JSON, TypeScript, prose and other languages alone', () => {
    const sources = found().map((op) => op.source);
    expect(sources.some((s) => s.includes('authorization') || s.includes('cypher'))).toBe(false);
    expect(sources.some((s) => s.includes('rootId'))).toBe(false);
  });

  it('reports each broken operation by file and line, syntax errors included', () => {
    const problems = operationProblems(sdl, found());
    expect(problems).toHaveLength(3);
    expect(problems[0]).toBe(
      'doc.md:16: Cannot query field "rol" on type "Viewer". Did you mean "role"?',
    );
    expect(problems[1]).toMatch(/^doc\.md:16: Syntax Error: Expected Name, found <EOF>\.$/);
    expect(problems[2]).toMatch(/^doc\.md:17: Cannot query field "versoin" on type "Health"\./);
    // The valid ones before them pass.
    expect(problems.some((p) => /doc\.md:(1|3|7):/.test(p))).toBe(false);
  });
});
