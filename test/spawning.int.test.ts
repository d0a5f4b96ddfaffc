import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { echoExecutor } from '../src/engine/executor.js';
import { DEFAULT_EVOLUTION, type SpawningConfig } from '../src/evolution/config.js';
import type { EvolutionContext } from '../src/evolution/loop.js';
import { spawnFor, spawningPass } from '../src/evolution/spawning/pass.js';
import { TOPICS, type EvolutionEvent } from '../subscriptions/topics.js';
import { startScheduler } from './utils/engine.js';
import { createOperators, createPlan, eventually, startWorkflow } from './utils/engine-steps.js';
import { startTestServer, type TestServer } from './utils/server.js';

/** Spawning (issue 12): the Chief of Staff adds a specialised operator where work piles up. */

/** Conservative knobs; each test loosens the one it drives. */
const QUIET: SpawningConfig = {
  enabled: true,
  backlog: 2,
  backlogMs: 3_600_000,
  cooldownMs: 3_600_000,
  max: 3,
  idleTtlMs: 3_600_000,
};

const ctxOf = (servers: TestServer[], spawning: Partial<SpawningConfig>): EvolutionContext => ({
  uow: servers[0]!.services.uow,
  logger: servers[0]!.logger,
  llm: loadConfig({}).llm,
  pubsub: servers[0]!.pubsub,
  // Never all tenants: other suites' tenants share this Neo4j.
  tenantIds: servers.map((s) => s.tenantId),
  config: { ...DEFAULT_EVOLUTION, spawning: { ...QUIET, ...spawning } },
});

const run = (servers: TestServer[], spawning: Partial<SpawningConfig> = {}) =>
  spawningPass.run(ctxOf(servers, spawning), new AbortController().signal);

const rows = <T extends Record<string, unknown>>(
  server: TestServer,
  cypher: string,
  params: Record<string, unknown> = {},
) =>
  server.graph.read((tx) =>
    tx.run<T>({ cypher, params: { tenantId: server.tenantId, ...params } }),
  );

const spawned = (server: TestServer) =>
  rows<{
    id: string;
    name: string;
    active: boolean;
    caps: string[];
    chief: string;
    reason: string;
    prompt: string;
    retiredReason: string | null;
  }>(
    server,
    `MATCH (a:Agent {tenantId: $tenantId, spawned: true})-[s:SPAWNED_BY]->(cos:Agent)
     RETURN a.id AS id, a.name AS name, a.active AS active, cos.name AS chief, s.reason AS reason,
            a.systemPrompt AS prompt, a.retiredReason AS retiredReason,
            [(a)-[:HAS_CAPABILITY]->(c:Capability) | c.name] AS caps
     ORDER BY a.createdAt, a.name`,
  );

/**
 * A plan of `n` independent steps requiring `capability`, started, and a scheduler run until
 * every step has been given back waiting for an agent (no agent can take them).
 */
async function backlog(server: TestServer, capability: string, n: number): Promise<string> {
  const ids = await createPlan(server, [
    { key: 'root', title: `Work needing ${capability}` },
    ...Array.from({ length: n }, (_, i) => ({
      key: `s${i}`,
      title: `Step ${i}`,
      parentKey: 'root',
      requiredCapabilities: [capability],
    })),
  ]);
  await startWorkflow(server, ids.root!);
  const scheduler = startScheduler(server, echoExecutor());
  try {
    await eventually(
      `${n} ${capability} steps waiting for an agent`,
      async () => {
        const [row] = await rows<{ n: number }>(
          server,
          `MATCH (t:Task {tenantId: $tenantId, status: 'READY'})-[:REQUIRES]->(:Capability {name: $capability})
           WHERE t.waitingReason IS NOT NULL RETURN count(t) AS n`,
          { capability },
        );
        return row!.n === n;
      },
      // Claims on a loaded 2-core machine: the first took 35 s under a load of 19.
      90_000,
    );
  } finally {
    await scheduler.stop({ abort: true });
  }
  return ids.root!;
}

async function chiefOf(server: TestServer, name = 'Chief'): Promise<string> {
  const res = await server.gql(
    `mutation($name: String!) { createAgents(inputs: [{ name: $name, role: CHIEF_OF_STAFF }]) { id } }`,
    { name } as never,
  );
  expect(res.errors).toBeUndefined();
  return (res.data as { createAgents: { id: string }[] }).createAgents[0]!.id;
}

