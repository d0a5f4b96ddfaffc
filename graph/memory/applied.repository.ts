import neo4j from 'neo4j-driver';
import type { MemoryRef } from '../../src/domain/memory-search.js';
import type { Tx } from '../cypher.js';

/*
 * What entered a prompt, and what a Chief of Staff handed on (issue 11): the one place that
 * writes APPLIED_IN, for lessons and knowledge as for entities, facts and episodes.
 */

const APPLIED_LABELS = ['Entity', 'Fact', 'Episode', 'Knowledge'] as const;
const CONTEXT_LABELS = ['Entity', 'Fact'] as const;

/**
 * Links each item of the tenant `(item)-[:APPLIED_IN]->(:Run)`: it entered a prompt of that
 * run. Idempotent: a link is created only where none is; ids of another tenant or of nothing
 * are ignored. One statement per label, the label written in it, and no MERGE: a MERGE, or a
 * node that came out of a subquery over several labels, made Neo4j lock the remembered item
 * until the commit, so every run that recalled a popular item queued on it, and the heartbeats
 * of their tasks behind them (bench:agents, test/applied-locks.int.test.ts). Locking the run,
 * its attempt's own (the SET), keeps two marks of one run from both creating the link.
 */
export async function markApplied(
  tx: Tx,
  tenantId: string,
  runId: string,
  items: readonly MemoryRef[],
): Promise<void> {
  for (const label of APPLIED_LABELS) {
    const ids = [...new Set(items.filter((i) => i.label === label).map((i) => i.id))];
    if (ids.length === 0) continue;
    await tx.run({
      cypher: `
        MATCH (r:Run {id: $runId}) USING INDEX SEEK r:Run(id) WHERE r.tenantId = $tenantId
        SET r.updatedAt = datetime()
        WITH r
        UNWIND $ids AS id
        MATCH (n:${label} {id: id}) USING INDEX SEEK n:${label}(id) WHERE n.tenantId = $tenantId
        WITH r, n WHERE NOT EXISTS { (n)-[:APPLIED_IN]->(r) }
        CREATE (n)-[:APPLIED_IN {at: datetime()}]->(r)`,
      params: { tenantId, runId, ids },
    });
  }
}

/**
 * A Chief of Staff's context package: `(:Task)-[:CONTEXT]->(:Entity|:Fact)` for each subtask
 * (idempotent). Only the tenant's own tasks and items are linked. Written like markApplied, one
 * statement per label and no MERGE, so a popular entity is not locked until the commit; the
 * task is locked first (the SET), which keeps two packages of one task from both linking.
 */
export async function setTaskContext(
  tx: Tx,
  tenantId: string,
  packages: readonly { taskId: string; items: readonly MemoryRef[] }[],
): Promise<void> {
  for (const label of CONTEXT_LABELS) {
    const rows = packages.flatMap((p) =>
      p.items.filter((i) => i.label === label).map((i) => ({ taskId: p.taskId, id: i.id })),
    );
    if (rows.length === 0) continue;
    await tx.run({
      cypher: `
        UNWIND $rows AS x
        MATCH (t:Task {id: x.taskId}) USING INDEX SEEK t:Task(id) WHERE t.tenantId = $tenantId
        SET t.updatedAt = datetime()
        WITH t, x
        MATCH (n:${label} {id: x.id}) USING INDEX SEEK n:${label}(id) WHERE n.tenantId = $tenantId
        WITH DISTINCT t, n WHERE NOT EXISTS { (t)-[:CONTEXT]->(n) }
        CREATE (t)-[:CONTEXT]->(n)`,
      params: { tenantId, rows },
    });
  }
}

/** One item of a task's context package, as a prompt shows it. */
export type ContextItem = MemoryRef & { text: string };

/**
 * The context package of a task: its entities (not merged away) and its facts still current,
 * entities first, then by text; at most `limit`.
 */
export function taskContext(
  tx: Tx,
  tenantId: string,
  taskId: string,
  limit: number,
): Promise<ContextItem[]> {
  return tx.run<ContextItem>({
    cypher: `
      MATCH (t:Task {id: $taskId})-[:CONTEXT]->(n) USING INDEX SEEK t:Task(id)
      WHERE t.tenantId = $tenantId AND n.tenantId = $tenantId
        AND ((n:Entity AND n.mergedInto IS NULL)
          OR (n:Fact AND n.expiredAt IS NULL AND n.validUntil IS NULL))
      WITH n, CASE WHEN n:Entity THEN 'Entity' ELSE 'Fact' END AS label
      RETURN label, n.id AS id,
        CASE label
          WHEN 'Entity' THEN n.name + ' (' + coalesce(n.type, 'Thing') + ')' +
            CASE WHEN coalesce(n.summary, '') = '' THEN '' ELSE ': ' + n.summary END
          ELSE n.text END AS text
      ORDER BY label, text, id
      LIMIT $limit`,
    params: { tenantId, taskId, limit: neo4j.int(limit) },
  });
}
