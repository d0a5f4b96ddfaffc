import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PlanSchema } from '../src/agents/plan.js';
import { TOOL_ARGS } from '../src/agents/tools.js';
import { toStrictJsonSchema } from '../src/llm/strict-schema.js';
import { textToolCalls } from '../src/llm/text-tool-calls.js';
import { assertOpenAIStrictSchema, openAIStrictSchemaProblems } from './utils/strict-schema.js';

// OpenAI's strict structured outputs accept a subset of JSON Schema
// (https://platform.openai.com/docs/guides/structured-outputs#supported-schemas).

describe('the OpenAI strict-schema checker', () => {
  it('refuses an optional property left out of required, as the plan schema had it', () => {
    const problems = openAIStrictSchemaProblems({
      type: 'object',
      properties: { key: { type: 'string' }, condition: { type: 'string' } },
      required: ['key'],
      additionalProperties: false,
    });
    expect(problems).toEqual([
      '(root): every property must be required (optional ones nullable), missing condition',
    ]);
  });

  it('refuses an open object, unsupported keywords, unknown formats and a non-object root', () => {
    expect(openAIStrictSchemaProblems({ type: 'array', items: { type: 'string' } })).toContain(
      '(root): must be type "object"',
    );
    const problems = openAIStrictSchemaProblems({
      type: 'object',
      properties: {
        a: { type: 'object', properties: {}, required: [] },
        b: { type: 'string', default: 'x', format: 'phone' },
        c: { type: 'array', items: { type: 'string' }, uniqueItems: true },
        d: { allOf: [{ type: 'string' }] },
      },
      required: ['a', 'b', 'c', 'd'],
      additionalProperties: false,
    });
    expect(problems).toEqual([
      '(root).a: an object needs additionalProperties: false',
      '(root).b: keyword "default" is not supported',
      '(root).b: format "phone" is not supported',
      '(root).c: keyword "uniqueItems" is not supported',
      '(root).d: keyword "allOf" is not supported',
      '(root).d: has no type',
    ]);
  });

  it('accepts nullable optionals, anyOf, local refs, minItems and maxItems', () => {
    expect(() =>
      assertOpenAIStrictSchema({
        type: 'object',
        properties: {
          steps: { type: 'array', minItems: 1, maxItems: 20, items: { $ref: '#/$defs/step' } },
          note: { type: ['string', 'null'] },
          when: { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] },
        },
        required: ['steps', 'note', 'when'],
        additionalProperties: false,
        $defs: {
          step: {
            type: 'object',
            properties: { n: { type: 'number', minimum: 0 } },
            required: ['n'],
            additionalProperties: false,
          },
        },
      }),
    ).not.toThrow();
  });
});

describe('toStrictJsonSchema', () => {
  it('turns the plan schema into one OpenAI accepts, its condition required and nullable', () => {
    const schema = toStrictJsonSchema(PlanSchema);
    assertOpenAIStrictSchema(schema, 'plan');
    const step = (schema.properties as any).steps.items;
    expect(step.required).toContain('condition');
    expect(step.properties.condition.type).toEqual(['string', 'null']);
    expect(PlanSchema.shape.steps.element.parse({ ...validStep, condition: null })).toMatchObject(
      validStep,
    );
  });

  it('refuses an optional field that cannot take the null a strict model sends', () => {
    expect(() => toStrictJsonSchema(z.object({ a: z.string().optional() }))).toThrow(
      /\.a is optional but not nullable: declare it \.nullish\(\)/,
    );
  });
});

describe("the operator's own tools", () => {
  it('take the null a strict model sends for an argument it leaves out', () => {
    const args = { content: 'Tin is cheap', kind: null, tags: null };
    expect(TOOL_ARGS.record_knowledge.parse(args)).toEqual(args);
    expect(TOOL_ARGS.record_knowledge.parse({ content: 'Tin is cheap' })).toEqual({
      content: 'Tin is cheap',
    });
    for (const [name, schema] of Object.entries(TOOL_ARGS)) {
      assertOpenAIStrictSchema(toStrictJsonSchema(schema), `tool ${name}`);
    }
  });
});

const validStep = {
  key: 'a',
  title: 'A',
  instructions: 'Do A',
  capability: 'research',
  dependsOn: [],
  output: 'notes',
};

describe('textToolCalls', () => {
  const tools = ['search_knowledge', 'record_knowledge'];

  it('reads a fenced JSON call, a bare one, Qwen tags, OpenAI nesting and string arguments', () => {
    const call = { name: 'search_knowledge', args: { query: 'e-bikes' } };
    expect(
      textToolCalls(
        '```json\n{"name": "search_knowledge", "arguments": {"query": "e-bikes"}}\n```',
        tools,
      ),
    ).toEqual([call]);
    expect(
      textToolCalls('{"name": "search_knowledge", "parameters": {"query": "e-bikes"}}', tools),
    ).toEqual([call]);
    expect(
      textToolCalls(
        '<tool_call>\n{"name": "search_knowledge", "arguments": {"query": "e-bikes"}}\n</tool_call>',
        tools,
      ),
    ).toEqual([call]);
    expect(
      textToolCalls(
        '[{"function": {"name": "search_knowledge", "arguments": "{\\"query\\": \\"e-bikes\\"}"}}]',
        tools,
      ),
    ).toEqual([call]);
  });

  it('leaves prose, unknown tools and JSON answers alone', () => {
    expect(textToolCalls('Done: {"name": "search_knowledge", "arguments": {}}', tools)).toEqual([]);
    expect(textToolCalls('{"name": "delete_everything", "arguments": {}}', tools)).toEqual([]);
    expect(textToolCalls('{"name": "Ada", "age": 36}', tools)).toEqual([]);
    expect(textToolCalls('{"name": "search_knowledge", "arguments": {}}', [])).toEqual([]);
  });
});