describe('spawning', { timeout: 240_000 }, () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    [a, b] = await Promise.all([startTestServer(), startTestServer()]);
    await Promise.all([chiefOf(a), chiefOf(b, 'Other chief')]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('spawns a specialised operator, seeded with the capability’s ACTIVE lessons, when a plan needs a capability no active agent has', async () => {
    const events = a.pubsub.subscribe(TOPICS.evolution, {
      tenantId: a.tenantId,
      // Agents' own events only: a new agent's version 1 is announced too (VERSION_CHANGED).
      filter: (e) => (e as EvolutionEvent).kind.startsWith('AGENT_'),
    });
    await a.graph.write((tx) =>
      tx.run({
        cypher: `
          CREATE (:Knowledge {id: randomUUID(), tenantId: $tenantId, kind: 'LESSON', status: 'ACTIVE',
                  capability: 'translation', content: 'Keep the units of the source text.',
                  confidence: 0.8, tags: [], strength: 2, createdAt: datetime(), updatedAt: datetime()}),
                 (:Knowledge {id: randomUUID(), tenantId: $tenantId, kind: 'LESSON', status: 'CANDIDATE',
                  capability: 'translation', content: 'An unproven candidate.',
                  confidence: 0.5, tags: [], strength: 1, createdAt: datetime(), updatedAt: datetime()})`,
        params: { tenantId: a.tenantId },
      }),
    );
    await backlog(a, 'translation', 1);
    // One waiting step is far below the backlog threshold: it is the missing capability that counts.
    await run([a]);
    const [agent, ...more] = await spawned(a);
    expect(more).toEqual([]);
    expect(agent).toMatchObject({ active: true, caps: ['translation'], chief: 'Chief' });
    expect(agent!.reason).toMatch(/no active agent has translation/);
    expect(agent!.prompt).toContain('Keep the units of the source text.');
    expect(agent!.prompt).not.toContain('An unproven candidate.');
    // Made like any agent: version 1 LIVE carries its instructions.
    const [version] = await rows<{ status: string; prompt: string }>(
      a,
      `MATCH (:Agent {id: $id})-[:HAS_VERSION]->(v:AgentVersion) RETURN v.status AS status, v.systemPrompt AS prompt`,
      { id: agent!.id },
    );
    expect(version).toEqual({ status: 'LIVE', prompt: agent!.prompt });
    const origin = await a.gql(
      `query($id: ID!) { agent(id: $id) { spawnedBy { agent { name } reason at retiredReason } } }`,
      { id: agent!.id } as never,
    );
    expect(origin.errors).toBeUndefined();
    expect((origin.data as { agent: { spawnedBy: unknown } }).agent.spawnedBy).toMatchObject({
      agent: { name: 'Chief' },
      reason: agent!.reason,
      retiredReason: null,
    });
    const event = (await events.next()).value as EvolutionEvent;
    expect(event).toMatchObject({
      kind: 'AGENT_SPAWNED',
      subjectLabel: 'Agent',
      subjectId: agent!.id,
    });
    await events.return?.();

    // Answered: the capability is no longer missing, and the cooldown holds anyway.
    await run([a]);
    expect(await spawned(a)).toHaveLength(1);
  });

  it('spawns for a backlog only once it has lasted its duration, one agent per backlog, within the quota', async () => {
    const ops = await createOperators(a, { Researcher: ['research'] });
    const paused = await a.gql(
      `mutation($id: ID!) { setAgentStatus(id: $id, status: PAUSED) { id } }`,
      {
        id: ops.Researcher,
      } as never,
    );
    expect(paused.errors).toBeUndefined();
    await backlog(a, 'research', 4);
    const before = (await spawned(a)).length;

    await run([a]); // the backlog begins now; it has not lasted an hour
    expect(await spawned(a)).toHaveLength(before);

    // An hour passes (the watch's start moved back rather than the test waiting).
    await a.graph.write((tx) =>
      tx.run({
        cypher: `MATCH (w:SpawnWatch {tenantId: $tenantId, capability: 'research'})
                 SET w.since = datetime() - duration('PT2H')`,
        params: { tenantId: a.tenantId },
      }),
    );
    await run([a]);
    let now = await spawned(a);
    expect(now).toHaveLength(before + 1);
    expect(now.at(-1)!.reason).toMatch(/4 step\(s\) needing research waited/);

    // The backlog is still there, but it was answered: no second agent within the cooldown.
    await run([a], { backlogMs: 0 });
    expect(await spawned(a)).toHaveLength(before + 1);

    // Without a cooldown a lasting backlog gets another, up to the quota (3 active in all).
    await run([a], { backlogMs: 0, cooldownMs: 0 });
    await run([a], { backlogMs: 0, cooldownMs: 0 });
    now = await spawned(a);
    expect(now.filter((s) => s.active)).toHaveLength(3);
    expect(now).toHaveLength(3);
  });

  it('two processes deciding on one backlog at once spawn one agent', async () => {
    await backlog(b, 'legal', 1);
    const need = { tenantId: b.tenantId, capability: 'legal', waiting: 1, missing: true };
    const results = await Promise.all([
      spawnFor(b.services.uow, need, QUIET),
      spawnFor(b.services.uow, need, QUIET),
      spawnFor(b.services.uow, need, QUIET),
    ]);
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    const all = await spawned(b);
    expect(all.map((s) => [s.caps, s.chief])).toEqual([[['legal'], 'Other chief']]);
  });

  it('another tenant’s backlog never spawns an agent here, and each tenant’s quota is its own', async () => {
    const inA = (await spawned(a)).length;
    await backlog(b, 'medicine', 1);
    await run([a, b], { max: 3 });
    expect(await spawned(a)).toHaveLength(inA);
    const inB = await spawned(b);
    expect(inB.map((s) => s.caps[0]).sort()).toEqual(['legal', 'medicine']);
    expect(inB.every((s) => s.chief === 'Other chief')).toBe(true);
  });

  it('retires idle spawned agents after the TTL, with the reason, and announces it', async () => {
    const events = a.pubsub.subscribe(TOPICS.evolution, {
      tenantId: a.tenantId,
      // Agents' own events only: a new agent's version 1 is announced too (VERSION_CHANGED).
      filter: (e) => (e as EvolutionEvent).kind.startsWith('AGENT_'),
    });
    const active = (await spawned(a)).filter((s) => s.active);
    expect(active.length).toBeGreaterThan(0);
    await run([a], { idleTtlMs: 3_600_000 }); // made moments ago: not idle for an hour
    expect((await spawned(a)).filter((s) => s.active)).toHaveLength(active.length);

    // A walk of 2026-12-06: idleness counted from a run's start, so an agent whose step ran
    // longer than the idle time was retired in the middle of it.
    const busy = active[0]!.id;
    await a.graph.write((tx) =>
      tx.run({
        cypher: `MATCH (x:Agent {id: $busy})
                 CREATE (:Run {id: randomUUID(), tenantId: x.tenantId, status: 'RUNNING',
                               startedAt: datetime() - duration('PT2H')})-[:BY]->(x)`,
        params: { busy },
      }),
    );
    await run([a], { idleTtlMs: 0, enabled: true, backlog: 1_000, max: 0 });
    expect((await spawned(a)).filter((s) => s.active).map((s) => s.id)).toEqual([busy]);
    // Its run ends: idle from then on.
    await a.graph.write((tx) =>
      tx.run({
        cypher: `MATCH (r:Run {status: 'RUNNING'})-[:BY]->(:Agent {id: $busy})
                 SET r.status = 'SUCCEEDED', r.endedAt = datetime() - duration('PT1H')`,
        params: { busy },
      }),
    );
    await run([a], { idleTtlMs: 0, enabled: true, backlog: 1_000, max: 0 });
    const after = await spawned(a);
    expect(after.filter((s) => s.active)).toEqual([]);
    expect(after.every((s) => /idle: no run for 0 ms/.test(s.retiredReason ?? ''))).toBe(true);
    const kinds: string[] = [];
    for (let i = 0; i < active.length; i++)
      kinds.push(((await events.next()).value as EvolutionEvent).kind);
    expect(kinds).toEqual(active.map(() => 'AGENT_RETIRED'));
    await events.return?.();
    const statuses = await rows<{ status: string }>(
      a,
      `MATCH (x:Agent {tenantId: $tenantId, spawned: true}) RETURN DISTINCT x.status AS status`,
    );
    expect(statuses).toEqual([{ status: 'OFFLINE' }]);
  });

  it('names a spawned agent as a person must: a long capability leaves no trailing space nor half a character', async () => {
    const loose = { ...QUIET, cooldownMs: 0, max: 10 };
    const names: string[] = [];
    // Each capability twice: the second name is taken and gets a suffix.
    for (const capability of ['Ω'.repeat(99), '🚀'.repeat(49) + 'x', '🚀'.repeat(50)]) {
      for (let i = 0; i < 2; i++) {
        const id = await spawnFor(
          a.services.uow,
          {
            tenantId: a.tenantId,
            capability,
            waiting: 1,
            missing: true,
          },
          loose,
        );
        const [row] = await rows<{ name: string }>(
          a,
          'MATCH (x:Agent {id: $id}) RETURN x.name AS name',
          { id },
        );
        names.push(row!.name);
      }
    }
    for (const name of names) {
      expect(name).toBe(name.trim());
      expect(name.length).toBeLessThanOrEqual(100);
      // Half a surrogate pair would be stored as U+FFFD.
      expect(name).not.toMatch(/\uFFFD|[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  // A capability a model wrote (or an import brought) may hold them; importOrganisation
  // refuses an agent's name with control or text-direction characters.
  it('names a spawned agent without the control and text-direction characters of its capability', async () => {
    const id = await spawnFor(
      a.services.uow,
      { tenantId: a.tenantId, capability: 'data\u202Eops\tx\n', waiting: 1, missing: true },
      { ...QUIET, cooldownMs: 0, max: 10 },
    );
    const [row] = await rows<{ name: string }>(
      a,
      'MATCH (x:Agent {id: $id}) RETURN x.name AS name',
      {
        id,
      },
    );
    expect(row!.name).toBe('data ops x specialist 1');
  });

  it('EVOLUTION_SPAWNING=off spawns nothing', async () => {
    await backlog(b, 'astronomy', 1);
    const before = (await spawned(b)).length;
    await run([b], { enabled: false });
    expect(await spawned(b)).toHaveLength(before);
  });
});
