import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { versionsOfAgents } from '../../graph/agent-version.repository.js';
import { writeEvaluation } from '../../graph/evaluation.repository.js';
import { TOPICS, type EvolutionEvent } from '../../subscriptions/topics.js';
import { VersionStatus, type AgentVersion } from '../../src/domain/agent-version.js';
import { EvaluationSource } from '../../src/domain/evaluation.js';
import { DEFAULT_EVOLUTION } from '../../src/evolution/config.js';
import type { EvolutionContext } from '../../src/evolution/loop.js';
import { addCandidate } from '../../src/evolution/versions/lifecycle.js';
import type { TestServer } from './server.js';

// What the agent-version tests share (test/agent-versions, test/agent-canary): reads through
// the API, candidates made as proposeAgentVersion makes them, and scored runs of a version.

export const VERSION_FIELDS = `id agentId version status origin systemPrompt model temperature tools
  lessonBudget reason canaryShare parentId runs evaluatedRuns meanScore createdAt
  transitions { from to reason actor }`;

export type View = Omit<AgentVersion, 'tenantId'> & {
  runs: number;
  evaluatedRuns: number;
  meanScore: number | null;
  transitions: { from: string | null; to: string; reason: string; actor: string }[];
};

export async function ok<T>(s: TestServer, query: string, variables: Record<string, unknown> = {}) {
  const res = await s.gql<T, typeof variables>(query, variables);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!;
}

export async function createAgent(
  s: TestServer,
  name: string,
  input: Record<string, unknown> = {},
) {
  const data = await ok<{ createAgent: { id: string; version: number } }>(
    s,
    `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id version } }`,
    { input: { name, role: 'MASTER_OPERATOR', ...input } },
  );
  return data.createAgent;
}

export const versions = async (s: TestServer, agentId: string) =>
  (
    await ok<{ agentVersions: View[] }>(
      s,
      `query($id: ID!) { agentVersions(agentId: $id) { ${VERSION_FIELDS} } }`,
      { id: agentId },
    )
  ).agentVersions;

export const agentVersionNumber = async (s: TestServer, id: string) =>
  (
    await ok<{ agent: { version: number } }>(s, `query($id: ID!) { agent(id: $id) { version } }`, {
      id,
    })
  ).agent.version;

export async function live(s: TestServer, agentId: string): Promise<AgentVersion> {
  const [v] = await s.graph.read((tx) =>
    versionsOfAgents(tx, s.tenantId, [agentId], [VersionStatus.LIVE]),
  );
  return v!;
}

/** A CANDIDATE made as proposeAgentVersion makes one, without the model. */
export async function candidateOf(
  s: TestServer,
  agentId: string,
  systemPrompt: string,
  canaryShare = 0.2,
) {
  const liveNow = await live(s, agentId);
  return s.services.uow.run((tx, emit) =>
    addCandidate(tx, emit, {
      tenantId: s.tenantId,
      live: liveNow,
      systemPrompt,
      reason: 'constructed for a test',
      canaryShare,
      actor: 'PLATFORM',
    }),
  );
}

/** Ended runs of the agent that used `versionId`, one per score, each with a JUDGE evaluation. */
export async function runsWith(
  s: TestServer,
  agentId: string,
  versionId: string,
  scores: number[],
  more: { comment?: string; title?: string } = {},
) {
  await s.services.uow.run(async (tx) => {
    const rows = await tx.run<{ id: string; score: number }>({
      cypher: `
        UNWIND $scores AS score
        MATCH (a:Agent {tenantId: $tenantId, id: $agentId})
        MATCH (v:AgentVersion {tenantId: $tenantId, id: $versionId})
        CREATE (t:Task {id: randomUUID(), tenantId: $tenantId, title: $title, status: 'COMPLETED',
                        priority: 'MEDIUM', attempts: 1, maxAttempts: 1, orchestrated: false,
                        version: 1, result: 'a result without units: 42',
                        createdAt: datetime(), updatedAt: datetime()})
        CREATE (r:Run {id: randomUUID(), tenantId: $tenantId, status: 'SUCCEEDED', attempt: 1,
                       startedAt: datetime(), endedAt: datetime(), createdAt: datetime(),
                       updatedAt: datetime()})
        CREATE (r)-[:OF]->(t), (r)-[:BY]->(a), (r)-[:USED_VERSION]->(v)
        RETURN r.id AS id, score`,
      params: {
        tenantId: s.tenantId,
        agentId,
        versionId,
        scores,
        title: more.title ?? 'Price check',
      },
    });
    for (const r of rows) {
      await writeEvaluation(tx, {
        id: randomUUID(),
        tenantId: s.tenantId,
        subjectLabel: 'Run',
        subjectId: r.id,
        source: more.comment ? EvaluationSource.PERSON : EvaluationSource.JUDGE,
        score: r.score,
        rubric: 'constructed',
        reasons: [],
        comment: more.comment ?? null,
        by: more.comment ? 'a test person' : null,
        offline: true,
      });
    }
  });
}

export const ctxOf = (s: TestServer, minRuns = 10): EvolutionContext => ({
  uow: s.services.uow,
  logger: s.logger,
  llm: undefined as never,
  tenantIds: [s.tenantId],
  config: { ...DEFAULT_EVOLUTION, canary: { share: 0.2, minRuns, alpha: 0.05 } },
});

/** Evolution events of the server's tenant, collected until stop(). */
export function collectEvents(s: TestServer) {
  const it = s.pubsub.subscribe(TOPICS.evolution, { tenantId: s.tenantId });
  const events: EvolutionEvent[] = [];
  const done = (async () => {
    for await (const e of it) events.push(e as EvolutionEvent);
  })();
  return {
    events,
    stop: async () => {
      // In-process events reach subscribers a macrotask after their publish: let those of
      // the last action arrive before unsubscribing drops them.
      await new Promise((r) => setImmediate(r));
      await it.return?.();
      await done;
    },
  };
}

export const HIGH = [0.9, 0.85, 0.95, 0.8, 0.9, 0.88, 0.92, 0.86, 0.9, 0.94];
export const LOW = [0.4, 0.5, 0.45, 0.3, 0.5, 0.42, 0.38, 0.5, 0.44, 0.46];
