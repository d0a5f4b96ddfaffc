import neo4j from 'neo4j-driver';
import {
  EXPORT_LABELS,
  isExportLabel,
  isRelationshipType,
  type EncodedProperties,
  type ExportedNode,
  type ExportedRelationship,
  type ExportLabel,
} from '../src/domain/organisation-export.js';
import type { CypherQuery, Tx } from './cypher.js';
import { LABELS } from './migrations.js';
import {
  driverProperties,
  driverRow,
  encodeProperties,
  UnsupportedValueError,
} from './organisation-values.js';

/** Rows per statement: large documents go in several UNWINDs of one transaction. */
export const IMPORT_CHUNK = 10_000;
export const DELETE_CHUNK = 10_000;

/** A node found by id, in any tenant, with its labels (and a task's status). */
export interface ExistingNode {
  id: string;
  tenantId: string | null;
  labels: string[];
  status: string | null;
  orchestrated: boolean;
}

/** Rows of one statement: nodes of one label, or relationships of one type between two labels. */
export interface NodeRow {
  id: string;
  properties: EncodedProperties;
}
export interface RelationshipRow {
  from: string;
  to: string;
  properties: EncodedProperties;
}

export interface RawProperty {
  key: string;
  type: string;
  value: unknown;
}

// ---- query builders (pure: labels and types are checked against the allow-lists here too) ----

function label(value: string): ExportLabel {
  if (!isExportLabel(value)) throw new Error(`Not an organisation label: ${value}`);
  return value;
}

function relType(value: string): string {
  if (!isRelationshipType(value)) throw new Error(`Not a valid relationship type: ${value}`);
  return value;
}

/** Cypher for [{key, type, value}] over a node or relationship; datetimes as their full text. */
/** Properties an export never carries: ids it writes itself, and sealed secrets. */
const UNEXPORTED = `['id', 'tenantId', 'remoteHeadersSealed']`;

function propertyList(v: 'n' | 'r'): string {
  return `[k IN keys(${v}) WHERE NOT k IN ${UNEXPORTED} | {
      key: k,
      type: valueType(${v}[k]),
      value: CASE
        WHEN valueType(${v}[k]) STARTS WITH 'ZONED DATETIME' THEN toString(${v}[k])
        WHEN valueType(${v}[k]) STARTS WITH 'LIST<ZONED DATETIME' THEN [x IN ${v}[k] | toString(x)]
        ELSE ${v}[k]
      END}]`;
}

/**
 * A label's nodes of the tenant, from its (tenantId) index (migration 29; every label exported
 * or deleted has one): without the hint the planner may scan the label, every tenant's nodes,
 * when it planned on a database of few of them.
 */
const ofTenant = (v: string, l: string) =>
  `MATCH (${v}:${l} {tenantId: $tenantId}) USING INDEX SEEK ${v}:${l}(tenantId)`;

/** Every organisation node of the tenant once, under its first allow-listed label. */
function tenantNodes(v: string): string {
  return EXPORT_LABELS.map((l) => `${ofTenant(v, l)} RETURN ${v}, '${l}' AS label`).join(
    '\n        UNION\n        ',
  );
}

export function exportNodesQuery(tenantId: string): CypherQuery {
  return {
    cypher: `
      CALL () {
        ${tenantNodes('n')}
      }
      WITH n, label
      WHERE head([l IN $labels WHERE l IN labels(n)]) = label
      RETURN label, n.id AS id, ${propertyList('n')} AS properties`,
    params: { tenantId, labels: [...EXPORT_LABELS] },
  };
}

export function exportRelationshipsQuery(tenantId: string): CypherQuery {
  return {
    cypher: `
      CALL () {
        ${tenantNodes('a')}
      }
      WITH DISTINCT a
      MATCH (a)-[r]->(b)
      WHERE b.tenantId = $tenantId AND any(l IN labels(b) WHERE l IN $labels)
      RETURN type(r) AS type, a.id AS from, b.id AS to, ${propertyList('r')} AS properties`,
    params: { tenantId, labels: [...EXPORT_LABELS] },
  };
}

/** Nodes with these ids under any constrained label, in every tenant (ids are unique). */
export function nodesByIdsQuery(ids: string[]): CypherQuery {
  const branches = LABELS.map((l) => `MATCH (n:${l} {id: id}) RETURN n`).join(
    '\n        UNION\n        ',
  );
  return {
    cypher: `
      UNWIND $ids AS id
      CALL (id) {
        ${branches}
      }
      RETURN id, n.tenantId AS tenantId, labels(n) AS labels, n.status AS status,
        n.orchestrated AS orchestrated`,
    params: { ids },
  };
}

