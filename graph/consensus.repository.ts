import neo4j from 'neo4j-driver';
import {
  ConsensusStrategy,
  type Answer,
  type ConsensusSpec,
  type Decision,
} from '../src/domain/consensus.js';
import { stableId } from './agent-work.repository.js';
import type { Tx } from './cypher.js';
import { iso } from './mappers.js';
import type { NodeLike } from './page.js';

/*
 * Collective decisions (issue 12): a step's consensus spec (Task.consensusVoters,
 * Task.consensusStrategy), and what its run decided: (:Answer)-[:FOR]->(:Run),
 * (:Answer)-[:BY]->(:Agent), (:Decision)-[:FOR]->(:Run), (:Decision)-[:CHOSE]->(:Answer).
 */

/** Gives tasks of the tenant their consensus spec (steps being created). */
export async function setConsensusSpecs(
  tx: Tx,
  tenantId: string,
  specs: { taskId: string; spec: ConsensusSpec }[],
): Promise<void> {
  if (specs.length === 0) return;
  await tx.run({
    cypher: `
      UNWIND $specs AS s
      MATCH (t:Task {tenantId: $tenantId, id: s.taskId}) USING INDEX SEEK t:Task(id)
      SET t.consensusVoters = s.voters, t.consensusStrategy = s.strategy`,
    params: {
      tenantId,
      specs: specs.map((s) => ({
        taskId: s.taskId,
        voters: neo4j.int(s.spec.voters),
        strategy: s.spec.strategy,
      })),
    },
  });
}

/** The consensus spec of each task that has one, by task id. */
export async function consensusSpecsByTaskIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<Map<string, ConsensusSpec>> {
  const rows = await tx.run<{ id: string; voters: unknown; strategy: string }>({
    cypher: `
      UNWIND $ids AS id
      MATCH (t:Task {tenantId: $tenantId, id: id}) USING INDEX SEEK t:Task(id) WHERE t.consensusVoters IS NOT NULL
      RETURN id, t.consensusVoters AS voters, t.consensusStrategy AS strategy`,
    params: { tenantId, ids },
  });
  return new Map(
    rows.map((r) => [
      r.id,
      { voters: Number(r.voters), strategy: r.strategy as ConsensusStrategy },
    ]),
  );
}

export interface NewConsensus {
  tenantId: string;
  runId: string;
  strategy: ConsensusStrategy;
  voters: number;
  tie: boolean;
  reason: string;
  /** In voter order; exactly one is chosen. */
  answers: { agentId: string; content: string; votes: number; chosen: boolean }[];
}

/** The stable ids of a run's decision and of one voter's answer (a retried write MERGEs). */
export const decisionId = (runId: string) => stableId(runId, 'decision');
export const answerId = (runId: string, agentId: string) => stableId(runId, 'answer', agentId);

/**
 * Writes the answers and the decision of a run of the tenant; returns the decision's id, or
 * null when the run is not the tenant's (nothing is written then). A voter deleted while the
 * vote ran keeps its answer (and the choice, if chosen), with its agentId and no BY.
 */
