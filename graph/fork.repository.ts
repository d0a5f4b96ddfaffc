import type { Task } from '../src/domain/task.js';
import type { Tx } from './cypher.js';
import { toTask } from './mappers.js';
import type { NodeLike } from './page.js';

/**
 * Forks (issue 13): "what if" from the middle of a run. A fork is a task of its own,
 * (fork:Task)-[:FORK_OF]->(step) and -[:FORKED_FROM]->(:Checkpoint) of the run it starts from,
 * outside the step's workflow (no parent), assigned to the agent that ran the run, with the
 * step's capabilities and dependencies. Its agent loop starts from a copy of that checkpoint
 * on its own thread, so the original run and thread are never touched.
 */

/** A checkpoint of one of the tenant's runs, by the Checkpoint node's id. */
export interface ForkPoint {
  checkpointId: string;
  threadId: string;
  ns: string;
  /** LangGraph's id of the checkpoint within its thread. */
  graphCheckpointId: string;
  step: Task;
  agentId: string | null;
  /** The loop's nodes that run next from the checkpoint (e.g. model_request, tools). */
  next: string[];
}

/**
 * Read under the checkpoint's lock, held until the fork commits: a trim or prune deleting it
 * waits and then sees the fork (graph/checkpoint.repository.ts), or has deleted it (null). The
 * relationship's own lock, taken at commit, deadlocked with a delete that held the node's.
 */
export async function forkPointOf(
  tx: Tx,
  tenantId: string,
  runId: string,
  checkpointId: string,
): Promise<ForkPoint | null> {
  const [row] = await tx.run<{
    threadId: string;
    ns: string;
    graphCheckpointId: string;
    t: NodeLike;
    agentId: string | null;
    next: string[] | null;
  }>({
    cypher: `
      MATCH (r:Run {tenantId: $tenantId, id: $runId})-[:CHECKPOINTED]->(c:Checkpoint {id: $checkpointId})
      USING INDEX SEEK r:Run(id)
      WHERE c.tenantId = $tenantId
      SET c:Checkpoint
      WITH r, c
      MATCH (r)-[:OF]->(t:Task)
      OPTIONAL MATCH (r)-[:BY]->(a:Agent)
      RETURN c.threadId AS threadId, c.ns AS ns, c.checkpointId AS graphCheckpointId, t,
             a.id AS agentId, c.next AS next`,
    params: { tenantId, runId, checkpointId },
  });
  if (!row) return null;
  const { threadId, ns, graphCheckpointId, agentId } = row;
  const step = toTask(row.t);
  return { checkpointId, threadId, ns, graphCheckpointId, step, agentId, next: row.next ?? [] };
}

/** Creates the fork task, READY, with its links; returns it. */
export async function createFork(
  tx: Tx,
  o: {
    tenantId: string;
    id: string;
    point: ForkPoint;
    runId: string;
    message: string | null;
    by: string;
  },
): Promise<Task> {
  const [row] = await tx.run<{ f: NodeLike }>({
    cypher: `
      MATCH (s:Task {tenantId: $tenantId, id: $stepId}) USING INDEX SEEK s:Task(id)
      MATCH (c:Checkpoint {id: $checkpointId})
      USING INDEX SEEK c:Checkpoint(id) WHERE c.tenantId = $tenantId
      CREATE (f:Task {id: $id, tenantId: $tenantId, title: left('Fork of ' + s.title, 200),
                      description: s.description, priority: s.priority, status: 'READY',
                      orchestrated: true, attempts: 0, maxAttempts: s.maxAttempts, version: 1,
                      family: s.family, expectedOutput: s.expectedOutput, createdBy: $by,
                      forkMessage: $message, forkedFromRun: $runId, root: true,
                      createdAt: datetime(), updatedAt: datetime()})
      CREATE (f)-[:FORK_OF]->(s), (f)-[:FORKED_FROM]->(c)
      WITH s, f
      CALL (s, f) {
        MATCH (s)-[:REQUIRES]->(cap:Capability)
        MERGE (f)-[:REQUIRES]->(cap)
      }
      CALL (s, f) {
        MATCH (s)-[:DEPENDS_ON]->(d:Task)
        MERGE (f)-[:DEPENDS_ON]->(d)
      }
      CALL (f) {
        MATCH (a:Agent {tenantId: $tenantId, id: $agentId}) USING INDEX SEEK a:Agent(id)
        MERGE (f)-[:ASSIGNED_TO]->(a)
      }
      RETURN f`,
    params: {
      tenantId: o.tenantId,
      id: o.id,
      stepId: o.point.step.id,
      checkpointId: o.point.checkpointId,
      agentId: o.point.agentId ?? '',
      runId: o.runId,
      message: o.message,
      by: o.by,
    },
  });
  return toTask(row!.f);
}

