import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EVOLUTION } from '../src/evolution/config.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { statementsFor } from './utils/statements.js';
import { subscribe } from './utils/ws.js';
import { parse } from 'graphql';
import {
  agentVersionNumber,
  candidateOf,
  createAgent,
  live,
  ok,
  runsWith,
  VERSION_FIELDS,
  versions,
  type View,
} from './utils/agent-versions.js';

// Agent versions against the real Neo4j and server (issue 12): versions on create and update,
// promotion and rollback by hand, proposeAgentVersion on the offline model, and the errors.
// The canary's share and its automatic decisions: test/agent-canary.int.test.ts.

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

  it('proposes no version for an agent without instructions when the evaluations name no rule', async () => {
    // The offline model answered "(no instructions)": a sham CANDIDATE with that as its prompt.
    const agent = await createAgent(server, 'Blank');
    const v1 = await live(server, agent.id);
    await runsWith(server, agent.id, v1.id, [0.2], { comment: 'The figures were wrong.' });
    const res = await server.gql(
      `mutation($id: ID!) { proposeAgentVersion(agentId: $id) { systemPrompt } }`,
      { id: agent.id },
    );
    expect(res.errors?.[0]?.extensions?.code, JSON.stringify(res.data)).toBe('CONFLICT');
    expect(res.errors?.[0]?.message).toContain('proposed no change to its instructions');
    expect((await versions(server, agent.id)).map((v) => v.status)).toEqual(['LIVE']);
  });

  it('answers BUDGET_EXCEEDED for a proposal over a budget, and audits one that warned of one once', async () => {
    const agent = await createAgent(server, 'Budgeted', { systemPrompt: 'Answer briefly.' });
    const v1 = await live(server, agent.id);
    await runsWith(server, agent.id, v1.id, [0.2], { comment: 'Always give the currency.' });
    await server.graph.write((tx) =>
      tx.run({
        cypher: `CREATE (:LLMCall {id: randomUUID(), tenantId: $tenantId, totalTokens: 20000,
                                   costUsd: 0.0, purpose: 'execution', createdAt: datetime()})`,
        params: { tenantId: server.tenantId },
      }),
    );
    const [{ spent }] = (await server.graph.read((tx) =>
      tx.run<{ spent: number }>({
        cypher: `MATCH (c:LLMCall {tenantId: $tenantId}) RETURN sum(c.totalTokens) AS spent`,
        params: { tenantId: server.tenantId },
      }),
    )) as [{ spent: number }];
    const limit = (tokens: number | null) =>
      ok(
        server,
        `mutation($id: ID, $tokens: Int) { setBudget(scope: TENANT, id: $id, tokens: $tokens) { budget { scope } } }`,
        { id: server.tenantId, tokens },
      );
    const PROPOSE = `mutation($id: ID!) { proposeAgentVersion(agentId: $id) { id } }`;
    try {
      // Spent: the model is not asked, and the refusal says which budget.
      await limit(spent);
      const refused = await server.gql(PROPOSE, { id: agent.id });
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        code: 'BUDGET_EXCEEDED',
        scope: 'TENANT',
        targetId: server.tenantId,
      });
      // 85% spent: the proposal's model call claims the budget's warning on its way.
      await limit(Math.ceil(spent / 0.85));
      const proposed = await ok<{ proposeAgentVersion: { id: string } }>(server, PROPOSE, {
        id: agent.id,
      });
      const events = await server.graph.read((tx) =>
        tx.run<{ outcome: string; targetIds: string[] }>({
          cypher: `MATCH (e:AuditEvent {tenantId: $tenantId})
                   WHERE e.operation CONTAINS 'proposeAgentVersion' AND $agentId IN e.targetIds
                   RETURN e.outcome AS outcome, e.targetIds AS targetIds ORDER BY e.createdAt`,
          params: { tenantId: server.tenantId, agentId: agent.id },
        }),
      );
      expect(events.map((e) => e.outcome)).toEqual(['FAILURE', 'SUCCESS']);
      expect(events[1]!.targetIds).toContain(proposed.proposeAgentVersion.id);
    } finally {
      await limit(null);
    }
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
