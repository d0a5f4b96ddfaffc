import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useVersions, versionsOfAgents } from '../graph/agent-version.repository.js';
import { writeEvaluation } from '../graph/evaluation.repository.js';
import { TOPICS, type EvolutionEvent } from '../subscriptions/topics.js';
import { VersionStatus, type AgentVersion } from '../src/domain/agent-version.js';
import { EvaluationSource } from '../src/domain/evaluation.js';
import { DEFAULT_EVOLUTION } from '../src/evolution/config.js';
import type { EvolutionContext } from '../src/evolution/loop.js';
import { canaryPass, decideOne } from '../src/evolution/versions/canary.js';
import { addCandidate } from '../src/evolution/versions/lifecycle.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { statementsFor } from './utils/statements.js';
import { subscribe } from './utils/ws.js';
import { parse } from 'graphql';

// Agent versions against the real Neo4j and server (issue 12): versions on create and update,
// the canary's automatic promotion and rollback on constructed outcomes, promotion and rollback
// by hand, proposeAgentVersion on the offline model, and the errors.

const VERSION_FIELDS = `id agentId version status origin systemPrompt model temperature tools
  lessonBudget reason canaryShare parentId runs evaluatedRuns meanScore createdAt
  transitions { from to reason actor }`;

type View = Omit<AgentVersion, 'tenantId'> & {
  runs: number;
  evaluatedRuns: number;
  meanScore: number | null;
  transitions: { from: string | null; to: string; reason: string; actor: string }[];
};

let server: TestServer;
let other: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  other = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
  await other?.stop();
});

async function ok<T>(s: TestServer, query: string, variables: Record<string, unknown> = {}) {
  const res = await s.gql<T, typeof variables>(query, variables);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!;
}

async function createAgent(s: TestServer, name: string, input: Record<string, unknown> = {}) {
  const data = await ok<{ createAgent: { id: string; version: number } }>(
    s,
    `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id version } }`,
    { input: { name, role: 'MASTER_OPERATOR', ...input } },
  );
  return data.createAgent;
}

const versions = async (s: TestServer, agentId: string) =>
  (
    await ok<{ agentVersions: View[] }>(
      s,
      `query($id: ID!) { agentVersions(agentId: $id) { ${VERSION_FIELDS} } }`,
      { id: agentId },
    )
  ).agentVersions;

const agentVersionNumber = async (s: TestServer, id: string) =>
  (
    await ok<{ agent: { version: number } }>(s, `query($id: ID!) { agent(id: $id) { version } }`, {
      id,
    })
  ).agent.version;

async function live(s: TestServer, agentId: string): Promise<AgentVersion> {
  const [v] = await s.graph.read((tx) =>
    versionsOfAgents(tx, s.tenantId, [agentId], [VersionStatus.LIVE]),
  );
  return v!;
}