export function createNodesQuery(
  tenantId: string,
  nodeLabel: string,
  rows: NodeRow[],
): CypherQuery {
  return {
    cypher: `
      UNWIND $rows AS row
      CREATE (n:${label(nodeLabel)})
      SET n = row.properties, n.id = row.id, n.tenantId = $tenantId
      RETURN count(n) AS count`,
    params: { tenantId, rows: rows.map(driverRow) },
  };
}

/**
 * Replaces all properties of existing nodes of the tenant, except that a task's event number
 * never goes down: subscribers leave out events numbered below one they heard. The number is
 * read under the node's lock (id order), so an event numbered meanwhile is seen. A node whose
 * `status`, read under that lock, is one of `keep` (a finished task) is left as it is.
 * Returns `count` (replaced) and the `kept` ids.
 */
export function replaceNodesQuery(
  tenantId: string,
  nodeLabel: string,
  rows: NodeRow[],
  keep: readonly string[] = [],
): CypherQuery {
  return {
    cypher: `
      UNWIND $rows AS row
      MATCH (n:${label(nodeLabel)} {id: row.id})
      WHERE n.tenantId = $tenantId
      WITH n, row ORDER BY n.id
      SET n:${label(nodeLabel)}
      WITH n, row, coalesce(n.status IN $keep, false) AS kept
      CALL (n, row, kept) {
        WITH n, row, n.eventSeq AS eventSeq WHERE NOT kept
        SET n = row.properties, n.id = row.id, n.tenantId = $tenantId
        SET n.eventSeq = CASE WHEN coalesce(eventSeq, 0) > coalesce(n.eventSeq, 0)
          THEN eventSeq ELSE n.eventSeq END
      }
      RETURN count(CASE WHEN NOT kept THEN 1 END) AS count,
        collect(CASE WHEN kept THEN n.id END) AS kept`,
    params: { tenantId, rows: rows.map(driverRow), keep: [...keep] },
  };
}

/**
 * Creates (merge=false) or MERGEs on (type, from, to) (merge=true) relationships of one type
 * between nodes of two labels, both of the tenant; `created` counts the new ones. With merge,
 * rows must hold each (from, to) once.
 */
export function relationshipsQuery(
  tenantId: string,
  type: string,
  fromLabel: string,
  toLabel: string,
  rows: RelationshipRow[],
  merge: boolean,
): CypherQuery {
  const t = relType(type);
  const match = `
      UNWIND $rows AS row
      MATCH (a:${label(fromLabel)} {id: row.from}) WHERE a.tenantId = $tenantId
      MATCH (b:${label(toLabel)} {id: row.to}) WHERE b.tenantId = $tenantId`;
  const write = merge
    ? `
      WITH a, b, row, NOT EXISTS { (a)-[:${t}]->(b) } AS fresh
      MERGE (a)-[r:${t}]->(b)
      SET r = row.properties
      RETURN sum(CASE WHEN fresh THEN 1 ELSE 0 END) AS created, count(row) AS rows`
    : `
      CREATE (a)-[r:${t}]->(b)
      SET r = row.properties
      RETURN count(r) AS created, count(row) AS rows`;
  return {
    cypher: match + write,
    params: {
      tenantId,
      rows: rows.map((r) => ({
        from: r.from,
        to: r.to,
        properties: driverProperties(r.properties),
      })),
    },
  };
}

/**
 * Records that only describe organisation nodes (issue 12: judgements of its runs, state changes
 * of its lessons and versions, consensus answers and decisions, spawning watches): not exported,
 * and deleted with the organisation so none is left dangling.
 */
const ORGANISATION_RECORDS = [
  'Evaluation',
  'Transition',
  'Answer',
  'Decision',
  'SpawnWatch',
  // Runs' agent-loop checkpoints and held tool calls (issue 13); tool policies stay, like budgets.
  'Checkpoint',
  'CheckpointWrite',
  'ToolCallRequest',
  // Outside tools' calls and A2A tasks (issue 16); tool servers stay, like policies.
  'ToolCall',
  'A2ATask',
  // Memory's facts join the entities deleted with the organisation: one without its subject
  // cannot be read. Episodes and documents (what was seen) stay.
  'Fact',
];

export function deleteNodesQuery(tenantId: string, nodeLabel: string, limit: number): CypherQuery {
  return {
    cypher: `
      ${ofTenant('n', ORGANISATION_RECORDS.includes(nodeLabel) ? nodeLabel : label(nodeLabel))}
      WITH n LIMIT $limit
      DETACH DELETE n
      RETURN count(*) AS count`,
    params: { tenantId, limit: neo4j.int(limit) },
  };
}

// ---- repository functions ----

/** Every organisation node of the tenant with all its properties, encoded; any order. */
export async function exportNodes(tx: Tx, tenantId: string): Promise<ExportedNode[]> {
  const rows = await tx.run<{ label: ExportLabel; id: unknown; properties: RawProperty[] }>(
    exportNodesQuery(tenantId),
  );
  return rows.map((row) => {
    if (typeof row.id !== 'string') {
      throw new UnsupportedValueError(`A ${row.label} node of this organisation has no string id`);
    }
    const where = `${row.label} "${row.id}"`;
    return { label: row.label, id: row.id, properties: encodeProperties(where, row.properties) };
  });
}