/** A fork's checkpoint (null when it was imported: exports leave checkpoints out). */
export interface ForkSource {
  checkpoint: { threadId: string; ns: string; checkpointId: string } | null;
  /** The person's message, read next by the model. */
  message: string | null;
}

/** Where a fork task's agent loop starts, and the edit; null for a task that is no fork. */
export async function forkSourceOf(
  tx: Tx,
  tenantId: string,
  taskId: string,
): Promise<ForkSource | null> {
  const [row] = await tx.run<{
    threadId: string | null;
    ns: string | null;
    checkpointId: string | null;
    message: string | null;
  }>({
    cypher: `
      MATCH (f:Task {tenantId: $tenantId, id: $taskId})
      USING INDEX SEEK f:Task(id)
      OPTIONAL MATCH (f)-[:FORKED_FROM]->(c:Checkpoint)
      WITH f, c WHERE c IS NOT NULL OR f.forkMessage IS NOT NULL
      RETURN c.threadId AS threadId, c.ns AS ns, c.checkpointId AS checkpointId,
             f.forkMessage AS message`,
    params: { tenantId, taskId },
  });
  if (!row) return null;
  const { threadId, ns, checkpointId, message } = row;
  const checkpoint =
    threadId !== null && checkpointId !== null ? { threadId, ns: ns ?? '', checkpointId } : null;
  return { checkpoint, message };
}

export interface ForkLink {
  forkId: string;
  stepId: string;
  runId: string | null;
  /** Null when the checkpoint is gone: an imported fork (checkpoints are not exported). */
  checkpointId: string | null;
}

/**
 * For Task.forkOf / Task.forks: the (fork)-[:FORK_OF]->(step) links these tasks are in. FORK_OF
 * alone makes a fork: the export keeps it but leaves the FORKED_FROM checkpoint out.
 */
export async function forkLinks(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<ForkLink[]> {
  return tx.run<ForkLink & Record<string, unknown>>({
    // From each given task, as a fork or as the forked step: one match on "f.id = id OR
    // s.id = id" could seek neither and scanned every tenant's FORKED_FROM links.
    cypher: `
      UNWIND $ids AS id
      CALL (id) {
        MATCH (f:Task {id: id}) USING INDEX SEEK f:Task(id)
        MATCH (f)-[:FORK_OF]->(s)
        WHERE f.tenantId = $tenantId AND s.tenantId = $tenantId
        RETURN f, s
        UNION
        MATCH (s:Task {id: id}) USING INDEX SEEK s:Task(id)
        MATCH (s)<-[:FORK_OF]-(f)
        WHERE f.tenantId = $tenantId AND s.tenantId = $tenantId
        RETURN f, s
      }
      WITH DISTINCT f, s
      RETURN f.id AS forkId, s.id AS stepId, f.forkedFromRun AS runId,
             COLLECT { MATCH (f)-[:FORKED_FROM]->(c) RETURN c.id LIMIT 1 }[0] AS checkpointId`,
    params: { tenantId, ids },
  });
}
