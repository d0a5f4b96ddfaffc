import neo4j from 'neo4j-driver';
import {
  checkCursor,
  encodeCursor,
  type Page,
  type PageRequest,
  type Sort,
  type SortProperty,
} from '../src/domain/page.js';
import type { CypherQuery, Tx } from './cypher.js';
import { mapOrSkip } from './mappers.js';
import { isProjected, projection, type Projection } from './projections.js';

/**
 * The lists, and the orders each may be read in: sort property -> stored property. Every pair
 * has a (tenantId, stored property) index (graph/migrations.ts), so a page and its count read
 * only the tenant's own rows however large other tenants grow. The only names spliced into
 * list Cypher. Messages never change, so their update time is their creation time.
 */
export const ORDERED_LISTS = {
  Agent: { createdAt: 'createdAt', updatedAt: 'updatedAt', name: 'name' },
  Task: { createdAt: 'createdAt', updatedAt: 'updatedAt', title: 'title' },
  Knowledge: { createdAt: 'createdAt', updatedAt: 'updatedAt' },
  Message: { createdAt: 'createdAt', updatedAt: 'createdAt' },
  Conversation: { createdAt: 'createdAt', updatedAt: 'updatedAt' },
  AuditEvent: { createdAt: 'createdAt' },
  ApiKey: { createdAt: 'createdAt' },
  Episode: { createdAt: 'createdAt', updatedAt: 'updatedAt' },
  Entity: { createdAt: 'createdAt', updatedAt: 'updatedAt', name: 'name' },
  Fact: { createdAt: 'createdAt', updatedAt: 'updatedAt' },
} as const satisfies Record<string, Partial<Record<SortProperty, string>>>;

/**
 * Lists that can be read one value of a property at a time, each in list order from a
 * (tenantId, property, order) index (graph/migrations.ts): label -> property -> the orders so
 * indexed. A filter to a few values (ListSpec.split) then reads a page per value and merges
 * them; in the tenant's order it read every row of the other values before the page filled.
 */
export const SPLIT_LISTS: Partial<Record<ListLabel, Record<string, readonly string[]>>> = {
  Task: { status: ['createdAt'] },
};

/** The most rows of one node a list walks from it (page.ts: Linked). */
export const WALK_LIMIT = 1000;

export type ListLabel = keyof typeof ORDERED_LISTS;

const TEMPORAL = new Set(['createdAt', 'updatedAt']);

export type { Sort };

export interface ListSpec {
  /** The tenant's rows of this label are listed; `params.tenantId` names the tenant. */
  label: ListLabel;
  /**
   * Instead of the tenant's index range: a fixed clause that binds `n` (full-text hits, or a
   * walk from one node: walkFrom). Unless it keeps to the tenant (walkFrom does), `conditions`
   * must then check n.tenantId themselves.
   */
  match?: string;
  /**
   * Rows linked to the one node a filter names (an agent's tasks): walked from it when it holds
   * few, else the tenant's rows in list order, each tested (Linked). Ignored beside `match`
   * but for its test.
   */
  linked?: Linked;
  /**
   * Only rows whose `property` is one of the list `params[param]` (a condition says so too):
   * read one value at a time where SPLIT_LISTS indexes the list's order.
   */
  split?: { property: string; param: string };
  /** Fixed condition texts over `n`; values go in params. */
  conditions: string[];
  params: Record<string, unknown> & { tenantId: string };
  sort: Sort;
  page: PageRequest;
  /** Of a projected label, the only properties to read (absent: all; projections.ts). */
  only?: readonly string[];
  /** More columns of each row: name -> fixed Cypher over `n`, read after the page's limit. */
  columns?: Record<string, string>;
}

/**
 * The rows linked to the one node a filter names (an agent's tasks, an entity's facts), for
 * ListSpec.linked. Walking from the node costs all its rows whatever the page; reading the
 * tenant's rows in list order and testing each costs the rows passed over until the page is
 * full, which for a node holding few is every row of the tenant. So readPage first reads how many
 * edges the node has (a count the store keeps) and walks when that is at most WALK_LIMIT; a count
 * always walks (its scan would test every row of the tenant).
 */
export interface Linked {
  /** The node: its label and the parameter holding its id (in the tenant). */
  from: { label: string; id: string };
  /** Edges from `from` to a row, e.g. '<-[:ASSIGNED_TO]-'; the rows of all of them, once each. */
  edges: string[];
  /** The same link as a condition on a row `n`, for reading the tenant's rows in list order. */
  test: string;
  /**
   * Rows linked to it without an edge (broadcast messages): a subquery branch that binds `n`
   * beside `from`, given the list's condition on `n` and, for a page, the direction to end with
   * an ORDER BY and `LIMIT $limit` in (so that it reads an index in order and stops).
   */
  more?: (list: { where: string; dir: 'ASC' | 'DESC' | null }) => string;
}