/** Every relationship between two organisation nodes of the tenant, encoded; any order. */
export async function exportRelationships(
  tx: Tx,
  tenantId: string,
): Promise<ExportedRelationship[]> {
  const rows = await tx.run<{ type: string; from: string; to: string; properties: RawProperty[] }>(
    exportRelationshipsQuery(tenantId),
  );
  return rows.map((row) => {
    if (!isRelationshipType(row.type)) {
      throw new UnsupportedValueError(`The relationship type ${row.type} cannot be exported`);
    }
    const where = `${row.type} from "${row.from}" to "${row.to}"`;
    return {
      type: row.type,
      from: row.from,
      to: row.to,
      properties: encodeProperties(where, row.properties),
    };
  });
}

export async function nodesByIds(tx: Tx, ids: string[]): Promise<ExistingNode[]> {
  const found: ExistingNode[] = [];
  for (let i = 0; i < ids.length; i += IMPORT_CHUNK) {
    type Row = { id: string; labels: string[] } & Record<'tenantId' | 'status', unknown>;
    const rows = await tx.run<Row & { orchestrated: unknown }>(
      nodesByIdsQuery(ids.slice(i, i + IMPORT_CHUNK)),
    );
    for (const r of rows) {
      found.push({
        id: r.id,
        tenantId: typeof r.tenantId === 'string' ? r.tenantId : null,
        labels: r.labels,
        status: typeof r.status === 'string' ? r.status : null,
        orchestrated: r.orchestrated === true,
      });
    }
  }
  return found;
}

/** Creates nodes of one label; returns how many. */
export async function createNodes(
  tx: Tx,
  tenantId: string,
  nodeLabel: ExportLabel,
  rows: NodeRow[],
): Promise<number> {
  return sumChunks(rows, (chunk) => tx.run(createNodesQuery(tenantId, nodeLabel, chunk)));
}

/**
 * Replaces the properties of existing nodes of one label, but not of those whose status is one
 * of `keep`; returns how many it replaced and the ids it kept.
 */
export async function replaceNodes(
  tx: Tx,
  tenantId: string,
  nodeLabel: ExportLabel,
  rows: NodeRow[],
  keep: readonly string[] = [],
): Promise<{ replaced: number; kept: string[] }> {
  const kept: string[] = [];
  const replaced = await sumChunks(rows, async (chunk) => {
    const found = await tx.run<{ count: number; kept: string[] }>(
      replaceNodesQuery(tenantId, nodeLabel, chunk, keep),
    );
    kept.push(...(found[0]?.kept ?? []));
    return found;
  });
  return { replaced, kept };
}

/** Writes relationships of one type between two labels; returns how many were created. */
export async function writeRelationships(
  tx: Tx,
  tenantId: string,
  group: { type: string; fromLabel: ExportLabel; toLabel: ExportLabel },
  rows: RelationshipRow[],
  merge: boolean,
): Promise<number> {
  let created = 0;
  for (let i = 0; i < rows.length; i += IMPORT_CHUNK) {
    const chunk = rows.slice(i, i + IMPORT_CHUNK);
    const [row] = await tx.run<{ created: number; rows: number }>(
      relationshipsQuery(tenantId, group.type, group.fromLabel, group.toLabel, chunk, merge),
    );
    // Endpoints were checked in this transaction, so every row must have matched both.
    if ((row?.rows ?? 0) !== chunk.length) {
      throw new Error(`${group.type} rows matched ${row?.rows} of ${chunk.length} endpoints`);
    }
    created += row?.created ?? 0;
  }
  return created;
}

/**
 * DETACH DELETEs every organisation node of the tenant and the records about them, in batches;
 * returns how many.
 */
export async function deleteOrganisationNodes(tx: Tx, tenantId: string): Promise<number> {
  let deleted = 0;
  for (const l of [...EXPORT_LABELS, ...ORGANISATION_RECORDS]) {
    for (;;) {
      const [row] = await tx.run<{ count: number }>(deleteNodesQuery(tenantId, l, DELETE_CHUNK));
      const count = row?.count ?? 0;
      deleted += count;
      if (count < DELETE_CHUNK) break;
    }
  }
  return deleted;
}

async function sumChunks<T>(
  rows: T[],
  run: (chunk: T[]) => Promise<Record<string, unknown>[]>,
): Promise<number> {
  let total = 0;
  for (let i = 0; i < rows.length; i += IMPORT_CHUNK) {
    const [row] = await run(rows.slice(i, i + IMPORT_CHUNK));
    total += Number(row?.count ?? 0);
  }
  return total;
}
