import { randomUUID } from 'node:crypto';
import type { Graph } from '../../graph/graph.js';
import { answerId, decisionId, writeConsensus } from '../../graph/consensus.repository.js';
import { ConsensusStrategy } from '../../src/domain/consensus.js';
import { writeEvaluation } from '../../graph/evaluation.repository.js';
import { EvaluationSource } from '../../src/domain/evaluation.js';
import { mergeDocument } from '../../graph/memory/document.repository.js';
import { mergeEpisodes } from '../../graph/memory/episode.repository.js';
import { addMentions, createEntities } from '../../graph/memory/entity.repository.js';
import { createFacts } from '../../graph/memory/fact.repository.js';
import { EpisodeKind, MemoryScope } from '../../src/domain/memory.js';
import { normaliseName } from '../../src/memory/normalise.js';

type MemoryIds = { entity: string; episode: string; document: string };

/**
 * Memory of one tenant as ingestion leaves it (episodes INGESTED, so no background work
 * changes it): two documents with a chunk each, two entities joined by a fact, mentions.
 * Every text holds `label`. Returns one id of each kind and a second one (alternates).
 */
export async function seedMemory(
  graph: Graph,
  tenantId: string,
  label: string,
  agentId: string,
): Promise<{ ids: MemoryIds; alternates: MemoryIds }> {
  return graph.write(async (tx) => {
    const docs = [
      await mergeDocument(tx, tenantId, {
        title: `${label} report`,
        mime: 'text/plain',
        bytes: 40,
        contentHash: randomUUID(),
        chunks: 1,
      }),
      await mergeDocument(tx, tenantId, {
        title: `${label} memo`,
        mime: 'text/plain',
        bytes: 40,
        contentHash: randomUUID(),
        chunks: 1,
      }),
    ];
    const episodes = await mergeEpisodes(
      tx,
      tenantId,
      docs.map((doc, i) => ({
        kind: EpisodeKind.DOCUMENT_CHUNK,
        sourceKey: `document:${doc.id}#1`,
        source: `${label} document part 1`,
        content: `${label} Widget Works makes ${label} gears (${i}).`,
        occurredAt: null,
        scope: i === 0 ? MemoryScope.TENANT : MemoryScope.AGENT,
        scopeId: i === 0 ? null : agentId,
        documentId: doc.id,
        agentId,
      })),
    );
    await tx.run({
      cypher: `UNWIND $ids AS id MATCH (e:Episode {id: id}) SET e.status = 'INGESTED', e.ingestedAt = datetime()`,
      params: { ids: episodes.map((e) => e.id) },
    });
    await tx.run({
      cypher: `UNWIND $ids AS id MATCH (d:Document {id: id}) SET d.status = 'INGESTED'`,
      params: { ids: docs.map((d) => d.id) },
    });
    const names = [`${label} Widget Works`, `${label} gears`];
    const entities = await createEntities(
      tx,
      tenantId,
      names.map((name, i) => ({
        id: randomUUID(),
        name,
        normName: normaliseName(name),
        type: i === 0 ? 'Organisation' : 'Product',
        summary: `${name}, seen in ${label} documents`,
        aliases: [],
      })),
    );
    await addMentions(
      tx,
      tenantId,
      entities.flatMap((e) => episodes.map((ep) => ({ episodeId: ep.id, entityId: e.id }))),
    );
    await createFacts(tx, tenantId, [
      {
        id: randomUUID(),
        subjectId: entities[0]!.id,
        predicate: 'makes',
        objectId: entities[1]!.id,
        value: names[1]!,
        text: `${names[0]} makes ${names[1]}`,
        confidence: 0.9,
        validFrom: null,
        episodeIds: episodes.map((e) => e.id),
      },
    ]);
    return {
      ids: { entity: entities[0]!.id, episode: episodes[0]!.id, document: docs[0]!.id },
      alternates: { entity: entities[1]!.id, episode: episodes[1]!.id, document: docs[1]!.id },
    };
  });
}