export async function writeConsensus(tx: Tx, c: NewConsensus): Promise<string | null> {
  const chosen = c.answers.find((a) => a.chosen);
  if (!chosen) throw new Error('writeConsensus needs one chosen answer');
  const rows = await tx.run<{ id: string }>({
    cypher: `
      MATCH (r:Run {id: $runId}) USING INDEX SEEK r:Run(id) WHERE r.tenantId = $tenantId
      CALL (r) {
        UNWIND $answers AS a
        OPTIONAL MATCH (ag:Agent {tenantId: $tenantId, id: a.agentId}) USING INDEX SEEK ag:Agent(id)
        MERGE (n:Answer {id: a.id})
          ON CREATE SET n.tenantId = $tenantId, n.createdAt = datetime()
        SET n.runId = r.id, n.agentId = a.agentId, n.content = a.content,
            n.position = a.position, n.votes = a.votes, n.chosen = a.chosen
        MERGE (n)-[:FOR]->(r)
        FOREACH (by IN CASE WHEN ag IS NULL THEN [] ELSE [ag] END | MERGE (n)-[:BY]->(by))
      }
      MERGE (d:Decision {id: $decisionId})
        ON CREATE SET d.tenantId = $tenantId, d.createdAt = datetime()
      SET d.runId = r.id, d.strategy = $strategy, d.voters = $voters, d.votes = $votes,
          d.tie = $tie, d.reason = $reason, d.answerId = $chosenId
      MERGE (d)-[:FOR]->(r)
      WITH d
      MATCH (chosen:Answer {tenantId: $tenantId, id: $chosenId}) USING INDEX SEEK chosen:Answer(id)
      MERGE (d)-[:CHOSE]->(chosen)
      RETURN d.id AS id`,
    params: {
      tenantId: c.tenantId,
      runId: c.runId,
      decisionId: decisionId(c.runId),
      strategy: c.strategy,
      voters: neo4j.int(c.voters),
      votes: neo4j.int(chosen.votes),
      tie: c.tie,
      reason: c.reason,
      chosenId: answerId(c.runId, chosen.agentId),
      answers: c.answers.map((a, position) => ({
        id: answerId(c.runId, a.agentId),
        agentId: a.agentId,
        content: a.content,
        position: neo4j.int(position),
        votes: neo4j.int(a.votes),
        chosen: a.chosen,
      })),
    },
  });
  return rows[0]?.id ?? null;
}

/*
 * A run's decision and answers are read from the run (the tenant's, by its unique id), never by
 * their own tenantId: that index's work grows with the tenant's history, and a reader that
 * sees the run ended may not find what its commit created there yet (Neo4j applies a commit's
 * index entries after its records). Whatever is FOR a tenant's run is the tenant's. The seek
 * is a hint: where runs are few per tenant the planner took Run(tenantId) and filtered by id.
 */

/** The decision of each run of the tenant that has one. */
export async function decisionsByRunIds(
  tx: Tx,
  tenantId: string,
  runIds: readonly string[],
): Promise<Decision[]> {
  const rows = await tx.run<{ d: NodeLike }>({
    cypher: `
      UNWIND $runIds AS runId
      MATCH (r:Run {id: runId}) USING INDEX SEEK r:Run(id) WHERE r.tenantId = $tenantId
      MATCH (r)<-[:FOR]-(d:Decision)
      RETURN d`,
    params: { tenantId, runIds },
  });
  return rows.map(({ d }) => {
    const p = d.properties;
    return {
      id: String(p.id),
      tenantId: String(p.tenantId),
      runId: String(p.runId),
      strategy: p.strategy as ConsensusStrategy,
      voters: Number(p.voters),
      votes: Number(p.votes),
      tie: Boolean(p.tie),
      reason: String(p.reason),
      answerId: String(p.answerId),
      createdAt: iso(p.createdAt),
    };
  });
}

/** The answers of each run of the tenant, in voter order. */
export async function answersByRunIds(
  tx: Tx,
  tenantId: string,
  runIds: readonly string[],
): Promise<Answer[]> {
  const rows = await tx.run<{ n: NodeLike }>({
    cypher: `
      UNWIND $runIds AS runId
      MATCH (r:Run {id: runId}) USING INDEX SEEK r:Run(id) WHERE r.tenantId = $tenantId
      MATCH (r)<-[:FOR]-(n:Answer)
      RETURN n ORDER BY runId, n.position`,
    params: { tenantId, runIds },
  });
  return rows.map(({ n }) => {
    const p = n.properties;
    return {
      id: String(p.id),
      tenantId: String(p.tenantId),
      runId: String(p.runId),
      agentId: String(p.agentId),
      content: String(p.content),
      position: Number(p.position),
      votes: Number(p.votes),
      chosen: Boolean(p.chosen),
      createdAt: iso(p.createdAt),
    };
  });
}