/** A CANDIDATE made as proposeAgentVersion makes one, without the model. */
async function candidateOf(
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
async function runsWith(
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

const ctxOf = (s: TestServer, minRuns = 10): EvolutionContext => ({
  uow: s.services.uow,
  logger: s.logger,
  llm: undefined as never,
  tenantIds: [s.tenantId],
  config: { ...DEFAULT_EVOLUTION, canary: { share: 0.2, minRuns, alpha: 0.05 } },
});

/** Evolution events of the server's tenant, collected until stop(). */
function collectEvents(s: TestServer) {
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

const HIGH = [0.9, 0.85, 0.95, 0.8, 0.9, 0.88, 0.92, 0.86, 0.9, 0.94];
const LOW = [0.4, 0.5, 0.45, 0.3, 0.5, 0.42, 0.38, 0.5, 0.44, 0.46];

describe('agent versions', () => {
  it('createAgent makes version 1 LIVE by a person; Agent.version is its number', async () => {
    const agent = await createAgent(server, 'Versioned', {
      systemPrompt: 'Answer briefly.',
      temperature: 0.3,
      tools: ['search_knowledge'],
      lessonBudget: 4,
    });
    expect(agent.version).toBe(1);
    const [v1] = await versions(server, agent.id);
    expect(v1).toMatchObject({
      agentId: agent.id,
      version: 1,
      status: 'LIVE',
      origin: 'PERSON',
      systemPrompt: 'Answer briefly.',
      temperature: 0.3,
      tools: ['search_knowledge'],
      lessonBudget: 4,
      reason: 'created',
      parentId: null,
      runs: 0,
      meanScore: null,
      transitions: [{ from: null, to: 'LIVE', reason: 'created', actor: 'test admin' }],
    });
    const data = await ok<{ agent: { liveVersion: { id: string; version: number } } }>(
      server,
      `query($id: ID!) { agent(id: $id) { liveVersion { id version } } }`,
      { id: agent.id },
    );
    expect(data.agent.liveVersion).toEqual({ id: v1!.id, version: 1 });

    const bad = await server.gql(
      `mutation { createAgent(input: { name: "Bad tools", role: MASTER_OPERATOR, tools: ["teleport"] }) { id } }`,
    );
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toContain('tools must be among search_knowledge');
  });

  it('reads Agent.liveVersion for a page of agents in a fixed number of statements', async () => {
    const page = (first: number) => () =>
      server.gql(
        `query($first: Int) { agents(first: $first) { nodes { id liveVersion { version runs transitions { to } } } } }`,
        { first },
      );
    await createAgent(server, 'Batched A');
    await createAgent(server, 'Batched B');
    await createAgent(server, 'Batched C');
    expect(await statementsFor(server, page(3))).toBe(await statementsFor(server, page(1)));
  });

  it('announces a version change on evolutionEvents to a subscriber', async () => {
    const sub = await subscribe(
      server,
      parse(
        'subscription { evolutionEvents(kinds: [VERSION_CHANGED]) { kind subjectLabel subjectId summary } }',
      ) as never,
    );
    try {
      const agent = await createAgent(server, 'Announced', { systemPrompt: 'v1' });
      const [v1] = await versions(server, agent.id);
      const event = await sub.waitForNext(10_000);
      expect(event.data).toEqual({
        evolutionEvents: {
          kind: 'VERSION_CHANGED',
          subjectLabel: 'AgentVersion',
          subjectId: v1!.id,
          summary: `version 1 of agent ${agent.id}: new -> LIVE (created)`,
        },
      });
    } finally {
      await sub.close();
    }
  });

  it('updateAgent makes a new LIVE version for a behaviour change only, and retires the old', async () => {
    const agent = await createAgent(server, 'Updated', { systemPrompt: 'v1 prompt' });
    const update = (input: Record<string, unknown>) =>
      ok<{ updateAgent: { version: number; systemPrompt: string; temperature: number | null } }>(
        server,
        `mutation($id: ID!, $input: UpdateAgentInput!) {
           updateAgent(id: $id, input: $input) { version systemPrompt temperature } }`,
        { id: agent.id, input },
      );
    // Name, description and an unchanged prompt are not behaviour changes.
    expect((await update({ name: 'Updated 2', description: 'd' })).updateAgent.version).toBe(1);
    expect((await update({ systemPrompt: 'v1 prompt' })).updateAgent.version).toBe(1);
    expect(await versions(server, agent.id)).toHaveLength(1);

    const changed = await update({ systemPrompt: 'v2 prompt', temperature: 0.5 });
    expect(changed.updateAgent).toEqual({
      version: 2,
      systemPrompt: 'v2 prompt',
      temperature: 0.5,
    });
    const [v2, v1] = await versions(server, agent.id);
    expect(v2).toMatchObject({
      version: 2,
      status: 'LIVE',
      origin: 'PERSON',
      systemPrompt: 'v2 prompt',
      temperature: 0.5,
      parentId: v1!.id,
    });
    expect(v2!.reason).toContain('systemPrompt, temperature');
    expect(v1).toMatchObject({ version: 1, status: 'RETIRED', systemPrompt: 'v1 prompt' });
    expect(v1!.transitions.map((t) => [t.from, t.to])).toEqual([
      [null, 'LIVE'],
      ['LIVE', 'RETIRED'],
    ]);
    expect(await agentVersionNumber(server, agent.id)).toBe(2);
  });

  it('gives an agent from before versions its version 1, from its current fields', async () => {
    const id = randomUUID();
    await server.graph.write((tx) =>
      tx.run({
        cypher: `CREATE (:Agent {id: $id, tenantId: $tenantId, name: 'Old timer', role: 'MASTER_OPERATOR',
                   status: 'IDLE', active: true, systemPrompt: 'old prompt', model: null, version: 7,
                   createdAt: datetime(), updatedAt: datetime()})`,
        params: { id, tenantId: server.tenantId },
      }),
    );
    const [v1, ...rest] = await versions(server, id);
    expect(rest).toEqual([]);
    expect(v1).toMatchObject({ version: 1, status: 'LIVE', systemPrompt: 'old prompt' });
    expect(await agentVersionNumber(server, id)).toBe(1);
    // Asked again: still one.
    expect(await versions(server, id)).toHaveLength(1);
  });

  it('gives a candidate with share 0.2 of 400 claimed runs a count within the binomial 99.9% interval, the same on a second claim', async () => {
    const agent = await createAgent(server, 'Canary share');
    const liveV = await live(server, agent.id);
    const candidate = await candidateOf(server, agent.id, 'the candidate', 0.2);
    const runIds = await server.graph.write((tx) =>
      tx.run<{ id: string }>({
        cypher: `UNWIND range(1, 400) AS i
                 CREATE (r:Run {id: randomUUID(), tenantId: $tenantId, status: 'RUNNING', attempt: 1,
                                startedAt: datetime(), createdAt: datetime(), updatedAt: datetime()})
                 RETURN r.id AS id`,
        params: { tenantId: server.tenantId },
      }),
    );
    const claims = runIds.map((r) => ({
      runId: r.id,
      agentId: agent.id,
      tenantId: server.tenantId,
    }));
    const used = await server.services.uow.run((tx) => useVersions(tx, claims));
    const toCandidate = [...used.byRun.values()].filter((v) => v.id === candidate.id).length;
    expect(used.byRun.size).toBe(400);
    expect([...used.byRun.values()].every((v) => [candidate.id, liveV.id].includes(v.id))).toBe(
      true,
    );
    // Binomial(400, 0.2): mean 80, sd 8; 99.9% two-sided: 80 ± 3.29 sd.
    expect(toCandidate).toBeGreaterThanOrEqual(54);
    expect(toCandidate).toBeLessThanOrEqual(106);
    // A retried claim of the same runs picks the same versions, and writes no second edge.
    const again = await server.services.uow.run((tx) => useVersions(tx, claims));
    expect([...again.byRun].map(([r, v]) => [r, v.id])).toEqual(
      [...used.byRun].map(([r, v]) => [r, v.id]),
    );
    const [edges] = await server.graph.read((tx) =>
      tx.run<{ n: number; candidate: number }>({
        cypher: `MATCH (r:Run {tenantId: $tenantId})-[u:USED_VERSION]->(v:AgentVersion {agentId: $agentId})
                 RETURN count(u) AS n, count(CASE WHEN v.id = $candidate THEN 1 END) AS candidate`,
        params: { tenantId: server.tenantId, agentId: agent.id, candidate: candidate.id },
      }),
    );
    expect(edges).toEqual({ n: 400, candidate: toCandidate });
  });

  it('promotes a candidate whose runs score better than the live version since it was created', async () => {
    const agent = await createAgent(server, 'Canary winner', { systemPrompt: 'old' });
    const liveV = await live(server, agent.id);
    // Live runs from before the candidate do not count: they would make the live one look best.
    await runsWith(server, agent.id, liveV.id, [1, 1, 1, 1, 1]);
    const candidate = await candidateOf(server, agent.id, 'new and better');
    await runsWith(server, agent.id, candidate.id, HIGH.slice(0, 9));
    await runsWith(server, agent.id, liveV.id, LOW);
    const events = collectEvents(server);
    // Nine candidate runs: below the minimum sample, it waits.
    expect(
      (await decideOne(ctxOf(server), candidate, { share: 0.2, minRuns: 10, alpha: 0.05 }))!
        .decision,
    ).toBe('WAIT');
    await runsWith(server, agent.id, candidate.id, HIGH.slice(9));
    await canaryPass.run(ctxOf(server), new AbortController().signal);
    await events.stop();

    const [newest, old] = await versions(server, agent.id);
    expect(newest).toMatchObject({ id: candidate.id, status: 'LIVE', runs: 10, evaluatedRuns: 10 });
    expect(newest!.meanScore).toBeCloseTo(HIGH.reduce((a, b) => a + b) / 10, 10);
    expect(newest!.transitions.at(-1)).toMatchObject({
      from: 'CANDIDATE',
      to: 'LIVE',
      actor: 'PLATFORM',
    });
    expect(newest!.transitions.at(-1)!.reason).toMatch(/^canary: better: .*Welch/);
    expect(newest!.transitions.at(-1)!.reason).toContain('vs live 0.435 (n=10)');
    expect(old).toMatchObject({ id: liveV.id, status: 'RETIRED' });
    expect(await agentVersionNumber(server, agent.id)).toBe(2);
    const agentNow = await ok<{ agent: { systemPrompt: string } }>(
      server,
      `query($id: ID!) { agent(id: $id) { systemPrompt } }`,
      { id: agent.id },
    );
    expect(agentNow.agent.systemPrompt).toBe('new and better');
    const mine = events.events.filter((e) => [candidate.id, liveV.id].includes(e.subjectId));
    expect(mine.map((e) => [e.kind, e.subjectId])).toEqual([
      ['VERSION_CHANGED', candidate.id],
      ['VERSION_CHANGED', liveV.id],
    ]);
  });

  it('rolls a worse candidate back automatically and leaves the live version live', async () => {
    const agent = await createAgent(server, 'Canary loser', { systemPrompt: 'good' });
    const liveV = await live(server, agent.id);
    const candidate = await candidateOf(server, agent.id, 'worse');
    await runsWith(server, agent.id, candidate.id, LOW);
    await runsWith(server, agent.id, liveV.id, HIGH);
    await canaryPass.run(ctxOf(server), new AbortController().signal);
    const [c, l] = await versions(server, agent.id);
    expect(c).toMatchObject({ id: candidate.id, status: 'ROLLED_BACK', canaryShare: 0 });
    expect(c!.transitions.at(-1)!.reason).toMatch(/^canary: worse: /);
    expect(l).toMatchObject({ id: liveV.id, status: 'LIVE' });
    expect(await agentVersionNumber(server, agent.id)).toBe(1);
  });

  it('rolls back the candidate of a deleted agent instead of waiting for it forever', async () => {
    const agent = await createAgent(server, 'Deleted');
    const candidate = await candidateOf(server, agent.id, 'never runs');
    await ok(server, `mutation($id: ID!) { deleteAgent(id: $id) { id } }`, { id: agent.id });
    const config = { share: 0.2, minRuns: 10, alpha: 0.05 };
    expect(await decideOne(ctxOf(server), candidate, config)).toBeNull();
    const [row] = await server.graph.read((tx) =>
      tx.run<{ status: string }>({
        cypher: 'MATCH (v:AgentVersion {tenantId: $tenantId, id: $id}) RETURN v.status AS status',
        params: { tenantId: server.tenantId, id: candidate.id },
      }),
    );
    expect(row).toEqual({ status: 'ROLLED_BACK' });
  });

  it('lets only one of two processes decide a candidate', async () => {
    const agent = await createAgent(server, 'Raced', { systemPrompt: 'old' });
    const liveV = await live(server, agent.id);
    const candidate = await candidateOf(server, agent.id, 'new');
    await runsWith(server, agent.id, candidate.id, HIGH);
    await runsWith(server, agent.id, liveV.id, LOW);
    const config = { share: 0.2, minRuns: 10, alpha: 0.05 };
    await Promise.all([
      decideOne(ctxOf(server), candidate, config),
      decideOne(ctxOf(server), candidate, config),
    ]);
    const all = await versions(server, agent.id);
    expect(all.map((v) => v.status)).toEqual(['LIVE', 'RETIRED']);
    expect(all[0]!.transitions.map((t) => t.to)).toEqual(['CANDIDATE', 'LIVE']);
    expect(all[1]!.transitions.map((t) => t.to)).toEqual(['LIVE', 'RETIRED']);
  });

  it('promotes and rolls back by hand, with reasons; a live version rolls back to its parent', async () => {
    const agent = await createAgent(server, 'By hand', { systemPrompt: 'first' });
    const v1 = await live(server, agent.id);
    const candidate = await candidateOf(server, agent.id, 'second');
    const promoted = await ok<{ promoteAgentVersion: View }>(
      server,
      `mutation($id: ID!) { promoteAgentVersion(versionId: $id, reason: "reviewed the transcripts") { ${VERSION_FIELDS} } }`,
      { id: candidate.id },
    );
    expect(promoted.promoteAgentVersion).toMatchObject({ status: 'LIVE', version: 2 });
    expect(promoted.promoteAgentVersion.transitions.at(-1)).toMatchObject({
      from: 'CANDIDATE',
      to: 'LIVE',
      reason: 'by hand: reviewed the transcripts',
      actor: 'test admin',
    });
    expect(await agentVersionNumber(server, agent.id)).toBe(2);

    const rolled = await ok<{ rollbackAgentVersion: View }>(
      server,
      `mutation($id: ID!) { rollbackAgentVersion(versionId: $id, reason: "users complained") { ${VERSION_FIELDS} } }`,
      { id: candidate.id },
    );
    expect(rolled.rollbackAgentVersion).toMatchObject({ id: candidate.id, status: 'ROLLED_BACK' });
    const [v3, v2, first] = await versions(server, agent.id);
    expect(v3).toMatchObject({
      version: 3,
      status: 'LIVE',
      systemPrompt: 'first',
      parentId: v1.id,
    });
    expect(v2).toMatchObject({ version: 2, status: 'ROLLED_BACK' });
    expect(first).toMatchObject({ version: 1, status: 'RETIRED' });
    expect(await agentVersionNumber(server, agent.id)).toBe(3);

    // A retired version can be neither promoted nor rolled back.
    for (const op of ['promoteAgentVersion', 'rollbackAgentVersion']) {
      const res = await server.gql(
        `mutation($id: ID!) { ${op}(versionId: $id, reason: "why") { id } }`,
        {
          id: v1.id,
        },
      );
      expect(res.errors?.[0]?.extensions?.code).toBe('CONFLICT');
      expect(res.errors?.[0]?.message).toContain('is RETIRED');
    }
    const blank = await server.gql(
      `mutation($id: ID!) { promoteAgentVersion(versionId: $id, reason: " ") { id } }`,
      {
        id: v3!.id,
      },
    );
    expect(blank.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('proposes a CANDIDATE on the offline model whose instructions carry the rule a low-scoring run was given', async () => {
    const agent = await createAgent(server, 'Pricer', { systemPrompt: 'Answer briefly.' });
    const v1 = await live(server, agent.id);
    const none = await server.gql(
      `mutation($id: ID!) { proposeAgentVersion(agentId: $id) { id } }`,
      {
        id: agent.id,
      },
    );
    expect(none.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(none.errors?.[0]?.message).toContain('no evidence to learn from yet');

    await runsWith(server, agent.id, v1.id, [0.2], {
      comment: 'Wrong again. Always state the unit of every number.',
    });
    await runsWith(server, agent.id, v1.id, [0.95]);
    const proposed = await ok<{ proposeAgentVersion: View }>(
      server,
      `mutation($id: ID!) { proposeAgentVersion(agentId: $id) { ${VERSION_FIELDS} } }`,
      { id: agent.id },
    );
    const v = proposed.proposeAgentVersion;
    expect(v).toMatchObject({
      status: 'CANDIDATE',
      origin: 'PLATFORM',
      version: 2,
      canaryShare: DEFAULT_EVOLUTION.canary.share,
      parentId: v1.id,
      transitions: [{ from: null, to: 'CANDIDATE', actor: 'test admin' }],
    });
    expect(v.systemPrompt).toBe('Answer briefly.\n- Always state the unit of every number.');
    expect(v.reason).toContain('Always state the unit of every number.');
    expect(await agentVersionNumber(server, agent.id)).toBe(1);

    const again = await server.gql(
      `mutation($id: ID!) { proposeAgentVersion(agentId: $id) { id } }`,
      {
        id: agent.id,
      },
    );
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(again.errors?.[0]?.message).toContain('already has a candidate version');
  });

  it('answers NOT_FOUND alike for unknown ids and for ids of another tenant', async () => {
    const theirs = await createAgent(other, 'Theirs', { systemPrompt: 'secret' });
    const theirVersion = await live(other, theirs.id);
    const unknown = randomUUID();
    const cases: [string, string][] = [
      [`query($id: ID!) { agentVersions(agentId: $id) { id } }`, theirs.id],
      [`mutation($id: ID!) { proposeAgentVersion(agentId: $id) { id } }`, theirs.id],
      [
        `mutation($id: ID!) { promoteAgentVersion(versionId: $id, reason: "r") { id } }`,
        theirVersion.id,
      ],
      [
        `mutation($id: ID!) { rollbackAgentVersion(versionId: $id, reason: "r") { id } }`,
        theirVersion.id,
      ],
    ];
    for (const [query, foreign] of cases) {
      const a = await server.gql(query, { id: foreign });
      const b = await server.gql(query, { id: unknown });
      expect(a.errors?.[0]?.extensions?.code, query).toBe('NOT_FOUND');
      expect(b.errors?.[0]?.extensions?.code, query).toBe('NOT_FOUND');
      expect(a.errors![0]!.message.replace(foreign, '<id>')).toBe(
        b.errors![0]!.message.replace(unknown, '<id>'),
      );
    }
    // Nothing of theirs changed.
    expect((await versions(other, theirs.id)).map((v) => v.status)).toEqual(['LIVE']);
  });

  it('refuses proposing, promoting and rolling back to a viewer', async () => {
    const viewer = await server.keyFor('VIEWER' as never);
    const agent = await createAgent(server, 'Guarded');
    const res = await server.gql(
      `mutation($id: ID!) { proposeAgentVersion(agentId: $id) { id } }`,
      { id: agent.id },
      { authorization: `Bearer ${viewer}` },
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const read = await server.gql(
      `query($id: ID!) { agentVersions(agentId: $id) { version } }`,
      { id: agent.id },
      { authorization: `Bearer ${viewer}` },
    );
    expect(read.errors).toBeUndefined();
  });
});
