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
import {
  directAccess,
  directSource,
  pageAccess,
  type Access,
  type Linked,
  type OneOf,
} from './page-direct.js';
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
  Document: { createdAt: 'createdAt' },
} as const satisfies Record<string, Partial<Record<SortProperty, string>>>;

export type ListLabel = keyof typeof ORDERED_LISTS;

/**
 * Flags that mark a subset of a label's rows (true, or absent), with the orders a (tenantId,
 * flag, order) index serves (graph/migrations.ts): a list of that subset (ListSpec.flag) reads
 * only it, in order, where filtering the tenant's rows read every row outside it first.
 */
export const FLAGGED_LISTS: Partial<Record<ListLabel, Record<string, readonly string[]>>> = {
  // Roots: tasks created without a parent (migration 32).
  Task: { root: ['createdAt'] },
};

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
   * Rows linked to each of the nodes filters name (an agent's tasks): read from the first when
   * it holds few (page-direct.ts); every other's test applies, and beside `match` the first's.
   */
  linked?: Linked[];
  /** Rows with one of a few values of an indexed property: read by them when few (OneOf). */
  oneOf?: OneOf;
  /** Only the rows whose property `flag` is true (FLAGGED_LISTS). */
  flag?: string;
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
 * The name a cursor is signed for: its label and order, and which rows the list selects (its
 * match, conditions and the values of the parameters they name: a filter, the node whose list
 * it is). So a cursor is valid only for its list, filter and order; what a page shows of each
 * row (columns) is not part of it.
 */
export function listKey(spec: ListSpec): string {
  const key = `${spec.label}.${spec.sort.property}.${spec.sort.descending ? 'DESC' : 'ASC'}`;
  const texts = [spec.match ?? '', ...conditionsOf(spec, 'scan')];
  const named = [...new Set(texts.join('\n').match(/\$\w+/g) ?? [])].sort();
  const values = named.map((name) => [name, spec.params[name.slice(1)] ?? null]);
  return texts.some(Boolean) ? `${key}?${JSON.stringify([texts, values])}` : key;
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
export function listQuery(spec: ListSpec, access = directAccess(spec)): CypherQuery {
  const property = storedProperty(spec);
  const after = spec.page.after && checkCursor(spec.page.after, listKey(spec));
  // LIMIT needs a Cypher INTEGER; a plain JS number travels as a FLOAT.
  const params: Record<string, unknown> = { ...spec.params, limit: neo4j.int(spec.page.first + 1) };
  const conditions = conditionsOf(spec, access);
  if (after) {
    const op = spec.sort.descending ? '<' : '>';
    const value = TEMPORAL.has(property) ? 'datetime($afterValue)' : '$afterValue';
    // The first half is a range the index can seek; the second breaks ties by id. A CASE, not
    // an OR: the planner split the OR into a union of two index reads, which lost their order
    // and read every row of the range to take the page (a fresh database's statistics).
    conditions.unshift(
      `n.${property} ${op}= ${value} AND CASE WHEN n.${property} = ${value} THEN n.id ${op} $afterId ELSE true END`,
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
      source(spec, property, access, { where, dir }),
      `WHERE ${where}`,
      // The scan's index keys lead, or the planner sorts every row instead of streaming them.
      `WITH n ORDER BY ${orderKeys(spec, property)
        .map((key) => `n.${key} ${dir}`)
        .join(', ')} LIMIT $limit`,
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
  const access = directAccess(spec);
  const where = [`n.${property} IS NOT NULL`, ...conditionsOf(spec, access)].join(' AND ');
  return {
    cypher: [
      source(spec, property, access, { where, dir: null }),
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
  const access = await pageAccess(tx, spec);
  // The node a filter names does not exist: nothing is linked to it.
  if (access === null) return spec.page.total ? NONE_COUNTED : NONE;
  const rows = await tx.run<{ node: unknown; sortValue: string }>(listQuery(spec, access));
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

/** The list's conditions, with a Linked's test when its rows are not walked from the node. */
function conditionsOf(spec: ListSpec, access: Access): string[] {
  const walked = access === 'walk' && !spec.match;
  const tests = (spec.linked ?? []).slice(walked ? 1 : 0).map((linked) => linked.test);
  const flag = spec.flag ? [`n.${spec.flag} = true`] : [];
  return [...spec.conditions, ...tests, ...flag];
}

/** The keys a page is ordered by: those of the index the scan reads (source), then the id. */
function orderKeys(spec: ListSpec, property: string): string[] {
  return ['tenantId', ...(flagIndexed(spec, property) ? [spec.flag!] : []), property, 'id'];
}

function flagIndexed(spec: ListSpec, property: string): boolean {
  return Boolean(spec.flag && FLAGGED_LISTS[spec.label]?.[spec.flag]?.includes(property));
}

function source(
  spec: ListSpec,
  property: string,
  access: Access,
  list: { where: string; dir: 'ASC' | 'DESC' | null },
): string {
  if (spec.match) return spec.match;
  const keys = orderKeys(spec, property).slice(0, -1);
  const flag = flagIndexed(spec, property) ? `, ${spec.flag}: true` : '';
  return (
    directSource(spec, access, list) ??
    `MATCH (n:${spec.label} {tenantId: $tenantId${flag}})\nUSING INDEX SEEK n:${spec.label}(${keys.join(', ')})`
  );
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
