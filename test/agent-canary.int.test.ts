import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useVersions } from '../graph/used-version.repository.js';
import { canaryPass, decideOne } from '../src/evolution/versions/canary.js';
import { startTestServer, type TestServer } from './utils/server.js';
import {
  agentVersionNumber,
  candidateOf,
  collectEvents,
  createAgent,
  ctxOf,
  HIGH,
  live,
  LOW,
  ok,
  runsWith,
  versions,
} from './utils/agent-versions.js';

// The canary of agent versions (issue 12) against the real Neo4j and server: the share of runs
// a candidate gets, and the automatic promotion and rollback on constructed outcomes.

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('agent version canary', () => {
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
});