/**
 * A list's rows read from the one node its filter names (`from`: a label and the parameter
 * holding its id, in the tenant) across `edges`, for ListSpec.match: for a filter that selects
 * few rows, such as a task's messages or subtasks. Filtering the tenant's rows in list order
 * instead, a node with fewer rows than the page read every row of the tenant. The tenant is
 * checked on `from` (edges never join two tenants' nodes), and the walk is a subquery: with a
 * condition on `n` beside it (its tenant, say), the planner may seek the tenant's rows and test
 * each for the edge. `more`: another branch of rows (Linked.more), already shaped.
 */
export function walkFrom(
  from: { label: string; id: string },
  edges: string | string[],
  label: ListLabel,
  more?: string,
) {
  const branches = [edges].flat().map((edge) => `MATCH (from)${edge}(n:${label}) RETURN n`);
  if (more) branches.push(more);
  // UNION keeps each row once; one branch needs DISTINCT for that (a row with two edges to it).
  const rows =
    branches.length === 1
      ? branches[0]!.replace(/RETURN n$/, 'RETURN DISTINCT n')
      : branches.join('\n  UNION\n  ');
  return `MATCH (from:${from.label} {tenantId: $tenantId, id: $${from.id}})
USING INDEX SEEK from:${from.label}(id)
CALL (from) {
  ${rows}
}
WITH n`;
}

/** The name a cursor is signed for: a cursor is valid only for its list and order. */
export function listKey(spec: Pick<ListSpec, 'label' | 'sort'>): string {
  return `${spec.label}.${spec.sort.property}.${spec.sort.descending ? 'DESC' : 'ASC'}`;
}

/**
 * Keyset pagination: rows after the cursor in (sort value, id) order. Rows inserted between
 * two page reads never shift the pages already read: no duplicates, no gaps.
 *
 * The tenant's rows are read in the order of the (tenantId, property) index: the hint makes
 * the planner seek it even when its statistics say a label scan is as cheap (a near-empty
 * database), and ordering by n.tenantId first lets it stream the index order and stop after
 * the page (PartialTop) instead of sorting every row of the tenant. Throws BAD_USER_INPUT for
 * a cursor that the API did not sign for this list and order.
 */
export function listQuery(spec: ListSpec, walk = true): CypherQuery {
  const property = storedProperty(spec);
  const after = spec.page.after && checkCursor(spec.page.after, listKey(spec));
  // LIMIT needs a Cypher INTEGER; a plain JS number travels as a FLOAT.
  const params: Record<string, unknown> = { ...spec.params, limit: neo4j.int(spec.page.first + 1) };
  const conditions = conditionsOf(spec, walk);
  if (after) {
    const op = spec.sort.descending ? '<' : '>';
    const value = TEMPORAL.has(property) ? 'datetime($afterValue)' : '$afterValue';
    // The first half is a range the index can seek; the second breaks ties by id.
    conditions.unshift(
      `n.${property} ${op}= ${value} AND (n.${property} ${op} ${value} OR n.id ${op} $afterId)`,
    );
    params.afterValue = after.value;
    params.afterId = after.id;
  } else {
    conditions.unshift(`n.${property} IS NOT NULL`);
  }
  const dir = spec.sort.descending ? 'DESC' : 'ASC';
  const where = conditions.join(' AND ');
  return {
    cypher: [
      source(spec, property, walk, { where, dir }),
      `WHERE ${where}`,
      `WITH n ORDER BY n.tenantId ${dir}, n.${property} ${dir}, n.id ${dir} LIMIT $limit`,
      `RETURN ${projectionOf(spec)?.of('n') ?? 'n'} AS node, toString(n.${property}) AS sortValue` +
        Object.entries(spec.columns ?? {})
          .map(([name, cypher]) => `,\n  ${cypher} AS ${name}`)
          .join(''),
    ].join('\n'),
    params,
  };
}

/** How many rows the list has in all: the same rows listQuery pages through. */
export function countQuery(spec: ListSpec): CypherQuery {
  const property = storedProperty(spec);
  const where = [`n.${property} IS NOT NULL`, ...conditionsOf(spec, true)].join(' AND ');
  return {
    cypher: [
      source(spec, property, true, { where, dir: null }),
      `WHERE ${where}`,
      'RETURN count(n) AS total',
    ].join('\n'),
    params: spec.params,
  };
}

/**
 * Runs a list, and its count when the request asks for one, in the caller's transaction, and
 * maps nodes (with their row's `columns`) to domain objects.
 */
