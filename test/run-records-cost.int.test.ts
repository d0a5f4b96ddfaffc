import { randomUUID } from 'node:crypto';
import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../graph/cypher.js';
import { answersByRunIds, decisionsByRunIds } from '../graph/consensus.repository.js';
import { evaluationsBySubjectIds, writeEvaluation } from '../graph/evaluation.repository.js';
import { EvaluationSource } from '../src/domain/evaluation.js';
import { createOperators, createPlan } from './utils/engine-steps.js';
import { seedConsensus } from './utils/memory-fixtures.js';
import { measureEach, profiler } from './utils/profile.js';
import { startTestServer, type TestServer } from './utils/server.js';

/** The tenant's other runs with a decision, answers and evaluations. */
const OTHERS = 300;

/**
 * A run's decision, answers and evaluations are read from the run (its id's unique index, then
 * its relationships), not by seeking the tenant's Decisions, Answers or Evaluations and keeping
 * the run's: on a database where those labels held about one node per tenant, the planner took
 * the `(tenantId)` index (migration 29), whose work grows with the tenant's history. Read from
 * the run, a reader that sees the run ended also sees what its commit wrote: Neo4j applies a
 * commit's index entries after its records (docs/architecture.md).
 */
describe("a run's records are read from the run", () => {
  let server: TestServer;
  const prof = profiler();
  let runId = '';

  const reads: Record<string, (tx: Tx) => Promise<unknown>> = {
    decision: (tx) => decisionsByRunIds(tx, server.tenantId, [runId]),
    answers: (tx) => answersByRunIds(tx, server.tenantId, [runId]),
    evaluations: (tx) => evaluationsBySubjectIds(tx, server.tenantId, 'Run', [runId]),
  };

  beforeAll(async () => {
    server = await startTestServer();
    const agents = await createOperators(server, { Ada: ['survey'], Bea: ['survey'] });
    const ids = await createPlan(server, [{ key: 'step', title: 'Measure the bridge span' }]);
    const seeded = await seedConsensus(server.graph, server.tenantId, 'span', ids.step!, [
      agents.Ada!,
      agents.Bea!,
    ]);
    runId = seeded.run;
    // The run's own evaluation, as the engine writes it.
    const written = await server.graph.write((tx) =>
      writeEvaluation(tx, {
        id: randomUUID(),
        tenantId: server.tenantId,
        subjectLabel: 'Run',
        subjectId: runId,
        source: EvaluationSource.OBJECTIVE,
        score: 1,
        rubric: 'r',
        reasons: ['ok'],
        comment: null,
        by: null,
        offline: false,
      }),
    );
    expect(written).not.toBeNull();
  });
  afterAll(async () => {
    await prof.close();
    await server?.stop();
  });

  it("takes the same work however many other runs the tenant's history holds", async () => {
    const before = await measureEach(prof, reads);
    await server.graph.write((tx) =>
      tx.run({
        cypher: `
          MATCH (t:Task {tenantId: $tenantId}) WITH t LIMIT 1
          UNWIND range(1, $n) AS i
          CREATE (r:Run {id: randomUUID(), tenantId: $tenantId, status: 'SUCCEEDED',
                  attempt: 1, createdAt: datetime()})-[:OF]->(t)
          CREATE (a:Answer {id: randomUUID(), tenantId: $tenantId, runId: r.id, agentId: 'x',
                  content: 'other', position: 0, votes: 1, chosen: true,
                  createdAt: datetime()})-[:FOR]->(r)
          CREATE (d:Decision {id: randomUUID(), tenantId: $tenantId, runId: r.id,
                  strategy: 'MAJORITY', voters: 1, votes: 1, tie: false, reason: 'other',
                  answerId: a.id, createdAt: datetime()})-[:FOR]->(r)
          CREATE (d)-[:CHOSE]->(a)
          CREATE (:Evaluation {id: randomUUID(), tenantId: $tenantId, source: 'OBJECTIVE',
                  score: 0.5, verdict: 'PASS', reasons: ['other'], rubric: 'r', offline: false,
                  createdAt: datetime()})-[:EVALUATES]->(r)`,
        params: { tenantId: server.tenantId, n: neo4j.int(OTHERS) },
      }),
    );
    const after = await measureEach(prof, reads);
    for (const name of Object.keys(reads)) {
      expect(after[name]!.result, name).toBe(before[name]!.result);
      expect(after[name]!.hits, `${name}\n${after[name]!.plans}`).toBe(before[name]!.hits);
    }
    expect(JSON.parse(before.answers!.result)).toHaveLength(2);
    expect(JSON.parse(before.evaluations!.result)).toHaveLength(1);
  });
});
