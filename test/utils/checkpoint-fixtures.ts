import { randomUUID } from 'node:crypto';
import { emptyCheckpoint, uuid6, type Checkpoint } from '@langchain/langgraph-checkpoint';
import type { CheckpointRecord } from '../../graph/checkpoint.repository.js';
import type { Graph } from '../../graph/graph.js';

/** A task with one run in a tenant, written directly (the engine is not involved). */
export async function taskWithRun(
  graph: Graph,
  tenantId: string,
  o: { taskStatus?: string; runStatus?: string; taskId?: string } = {},
): Promise<{ taskId: string; runId: string }> {
  const taskId = o.taskId ?? randomUUID();
  const runId = randomUUID();
  await graph.write((tx) =>
    tx.run({
      cypher: `
        MERGE (t:Task {id: $taskId})
        ON CREATE SET t.tenantId = $tenantId, t.title = 'checkpointed step', t.priority = 'MEDIUM',
                      t.attempts = 1, t.version = 0, t.orchestrated = true, t.createdAt = datetime()
        SET t.status = $taskStatus, t.updatedAt = datetime()
        CREATE (r:Run {id: $runId, tenantId: $tenantId, status: $runStatus, attempt: 1,
                       startedAt: datetime(), createdAt: datetime(), updatedAt: datetime()})-[:OF]->(t)`,
      params: {
        taskId,
        runId,
        tenantId,
        taskStatus: o.taskStatus ?? 'IN_PROGRESS',
        runStatus: o.runStatus ?? 'RUNNING',
      },
    }),
  );
  return { taskId, runId };
}

/** Sets a run's status (e.g. ends it, as the engine does when a lease is lost). */
export async function setRunStatus(graph: Graph, runId: string, status: string) {
  await graph.write((tx) =>
    tx.run({
      cypher: 'MATCH (r:Run {id: $runId}) SET r.status = $status',
      params: { runId, status },
    }),
  );
}

/** A checkpoint with a fresh time-ordered id and a messages channel of `messages` items. */
export function checkpointWith(
  messages: string[] = [],
  extra: Partial<Checkpoint> = {},
): Checkpoint {
  return {
    ...emptyCheckpoint(),
    id: uuid6(-1),
    channel_values: { messages },
    channel_versions: { messages: 1 },
    ...extra,
  };
}

/** Counts a tenant's nodes of a label on a thread. */
export async function countOnThread(
  graph: Graph,
  tenantId: string,
  label: 'Checkpoint' | 'CheckpointWrite',
  threadId: string,
): Promise<number> {
  const [row] = await graph.read((tx) =>
    tx.run<{ n: number }>({
      cypher: `MATCH (n:${label} {tenantId: $tenantId, threadId: $threadId}) RETURN count(n) AS n`,
      params: { tenantId, threadId },
    }),
  );
  return row!.n;
}

/** Deletes a tenant's nodes written by these tests (another tenant than a test server's). */
export async function removeTenantNodes(graph: Graph, tenantId: string) {
  await graph.write((tx) =>
    tx.run({
      cypher: `MATCH (n {tenantId: $tenantId}) WHERE n:Checkpoint OR n:CheckpointWrite OR n:Run OR n:Task
               DETACH DELETE n`,
      params: { tenantId },
    }),
  );
}

/** A small checkpoint as putCheckpoint stores it, written by repository calls of their own. */
export function checkpointRecord(threadId: string, checkpointId: string): CheckpointRecord {
  return {
    threadId,
    ns: '',
    checkpointId,
    parentCheckpointId: null,
    type: 'json',
    checkpoint: new Uint8Array([1]),
    metadataType: 'json',
    metadata: new Uint8Array([2]),
    step: 0,
    source: 'loop',
    next: [],
    messageCount: 0,
    bytes: 2,
  };
}
