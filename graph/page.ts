import neo4j from 'neo4j-driver';
import { encodeCursor, type Page, type PageRequest, type Sort } from '../src/domain/page.js';
import type { CypherQuery, Tx } from './cypher.js';

/** Sortable properties (true: temporal); the only names ever spliced into list Cypher. */
const SORTABLE = { createdAt: true, updatedAt: true, name: false, title: false } as const;

export type { Sort };

export interface ListSpec {
  /** A fixed MATCH clause that binds `n` (never built from user values). */
  match: string;
  /** Fixed condition texts over `n`; values go in params. */
  conditions: string[];
  params: Record<string, unknown>;
  sort: Sort;
  page: PageRequest;
}

/**
 * Keyset pagination: rows after the cursor in (sort value, id) order. Rows inserted between
 * two page reads never shift the pages already read: no duplicates, no gaps.
 */
export function listQuery(spec: ListSpec): CypherQuery {
  const { property, descending } = checkedSort(spec.sort);
  const temporal = SORTABLE[property];
  const conditions = [...spec.conditions];
  // LIMIT needs a Cypher INTEGER; a plain JS number travels as a FLOAT.
  const params: Record<string, unknown> = { ...spec.params, limit: neo4j.int(spec.page.first + 1) };
  if (spec.page.after) {
    const op = descending ? '<' : '>';
    const value = temporal ? 'datetime($afterValue)' : '$afterValue';
    conditions.push(
      `(n.${property} ${op} ${value} OR (n.${property} = ${value} AND n.id ${op} $afterId))`,
    );
    params.afterValue = spec.page.after.value;
    params.afterId = spec.page.after.id;
  }
  const dir = descending ? 'DESC' : 'ASC';
  return {
    cypher: [
      spec.match,
      conditions.length ? `WHERE ${conditions.join(' AND ')}` : '',
      `WITH n ORDER BY n.${property} ${dir}, n.id ${dir} LIMIT $limit`,
      `RETURN n AS node, toString(n.${property}) AS sortValue`,
    ].join('\n'),
    params,
  };
}

export function countQuery(spec: ListSpec): CypherQuery {
  return {
    cypher: [
      spec.match,
      spec.conditions.length ? `WHERE ${spec.conditions.join(' AND ')}` : '',
      'RETURN count(n) AS total',
    ].join('\n'),
    params: spec.params,
  };
}

/** Runs a list and its count in the caller's transaction and maps nodes to domain objects. */
export async function readPage<T>(
  tx: Tx,
  spec: ListSpec,
  map: (node: NodeLike) => T,
): Promise<Page<T>> {
  const rows = await tx.run<{ node: NodeLike; sortValue: string }>(listQuery(spec));
  const [count] = await tx.run<{ total: number }>(countQuery(spec));
  const items = rows.slice(0, spec.page.first).map((row) => ({
    node: map(row.node),
    cursor: encodeCursor({ value: row.sortValue, id: String(row.node.properties.id) }),
  }));
  return { items, hasNextPage: rows.length > spec.page.first, totalCount: count?.total ?? 0 };
}

export interface NodeLike {
  properties: Record<string, unknown>;
}

function checkedSort(sort: Sort): Sort {
  if (!Object.hasOwn(SORTABLE, sort.property)) {
    throw new Error(`not a sortable property: ${sort.property}`);
  }
  return sort;
}
