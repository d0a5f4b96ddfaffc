import neo4j from 'neo4j-driver';
import type { Tx } from './cypher.js';
import type { ListLabel, ListSpec } from './page.js';

/**
 * Lists whose filter may select few of the tenant's rows: those linked to one node (an agent's
 * tasks, an entity's facts: Linked) or with one of a few values of an indexed property (tasks in
 * some statuses: OneOf). Reading those rows directly costs all of them, whatever the page;
 * reading the tenant's rows in list order and testing each costs the rows passed over until the
 * page is full, which is every row of the tenant when they are few. So a page first asks how many
 * they are, and reads them directly when they are at most DIRECT_LIMIT (then a page costs at most
 * that many rows, and the other way at most the page over their share of the tenant's rows). A
 * count always reads them directly: in the tenant's order it would test every row.
 */

/** The most rows a page reads directly, from the filter's node or index (then sorts them). */
export const DIRECT_LIMIT = 1000;

/** The rows linked to the one node a filter names (ListSpec.linked). */
export interface Linked {
  /** The node, in the tenant. */
  from: Named;
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
 * A node of the tenant named by a parameter: its label, and `id`, the parameter holding its id
 * or, with `by: 'name'`, its name (a capability's; a (tenantId, name) index finds it).
 */
export interface Named {
  label: string;
  id: string;
  by?: 'name';
}

/** The node `from` names, bound as `from`, found by an index. */
function matchFrom({ label, id, by }: Named): string {
  return by === 'name'
    ? `MATCH (from:${label} {tenantId: $tenantId, name: $${id}})
USING INDEX SEEK from:${label}(tenantId, name)`
    : `MATCH (from:${label} {tenantId: $tenantId, id: $${id}})
USING INDEX SEEK from:${label}(id)`;
}

/**
 * The rows whose `property` is one of the values in `params[param]` (ListSpec.oneOf; a condition
 * says so too), read from the label's (tenantId, property, ...then) index.
 */
export interface OneOf {
  property: string;
  param: string;
  /** The index's keys after `property`, if any (each row has them: they are tested present). */
  then?: string[];
}

/** OneOf's rows, one value (`oneOfValue`) at a time, from its index: for a MATCH. */
function oneOfRows(label: ListLabel, { property, then = [] }: OneOf): string {
  const present = then.map((key) => `n.${key} IS NOT NULL`);
  return `MATCH (n:${label} {tenantId: $tenantId, ${property}: oneOfValue})
USING INDEX SEEK n:${label}(${['tenantId', property, ...then].join(', ')})${
    present.length ? `\nWHERE ${present.join(' AND ')}` : ''
  }`;
}

/** How a page reads: walking from Linked's node, OneOf's index, or the tenant's rows in order. */
export type Access = 'walk' | 'oneOf' | 'scan';

/** How a count, or a page when the filter's rows are few, reads: directly where it can. */
export function directAccess(spec: ListSpec): Access {
  if (spec.match) return 'scan';
  return spec.linked?.length ? 'walk' : spec.oneOf ? 'oneOf' : 'scan';
}

/**
 * How a page reads (module comment), from one small statement: a node's degree (a count the
 * store keeps) or the index entries of the values, at most DIRECT_LIMIT + 1 of each. Null when
 * the node a Linked names does not exist in the tenant: nothing is linked to it.
 */
export async function pageAccess(tx: Tx, spec: ListSpec): Promise<Access | null> {
  if (spec.match) return 'scan';
  const [linked] = spec.linked ?? [];
  if (linked) {
    const degree = await degreeOf(tx, linked, spec.params);
    if (degree === null) return null;
    if (degree <= DIRECT_LIMIT) return 'walk';
  }
  if (spec.oneOf && (await valueRows(tx, spec.label, spec.oneOf, spec.params)) <= DIRECT_LIMIT) {
    return 'oneOf';
  }
  return 'scan';
}

/**
 * The rows a direct read binds as `n` (Access): `list` shapes a Linked's `more`. Null for a
 * scan, which ListSpec.match or the tenant's index serves.
 */
export function directSource(
  spec: ListSpec,
  access: Access,
  list: { where: string; dir: 'ASC' | 'DESC' | null },
): string | null {
  const [linked] = spec.linked ?? [];
  if (access === 'walk' && linked) {
    const { from, edges, more } = linked;
    return walkFrom(from, edges, spec.label, more?.(list));
  }
  if (access === 'oneOf' && spec.oneOf) {
    return `UNWIND $${spec.oneOf.param} AS oneOfValue
WITH DISTINCT oneOfValue
${oneOfRows(spec.label, spec.oneOf)}
WITH n`;
  }
  return null;
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
export function walkFrom(from: Named, edges: string | string[], label: ListLabel, more?: string) {
  const branches = [edges].flat().map((edge) => `MATCH (from)${edge}(n:${label}) RETURN n`);
  if (more) branches.push(more);
  // UNION keeps each row once; one branch needs DISTINCT for that (a row with two edges to it).
  const rows =
    branches.length === 1
      ? branches[0]!.replace(/RETURN n$/, 'RETURN DISTINCT n')
      : branches.join('\n  UNION\n  ');
  return `${matchFrom(from)}
CALL (from) {
  ${rows}
}
WITH n`;
}

/** How many edges Linked.edges the node has, or null when the tenant has no such node. */
async function degreeOf(tx: Tx, linked: Linked, params: ListSpec['params']) {
  const { id } = linked.from;
  const [row] = await tx.run<{ degree: number }>({
    cypher: `${matchFrom(linked.from)}
RETURN ${linked.edges.map((edge) => `COUNT { (from)${edge}() }`).join(' + ')} AS degree`,
    params: { tenantId: params.tenantId, [id]: params[id] },
  });
  return row ? Number(row.degree) : null;
}

/** The rows of OneOf's values, counted from their index up to DIRECT_LIMIT + 1 of each. */
async function valueRows(tx: Tx, label: ListLabel, oneOf: OneOf, params: ListSpec['params']) {
  const [row] = await tx.run<{ rows: number }>({
    cypher: `UNWIND $values AS oneOfValue
WITH DISTINCT oneOfValue
CALL (oneOfValue) {
  ${oneOfRows(label, oneOf)}
  RETURN n LIMIT $few
}
RETURN count(n) AS rows`,
    params: {
      tenantId: params.tenantId,
      values: params[oneOf.param],
      few: neo4j.int(DIRECT_LIMIT + 1),
    },
  });
  return Number(row?.rows ?? 0);
}
