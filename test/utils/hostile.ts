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
// The suites' fixtures

export const JSON_TYPE = { 'content-type': 'application/json' };

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

/** A payload short enough for a failure message. */
export function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
