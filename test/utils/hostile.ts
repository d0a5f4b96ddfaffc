import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { expect } from 'vitest';
import type { Graph } from '../../graph/graph.js';
import type { TestServer } from './server.js';

// ---------------------------------------------------------------------------------------------
// Payloads

/**
 * Strings that would break a query built by concatenation (Cypher, Lucene, JSON, GraphQL) or a
 * careless logger or terminal. None starts or ends with whitespace (inputs are trimmed), so any
 * of them that is stored must come back exactly as sent.
 */
export const INJECTION_PAYLOADS: readonly string[] = [
  `' OR 1=1 //`,
  `"}) MATCH (n) DETACH DELETE n //`,
  `'}) MATCH (n) DETACH DELETE n RETURN 1 //`,
  `x') CALL dbms.components() YIELD name RETURN name //`,
  '\u0000',
  'nul\u0000in\u0000the\u0000middle',
  '${tenantId}',
  '$tenantId',
  '`backtick`) RETURN 1 //',
  `\\' RETURN 1 //`,
  '\u202Egnp.exe\u200F\u200E\u2067rtl',
  '*:* OR title:* AND NOT ~ \\ "unbalanced',
  '"} } mutation { deleteOrganisation(confirm: "x") { nodesDeleted } } #',
  'ctl\r\n\t\u0007\u001b[31mred',
  // 9,500 UTF-16 units: within the description (10,000) and content (20,000) limits.
  '🙂ℵ\u0301ぁ'.repeat(1_900),
];

/** Ids that name nothing: never a 500, at most a NOT_FOUND or BAD_USER_INPUT. */
export const INVALID_IDS: readonly string[] = [
  '',
  'i'.repeat(10_000),
  'ид-🙂-\u202E-\u0000',
  `1' OR '1'='1`,
  `") MATCH (n) DETACH DELETE n //`,
  '00000000-0000-4000-8000-0000000f00d5',
];

// ---------------------------------------------------------------------------------------------
// Documents

/** `{ tasks { nodes { subtasks { ... { id } } } } }` with exactly `depth` levels of fields. */
export function nestedTasksQuery(depth: number): string {
  const inner = depth - 3; // tasks, nodes and the leaf id
  return `{ tasks { nodes { ${'subtasks { '.repeat(inner)}id${' }'.repeat(inner)} } } }`;
}

/** `{ a0: __typename a1: __typename ... }` */
export function aliasBomb(count: number): string {
  return `{ ${Array.from({ length: count }, (_, i) => `a${i}: __typename`).join(' ')} }`;
}

/**
 * Fragment Fn spreads F(n-1) twice, F0 holds ten aliases: the document is small, the operation
 * it describes has 10 * 2^levels aliased fields.
 */
export function fragmentAliasBomb(levels: number): string {
  const fragments = [
    `fragment F0 on Query { ${Array.from({ length: 10 }, (_, i) => `a${i}: __typename`).join(' ')} }`,
  ];
  for (let i = 1; i <= levels; i++) {
    fragments.push(`fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }`);
  }
  return `query { ...F${levels} } ${fragments.join(' ')}`;
}

/**
 * No aliases, within the depth limit, but each level fans out four ways through a fragment:
 * 4^levels selections to walk.
 */
