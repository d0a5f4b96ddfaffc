import type { ChatRequest } from './openai-server.js';

type Node = { [keyword: string]: unknown };

/**
 * The keywords OpenAI's strict structured outputs accept
 * (https://platform.openai.com/docs/guides/structured-outputs#supported-schemas); anything else
 * (default, minLength, uniqueItems, allOf, oneOf, not, if/then/else, patternProperties, ...) is
 * refused with HTTP 400.
 */
const ALLOWED = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'anyOf',
  'enum',
  'const',
  '$ref',
  '$defs',
  'definitions',
  'description',
  'title',
  // strings
  'pattern',
  'format',
  // numbers
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  // arrays
  'minItems',
  'maxItems',
]);
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
const FORMATS = new Set([
  'date-time',
  'time',
  'date',
  'duration',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'uuid',
]);
const MAX_DEPTH = 10;
const MAX_PROPERTIES = 5000;
const MAX_ENUM_VALUES = 1000;

/** Every way `schema` breaks OpenAI's strict rules, as `path: problem` lines; [] when valid. */
export function openAIStrictSchemaProblems(schema: unknown): string[] {
  const problems: string[] = [];
  const root = schema as Node;
  if (typeof schema !== 'object' || schema === null) return ['(root): is not a schema object'];
  if (root.type !== 'object') problems.push('(root): must be type "object"');
  if (root.anyOf) problems.push('(root): must not be anyOf');
  let properties = 0;
  let enumValues = 0;

  const visit = (node: unknown, path: string, depth: number): void => {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) {
      problems.push(`${path}: is not a schema object`);
      return;
    }
    const n = node as Node;
    for (const key of Object.keys(n)) {
      if (!ALLOWED.has(key) && !(key === '$schema' && path === '(root)')) {
        problems.push(`${path}: keyword "${key}" is not supported`);
      }
    }
    if (!('type' in n) && !n.anyOf && !n.$ref && !n.enum && !('const' in n)) {
      problems.push(`${path}: has no type`);
    }
    const types = Array.isArray(n.type) ? n.type : 'type' in n ? [n.type] : [];
    for (const t of types) if (!TYPES.has(t as string)) problems.push(`${path}: type ${t}`);
    if (typeof n.format === 'string' && !FORMATS.has(n.format)) {
      problems.push(`${path}: format "${n.format}" is not supported`);
    }
    if (Array.isArray(n.enum)) enumValues += n.enum.length;
    if (typeof n.$ref === 'string') {
      if (!n.$ref.startsWith('#')) problems.push(`${path}: $ref ${n.$ref} is not local`);
      else if (resolve(root, n.$ref) === undefined) {
        problems.push(`${path}: $ref ${n.$ref} does not resolve`);
      }
    }
    if (types.includes('object') || n.properties) {
      if (depth > MAX_DEPTH) problems.push(`${path}: nested deeper than ${MAX_DEPTH} objects`);
      if (n.additionalProperties !== false) {
        problems.push(`${path}: an object needs additionalProperties: false`);
      }
      const props = (n.properties ?? {}) as Record<string, unknown>;
      if (typeof n.properties !== 'object') problems.push(`${path}: an object needs properties`);
      const keys = Object.keys(props);
      properties += keys.length;
      const required = Array.isArray(n.required) ? (n.required as string[]) : [];
      const missing = keys.filter((k) => !required.includes(k));
      if (missing.length > 0) {
        problems.push(
          `${path}: every property must be required (optional ones nullable), missing ${missing.join(', ')}`,
        );
      }
      const unknown = required.filter((k) => !keys.includes(k));
      if (unknown.length > 0) problems.push(`${path}: requires unknown ${unknown.join(', ')}`);
      for (const k of keys) visit(props[k], `${path}.${k}`, depth + 1);
    }
    if (n.items !== undefined) visit(n.items, `${path}[]`, depth);
    if (n.anyOf !== undefined) {
      if (!Array.isArray(n.anyOf)) problems.push(`${path}: anyOf must be an array`);
      else n.anyOf.forEach((b, i) => visit(b, `${path}|anyOf[${i}]`, depth));
    }
    for (const defs of ['$defs', 'definitions']) {
      const d = n[defs] as Record<string, unknown> | undefined;
      for (const [name, def] of Object.entries(d ?? {})) visit(def, `#/${defs}/${name}`, depth);
    }
  };
  visit(root, '(root)', 1);
  if (properties > MAX_PROPERTIES) problems.push(`more than ${MAX_PROPERTIES} properties`);
  if (enumValues > MAX_ENUM_VALUES) problems.push(`more than ${MAX_ENUM_VALUES} enum values`);
  return problems;
}

function resolve(root: Node, ref: string): unknown {
  let at: unknown = root;
  for (const part of ref.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Node)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return at;
}

/** Throws, naming every problem, unless `schema` is valid under OpenAI's strict rules. */
export function assertOpenAIStrictSchema(schema: unknown, what = 'schema'): void {
  const problems = openAIStrictSchemaProblems(schema);
  if (problems.length > 0) {
    throw new Error(
      `${what} is not valid under OpenAI's strict rules:\n- ${problems.join('\n- ')}`,
    );
  }
}

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Checks a request body as OpenAI would: a json_schema response_format with `strict: true` and
 * every tool declared `strict: true` must carry a strict-valid schema and a valid name.
 * Returns how many strict schemas it checked.
 */
export function assertOpenAIStrictRequest(body: ChatRequest): number {
  let checked = 0;
  const format = body.response_format as
    | { type: string; json_schema?: { name?: string; strict?: boolean; schema?: object } }
    | undefined;
  if (format?.type === 'json_schema' && format.json_schema?.strict === true) {
    const { name, schema } = format.json_schema;
    if (!NAME.test(name ?? '')) throw new Error(`response_format name ${name} is not valid`);
    assertOpenAIStrictSchema(schema, `response_format ${name}`);
    checked++;
  }
  for (const tool of body.tools ?? []) {
    const fn = tool.function as { name: string; strict?: boolean; parameters?: object };
    if (!NAME.test(fn.name)) throw new Error(`tool name ${fn.name} is not valid`);
    if (fn.strict === true) {
      assertOpenAIStrictSchema(fn.parameters, `tool ${fn.name}`);
      checked++;
    }
  }
  return checked;
}

/**
 * Checks a body as a real provider takes it: its strict schemas and names (as
 * assertOpenAIStrictRequest), exactly one token limit of `maxTokens` (`max_tokens`, or
 * `max_completion_tokens`, which OpenAI's reasoning models take instead), and, when it streams,
 * `stream_options.include_usage` (else the stream carries no usage and nothing is booked).
 * Returns how many strict schemas it checked.
 */
export function assertProviderRequest(body: ChatRequest, maxTokens: number): number {
  const limits = (['max_tokens', 'max_completion_tokens'] as const).filter((k) => k in body);
  if (limits.length !== 1 || body[limits[0]!] !== maxTokens) {
    const sent = limits.map((k) => `${k}: ${String(body[k])}`).join(', ') || 'none';
    throw new Error(`the request must carry one token limit of ${maxTokens}, but sent ${sent}`);
  }
  if (body.stream === true && body.stream_options?.include_usage !== true) {
    throw new Error('a streamed request must ask for its usage (stream_options.include_usage)');
  }
  return assertOpenAIStrictRequest(body);
}