/**
 * Judged work of one tenant (issue 12): two SUCCEEDED runs of `taskId` by `agentId`, each with
 * an OBJECTIVE evaluation, and a person's rating of the task whose comment holds `label`.
 * Returns the run ids and the evaluation ids.
 */
export async function seedEvaluations(
  graph: Graph,
  tenantId: string,
  label: string,
  taskId: string,
  agentId: string,
): Promise<{ runs: [string, string]; evaluations: string[] }> {
  const runs: [string, string] = [randomUUID(), randomUUID()];
  const evaluations: string[] = [];
  await graph.write(async (tx) => {
    await tx.run({
      cypher: `
        MATCH (t:Task {tenantId: $tenantId, id: $taskId}), (a:Agent {tenantId: $tenantId, id: $agentId})
        UNWIND $runs AS run
        CREATE (r:Run {id: run, tenantId: $tenantId, status: 'SUCCEEDED', attempt: 1,
                       worker: 'fixture', startedAt: datetime(), endedAt: datetime(),
                       createdAt: datetime(), updatedAt: datetime()})
        CREATE (r)-[:OF]->(t), (r)-[:BY]->(a)`,
      params: { tenantId, taskId, agentId, runs },
    });
    const subjects = [
      ...runs.map((id) => ({ label: 'Run' as const, id, source: EvaluationSource.OBJECTIVE })),
      { label: 'Task' as const, id: taskId, source: EvaluationSource.PERSON },
    ];
    for (const s of subjects) {
      const written = await writeEvaluation(tx, {
        id: randomUUID(),
        tenantId,
        subjectLabel: s.label,
        subjectId: s.id,
        source: s.source,
        score: 0.5,
        rubric: `${label} rubric`,
        reasons: [`${label} reason`],
        comment: s.source === EvaluationSource.PERSON ? `${label} rated it` : null,
        by: s.source === EvaluationSource.PERSON ? `${label} person` : null,
        offline: false,
      });
      if (!written) throw new Error('seedEvaluations: the subject is not the tenant’s');
      evaluations.push(written.id);
    }
  });
  return { runs, evaluations };
}

/**
 * A consensus step's run of one tenant as the engine leaves it (issue 12): a SUCCEEDED run of
 * `taskId` by the first agent, two answers (one per agent) that hold `label`, and the decision
 * that chose the first (or the `chosen`th). Returns the ids of the run, the decision and the
 * answers.
 */
export async function seedConsensus(
  graph: Graph,
  tenantId: string,
  label: string,
  taskId: string,
  agentIds: [string, string],
  chosen: 0 | 1 = 0,
): Promise<{ run: string; decision: string; answers: string[] }> {
  const run = randomUUID();
  await graph.write(async (tx) => {
    await tx.run({
      cypher: `
        MATCH (t:Task {tenantId: $tenantId, id: $taskId}), (a:Agent {tenantId: $tenantId, id: $agentId})
        CREATE (r:Run {id: $run, tenantId: $tenantId, status: 'SUCCEEDED', attempt: 1,
                       worker: 'fixture', startedAt: datetime(), endedAt: datetime(),
                       createdAt: datetime(), updatedAt: datetime()})
        CREATE (r)-[:OF]->(t), (r)-[:BY]->(a)`,
      params: { tenantId, taskId, agentId: agentIds[0], run },
    });
    const decision = await writeConsensus(tx, {
      tenantId,
      runId: run,
      strategy: ConsensusStrategy.MAJORITY,
      voters: 2,
      tie: true,
      reason: `${label} tie broken by voter order`,
      answers: agentIds.map((agentId, i) => ({
        agentId,
        content: `${label} answer ${i + 1}`,
        votes: 1,
        chosen: i === chosen,
      })),
    });
    if (!decision) throw new Error('seedConsensus: the run is not the tenant’s');
  });
  return {
    run,
    decision: decisionId(run),
    answers: agentIds.map((agentId) => answerId(run, agentId)),
  };
}