export async function readPage<T>(
  tx: Tx,
  spec: ListSpec,
  map: (node: NodeLike, row: Record<string, unknown>) => T,
): Promise<Page<T>> {
  let walk = true;
  if (spec.linked && !spec.match) {
    const degree = await degreeOf(tx, spec.linked, spec.params);
    // No such node: nothing is linked to it.
    if (degree === null) return spec.page.total ? NONE_COUNTED : NONE;
    walk = degree <= WALK_LIMIT;
  }
  const rows = await tx.run<{ node: unknown; sortValue: string }>(listQuery(spec, walk));
  const [count] = spec.page.total ? await tx.run<{ total: number }>(countQuery(spec)) : [];
  const list = listKey(spec);
  const projected = projectionOf(spec);
  // A node the mappers cannot read is left out and logged, not the whole page (issue 9).
  const items = rows.slice(0, spec.page.first).flatMap((row) => {
    const read = projected ? projected.node(row.node) : (row.node as NodeLike);
    const node = mapOrSkip((n) => map(n, row), read);
    if (node === undefined) return [];
    const at = { value: row.sortValue, id: String(read.properties.id) };
    // Signed only when asked for (edges' cursors, pageInfo): an HMAC per row of every page
    // was 2% of the API's CPU on a page of 50 agents that selects none.
    return [
      {
        node,
        get cursor() {
          return encodeCursor(at, list);
        },
      },
    ];
  });
  const hasNextPage = rows.length > spec.page.first;
  return spec.page.total
    ? { items, hasNextPage, totalCount: count?.total ?? 0 }
    : { items, hasNextPage };
}

export interface NodeLike {
  properties: Record<string, unknown>;
}

/** How the list's nodes travel: projected (projections.ts) when their label has one. */
function projectionOf(spec: ListSpec): Projection | null {
  return isProjected(spec.label) ? projection(spec.label, spec.only ?? null) : null;
}

const NONE = { items: [], hasNextPage: false };
const NONE_COUNTED = { ...NONE, totalCount: 0 };

/** How many edges Linked.edges the node has, or null when the tenant has no such node. */
async function degreeOf(tx: Tx, linked: Linked, params: ListSpec['params']) {
  const { label, id } = linked.from;
  const [row] = await tx.run<{ degree: number }>({
    cypher: `MATCH (from:${label} {tenantId: $tenantId, id: $${id}})
USING INDEX SEEK from:${label}(id)
RETURN ${linked.edges.map((edge) => `COUNT { (from)${edge}() }`).join(' + ')} AS degree`,
    params: { tenantId: params.tenantId, [id]: params[id] },
  });
  return row ? Number(row.degree) : null;
}

/** The list's conditions, with a Linked's test when its rows are not walked from the node. */
function conditionsOf(spec: ListSpec, walk: boolean): string[] {
  const walked = spec.linked && walk && !spec.match;
  return spec.linked && !walked ? [...spec.conditions, spec.linked.test] : [...spec.conditions];
}

function source(
  spec: ListSpec,
  property: string,
  walk: boolean,
  list: { where: string; dir: 'ASC' | 'DESC' | null },
): string {
  if (spec.match) return spec.match;
  const linked = walk ? spec.linked : undefined;
  if (linked) return walkFrom(linked.from, linked.edges, spec.label, linked.more?.(list));
  const split = spec.split;
  if (split && SPLIT_LISTS[spec.label]?.[split.property]?.includes(property)) {
    const keys = ['tenantId', split.property, property];
    const order = [...keys, 'id'].map((key) => `n.${key} ${list.dir}`).join(', ');
    return `UNWIND $${split.param} AS splitValue
WITH DISTINCT splitValue
CALL (splitValue) {
  MATCH (n:${spec.label} {tenantId: $tenantId, ${split.property}: splitValue})
  USING INDEX SEEK n:${spec.label}(${keys.join(', ')})
  WHERE ${list.where}
  ${list.dir ? `WITH n ORDER BY ${order} LIMIT $limit` : ''}
  RETURN n
}
WITH n`;
  }
  return `MATCH (n:${spec.label} {tenantId: $tenantId})\nUSING INDEX SEEK n:${spec.label}(tenantId, ${property})`;
}

function storedProperty(spec: ListSpec): string {
  const orders: Partial<Record<SortProperty, string>> | undefined = Object.hasOwn(
    ORDERED_LISTS,
    spec.label,
  )
    ? ORDERED_LISTS[spec.label]
    : undefined;
  const property =
    orders && Object.hasOwn(orders, spec.sort.property) && orders[spec.sort.property];
  if (!property) throw new Error(`${spec.label} lists cannot be sorted by ${spec.sort.property}`);
  return property;
}