export function fragmentFieldBomb(levels: number): string {
  const fragments = ['fragment T0 on Task { id title }'];
  for (let i = 1; i <= levels; i++) {
    const p = `T${i - 1}`;
    fragments.push(
      `fragment T${i} on Task { subtasks { ...${p} } dependencies { ...${p} } dependents { ...${p} } parent { ...${p} } }`,
    );
  }
  return `query { tasks { nodes { ...T${levels} } } } ${fragments.join(' ')}`;
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface RawResponse {
  status: number;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  json: { data?: unknown; errors?: ResponseError[] } | undefined;
  text: string;
}

export interface ResponseError {
  message: string;
  extensions?: { code?: unknown; [key: string]: unknown };
}

/** A request to the server's /graphql as the admin key (unless headers say otherwise). */
export async function send(
  server: Pick<TestServer, 'url' | 'adminKey'>,
  init: {
    method?: string;
    body?: string | Buffer | ReadableStream<Uint8Array>;
    headers?: Record<string, string>;
    search?: string;
  },
): Promise<RawResponse> {
  const res = await fetch(server.url + (init.search ?? ''), {
    method: init.method ?? 'POST',
    headers: { authorization: `Bearer ${server.adminKey}`, ...init.headers },
    body: init.body,
    ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  const text = await res.text();
  let json: RawResponse['json'];
  try {
    json = JSON.parse(text) as RawResponse['json'];
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** POSTs `{ query, variables }` as JSON. */
export function post(
  server: Pick<TestServer, 'url' | 'adminKey'>,
  query: string,
  variables?: Record<string, unknown>,
): Promise<RawResponse> {
  return send(server, {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
}

/** The `extensions.code` of every error, in order. */
export function codesOf(res: RawResponse): unknown[] {
  return (res.json?.errors ?? []).map((e) => e.extensions?.code);
}

/**
 * A refusal the way clients must see one: no 5xx, a GraphQL error body, every error with a
 * string code, none of them INTERNAL_SERVER_ERROR. Returns the codes.
 */
export function expectTypedRefusal(res: RawResponse, what = ''): string[] {
  const context = `${what} -> ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, context).toBeLessThan(500);
  expect(res.json?.errors?.length, context).toBeGreaterThan(0);
  expect(untypedProblem(res), context).toBeNull();
  return codesOf(res) as string[];
}

/**
 * Why the response is not a success or a typed refusal (a 5xx, no JSON, an error without a
 * code, INTERNAL_SERVER_ERROR), or null. For sweeps that collect every problem.
 */
export function untypedProblem(res: RawResponse): string | null {
  const codes = codesOf(res);
  const ok =
    res.status < 500 &&
    res.json !== undefined &&
    codes.every((code) => typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR');
  return ok ? null : `${res.status} ${res.text.slice(0, 200)}`;
}

/** The server still answers a health query and an authenticated query normally. */
export async function expectStillServing(server: TestServer): Promise<void> {
  const res = await post(server, '{ health { neo4j { up } } viewer { keyId } }');
  expect(res.status, res.text).toBe(200);
  expect(res.json?.errors, res.text).toBeUndefined();
  expect(res.json?.data).toMatchObject({ health: { neo4j: { up: true } }, viewer: {} });
}

// ---------------------------------------------------------------------------------------------
// The graph, read directly

/** Every node and relationship of a tenant, with all properties, in a stable order. */
export async function tenantSnapshot(graph: Graph, tenantId: string): Promise<string> {
  const rows = await graph.read((tx) =>
    tx.run({
      cypher: `MATCH (n {tenantId: $tenantId})
               OPTIONAL MATCH (n)-[r]->(m)
               WITH n, collect([type(r), m.id, properties(r)]) AS out
               RETURN labels(n) AS labels, n.id AS id, properties(n) AS props, out
               ORDER BY id`,
      params: { tenantId },
    }),
  );
  return JSON.stringify(rows);
}

/** Ids of the tenant's nodes, audit events excluded (every request writes one). */
export async function tenantNodeIds(graph: Graph, tenantId: string): Promise<string[]> {
  const rows = await graph.read((tx) =>
    tx.run<{ id: string }>({
      cypher: `MATCH (n {tenantId: $tenantId}) WHERE NOT n:AuditEvent RETURN n.id AS id ORDER BY id`,
      params: { tenantId },
    }),
  );
  return rows.map((r) => r.id);
}

// ---------------------------------------------------------------------------------------------
// Operations generated from the schema

/** The server's schema as a client sees it, by introspection. */
export async function introspectSchema(server: TestServer): Promise<GraphQLSchema> {
  const res = await post(server, getIntrospectionQuery());
  expect(res.json?.errors, res.text.slice(0, 300)).toBeUndefined();
  return buildClientSchema(res.json!.data as IntrospectionQuery);
}

/** Where a value goes: a root field, its argument, then input fields and list items (0). */
export interface Slot {
  operation: 'query' | 'mutation';
  field: GraphQLField<unknown, unknown>;
  /** e.g. ['input', 'capabilities', 0, 'name'] */
  path: (string | 0)[];
  /** The slot may be left out (an optional argument or input field on the way). */
  optional: boolean;
}

/**
 * Every place of Query and Mutation that takes a `scalar`: arguments, and fields of input
 * objects (recursively, through lists).
 */
export function slotsOf(schema: GraphQLSchema, scalar: 'String' | 'ID'): Slot[] {
  const slots: Slot[] = [];
  const walk = (
    base: Omit<Slot, 'path' | 'optional'>,
    type: GraphQLInputType,
    path: (string | 0)[],
    optional: boolean,
    seen: Set<string>,
  ) => {
    const nullable = !isNonNullType(type);
    const inner = isNonNullType(type) ? type.ofType : type;
    if (isListType(inner)) {
      walk(base, inner.ofType, [...path, 0], optional || nullable, seen);
    } else if (isInputObjectType(inner)) {
      if (seen.has(inner.name)) return; // a recursive input type: once is enough
      for (const field of Object.values(inner.getFields())) {
        const fieldOptional = !isNonNullType(field.type) || field.defaultValue !== undefined;
        walk(
          base,
          field.type,
          [...path, field.name],
          optional || nullable || fieldOptional,
          new Set([...seen, inner.name]),
        );
      }
    } else if (getNamedType(inner).name === scalar) {
      slots.push({ ...base, path, optional: optional || nullable });
    }
  };
  for (const operation of ['query', 'mutation'] as const) {
    const root = operation === 'query' ? schema.getQueryType() : schema.getMutationType();
    for (const field of Object.values(root?.getFields() ?? {})) {
      for (const arg of field.args) {
        walk({ operation, field }, arg.type, [arg.name], arg.defaultValue !== undefined, new Set());
      }
    }
  }
  return slots;
}

/** Real ids of the tester's own tenant, to fill ID arguments that are not under test. */
export interface OwnIds {
  agent: string;
  /** A second agent: reassignTo must differ from the agent deleted. */
  otherAgent: string;
  task: string;
  /** A second task: a task cannot depend on itself. */
  otherTask: string;
  conversation: string;
  message: string;
  knowledge: string;
  apiKey: string;
}

/** Which of the own ids an ID argument wants, by the field's and the argument's names. */
function idFor(ids: OwnIds, fieldName: string, name: string): string {
  const arg = name.toLowerCase();
  const field = fieldName.toLowerCase();
  if (arg === 'reassignto') return ids.otherAgent;
  if (arg.includes('dependson')) return ids.otherTask;
  if (/agent|assignee|delegatedby/.test(arg)) return ids.agent;
  if (/task|parent/.test(arg)) return ids.task;
  if (arg.includes('conversation')) return ids.conversation;
  if (arg.includes('supersedes')) return ids.knowledge;
  if (arg.includes('actorkey')) return ids.apiKey;
  if (field.includes('knowledge')) return ids.knowledge;
  if (field.includes('apikey')) return ids.apiKey;
  if (field.includes('conversation')) return ids.conversation;
  if (field.includes('message')) return ids.message;
  if (field.includes('task')) return ids.task;
  return ids.agent;
}

/**
 * What an input object needs beyond its schema-required fields for the service to get as far
 * as storing the value under test.
 */
const EXTRA_INPUT_FIELDS: Record<string, (ids: OwnIds) => Record<string, unknown>> = {
  SendMessageInput: (ids) => ({ toAgentIds: [ids.agent] }),
};

let fillCounter = 0;

/** A valid value of `type`: required fields filled, ids of the tester's own tenant. */
function validValue(type: GraphQLInputType, ids: OwnIds, fieldName: string, name: string): unknown {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return [validValue(inner.ofType, ids, fieldName, name)];
  if (isInputObjectType(inner)) return requiredFields(inner, ids, fieldName);
  if (isEnumType(inner)) return inner.getValues()[0]!.value;
  switch (inner.name) {
    case 'ID':
      return idFor(ids, fieldName, name);
    case 'String':
      return `hostile fill ${++fillCounter}`;
    case 'Int':
      return 1;
    case 'Float':
      return 0.5;
    case 'Boolean':
      return false;
    case 'DateTimeISO':
      return new Date().toISOString();
    case 'JSONObject':
      return {};
    default:
      throw new Error(`No valid value known for scalar ${inner.name}: teach validValue`);
  }
}

function requiredFields(
  type: Extract<GraphQLInputType, { getFields: unknown }>,
  ids: OwnIds,
  fieldName: string,
): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const field of Object.values(type.getFields())) {
    if (isNonNullType(field.type) && field.defaultValue === undefined) {
      value[field.name] = validValue(field.type, ids, fieldName, field.name);
    }
  }
  return { ...value, ...EXTRA_INPUT_FIELDS[type.name]?.(ids) };
}

/** `type` with `payload` at `path` and valid values everywhere else it needs one. */
function valueAt(
  type: GraphQLInputType,
  path: (string | 0)[],
  payload: string,
  ids: OwnIds,
  fieldName: string,
): unknown {
  if (path.length === 0) return payload;
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return [valueAt(inner.ofType, path.slice(1), payload, ids, fieldName)];
  if (!isInputObjectType(inner)) throw new Error(`Cannot follow ${path.join('.')} into ${inner}`);
  const [name, ...rest] = path as [string, ...(string | 0)[]];
  return {
    ...requiredFields(inner, ids, fieldName),
    [name]: valueAt(inner.getFields()[name]!.type, rest, payload, ids, fieldName),
  };
}

/** A small selection for a field's result: ids where there are ids, else __typename. */
function selectionFor(type: GraphQLOutputType): string {
  const named = getNamedType(type);
  if (!isObjectType(named) && !isInterfaceType(named)) return '';
  const fields = named.getFields();
  if (fields.id) return '{ id }';
  const withIds = Object.values(fields).filter((f) => {
    const t = getNamedType(f.type);
    return (
      (isObjectType(t) || isInterfaceType(t)) &&
      'id' in t.getFields() &&
      f.args.every((a) => !isNonNullType(a.type))
    );
  });
  return `{ __typename ${withIds.map((f) => `${f.name} { id }`).join(' ')} }`;
}

/** The operation that puts `payload` into `slot`, every other required argument valid. */
export function operationFor(
  slot: Slot,
  payload: string,
  ids: OwnIds,
): { query: string; variables: Record<string, unknown> } {
  const { field } = slot;
  const variables: Record<string, unknown> = {};
  const declared: string[] = [];
  const passed: string[] = [];
  for (const arg of field.args) {
    let value: unknown;
    if (arg.name === slot.path[0]) {
      value = valueAt(arg.type, slot.path.slice(1), payload, ids, field.name);
    } else if (isNonNullType(arg.type) && arg.defaultValue === undefined) {
      value = validValue(arg.type, ids, field.name, arg.name);
    } else continue;
    variables[arg.name] = value;
    declared.push(`$${arg.name}: ${String(arg.type)}`);
    passed.push(`${arg.name}: $${arg.name}`);
  }
  const vars = declared.length ? `(${declared.join(', ')})` : '';
  const args = passed.length ? `(${passed.join(', ')})` : '';
  return {
    query: `${slot.operation} Hostile${vars} { ${field.name}${args} ${selectionFor(field.type)} }`,
    variables,
  };
}

/** e.g. `Mutation.createAgent(input.capabilities[0].name)` */
export function describeSlot(slot: Slot): string {
  const path = slot.path.map((p, i) => (p === 0 ? '[0]' : i === 0 ? p : `.${p}`)).join('');
  return `${slot.operation}.${slot.field.name}(${path})`;
}

/**
 * The items reordered round-robin over their keys (the first of each key, then the second of
 * each, ...), keeping each key's own order. A sweep run in this order has requests of
 * different operations in flight together, not a burst of one operation: fifteen concurrent
 * writes to one seed agent (and the chat replies they start) queue on its lock, and on a
 * loaded machine that queue, not the input under test, decides how long a request takes.
 */
export function interleaved<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  const out: T[] = [];
  for (let round = 0; out.length < items.length; round++) {
    for (const group of groups.values()) if (round < group.length) out.push(group[round]!);
  }
  return out;
}

/** Runs `work` on every item, at most `concurrency` at a time, in order of start. */
export async function eachLimited<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
