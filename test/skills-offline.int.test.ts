import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transitionsOf } from '../graph/transition.repository.js';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import type { Scheduler } from '../src/engine/scheduler.js';
import { DEFAULT_EVOLUTION } from '../src/evolution/config.js';
import type { EvolutionContext } from '../src/evolution/loop.js';
import { skillPass } from '../src/evolution/skills/pass.js';
import { TOPICS, type EvolutionEvent } from '../subscriptions/topics.js';
import { startScheduler, waitForWorkflow } from './utils/engine.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { rows, rate, skills } from './utils/skill-graph.js';

/**
 * Skills (issue 12): a plan that worked for a family is offered when that family comes again,
 * here on the offline model (skills-history.int.test.ts: a constructed history).
 */

/** How long offline workflows may take on a loaded 2-core machine. */
const WORKFLOW_MS = 180_000;
const FAMILY = 'market-brief';

const ctxOf = (server: TestServer, minFamilyTasks: number): EvolutionContext => ({
  uow: server.services.uow,
  logger: server.logger,
  llm: loadConfig({}).llm,
  pubsub: server.pubsub,
  tenantIds: [server.tenantId], // never all tenants: other suites share this Neo4j
  config: { ...DEFAULT_EVOLUTION, skills: { ...DEFAULT_EVOLUTION.skills, minFamilyTasks } },
});

const learn = (server: TestServer, minFamilyTasks: number) =>
  skillPass.run(ctxOf(server, minFamilyTasks), new AbortController().signal);

async function submit(server: TestServer, title: string, description: string): Promise<string> {
  const res = await server.gql(
    `mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`,
    { input: { title, description, family: FAMILY } } as never,
  );
  expect(res.errors).toBeUndefined();
  return (res.data as { submitTask: { id: string } }).submitTask.id;
}

const completed = (server: TestServer, rootId: string) =>
  waitForWorkflow(
    server,
    rootId,
    (all) =>
      all.find((t) => t.id === rootId)?.status === 'COMPLETED' ||
      all.some((t) => t.status === 'FAILED'),
    WORKFLOW_MS,
  );

describe('skills, on the offline model', { timeout: 4 * WORKFLOW_MS }, () => {
  let server: TestServer;
  let scheduler: Scheduler;
  const roots: string[] = [];
  beforeAll(async () => {
    server = await startTestServer();
    const res = await server.gql(`mutation { createAgents(inputs: [
      { name: "Chief", role: CHIEF_OF_STAFF },
      { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
      { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
    ]) { id } }`);
    expect(res.errors).toBeUndefined();
    const runtime = createAgentRuntime({
      uow: server.services.uow,
      llm: loadConfig({}).llm,
      logger: server.logger,
      pubsub: server.pubsub,
      // Every plan is offered its family's CANDIDATE skill here (the share has a test of its own).
      lessons: { ...DEFAULT_EVOLUTION.lessons, candidateShare: 1 },
    });
    scheduler = startScheduler(server, agentExecutor(runtime), {
      stepTimeoutMs: 60_000,
      leaseMs: 20_000,
    });
  });
  afterAll(async () => {
    await scheduler?.stop({ abort: true });
    await server?.stop();
  });

  it('a successful multi-step plan of a recurring family becomes one CANDIDATE skill, strengthened by a plan of the same shape', async () => {
    const brief = async (market: string) => {
      const id = await submit(
        server,
        `Market brief on ${market}`,
        `Research the market for ${market} in Europe. Then write a one-page brief.`,
      );
      roots.push(id);
      expect((await completed(server, id)).find((t) => t.id === id)!.status).toBe('COMPLETED');
      return id;
    };
    await rate(server, await brief('electric bikes'), 0.9);
    await rate(server, await brief('heat pumps'), 0.8);
    await learn(server, 3); // two finished roots: not yet a recurring family
    expect(await skills(server)).toEqual([]);
    // A third root of the family makes it recurring: the roots before it are looked at again.
    await rate(server, await brief('solar panels'), 0.1); // a failed answer teaches nothing

    const events = server.pubsub.subscribe(TOPICS.evolution, {
      tenantId: server.tenantId,
      filter: (e) => (e as EvolutionEvent).kind === 'SKILL_CHANGED',
    });
    await learn(server, 3);
    const [skill, ...others] = await skills(server);
    expect(others).toEqual([]);
    expect(skill).toMatchObject({ status: 'CANDIDATE', strength: 2, family: FAMILY });
    const steps = JSON.parse(skill!.steps) as {
      capability: string;
      dependsOn: string[];
      key: string;
    }[];
    expect(steps.map((s) => s.capability)).toEqual(['research', 'writing']);
    expect(steps[1]!.dependsOn).toEqual([steps[0]!.key]);
    const derived = await rows<{ id: string }>(
      server,
      `MATCH (:Knowledge {id: $id})-[:DERIVED_FROM]->(t:Task) RETURN t.id AS id ORDER BY id`,
      { id: skill!.id },
    );
    expect(derived.map((d) => d.id)).toEqual([roots[0], roots[1]].sort());
    const [runs] = await rows<{ n: number }>(
      server,
      `MATCH (:Knowledge {id: $id})-[:DERIVED_FROM]->(r:Run)-[:OF]->(t:Task) WHERE t.id IN $roots
       RETURN count(r) AS n`,
      { id: skill!.id, roots: [roots[0], roots[1]] },
    );
    expect(runs!.n).toBeGreaterThanOrEqual(2);
    const history = await server.graph.read((tx) => transitionsOf(tx, server.tenantId, skill!.id));
    expect(history.map((h) => [h.from, h.to, h.actor])).toEqual([[null, 'CANDIDATE', 'PLATFORM']]);
    const kinds = [(await events.next()).value, (await events.next()).value] as EvolutionEvent[];
    expect(kinds.map((e) => [e.kind, e.subjectId])).toEqual([
      ['SKILL_CHANGED', skill!.id],
      ['SKILL_CHANGED', skill!.id],
    ]);
    await events.return?.();

    await learn(server, 3); // idempotent: each root counts once
    expect((await skills(server))[0]!.strength).toBe(2);
  });

  it('the next plan of the family is offered the skill, follows it, and marks it APPLIED_IN the planning run', async () => {
    const [skill] = await skills(server);
    const steps = JSON.parse(skill!.steps) as { title: string; capability: string }[];
    // Alone, the offline planner would split this into two writing steps.
    const next = await submit(
      server,
      'Market brief on e-scooters',
      'Write a brief about e-scooters and summarise it.',
    );
    const tasks = await completed(server, next);
    const planned = tasks.filter((t) => t.id !== next && t.key !== 'synthesis');
    expect(planned.map((t) => t.title).sort()).toEqual(steps.map((s) => s.title).sort());
    const caps = await rows<{ key: string; capability: string }>(
      server,
      `MATCH (s:Task)-[:SUBTASK_OF]->(:Task {id: $id}) WHERE s.key <> 'synthesis'
       MATCH (s)-[:REQUIRES]->(c:Capability) RETURN s.key AS key, c.name AS capability ORDER BY key`,
      { id: next },
    );
    expect(caps.map((c) => c.capability).sort()).toEqual(['research', 'writing']);
    const applied = await rows<{ n: number }>(
      server,
      `MATCH (:Knowledge {id: $skill})-[:APPLIED_IN]->(r:Run)-[:OF]->(:Task {id: $id})
       RETURN count(r) AS n`,
      { skill: skill!.id, id: next },
    );
    expect(applied[0]!.n).toBe(1);

    // A plan of the same shape strengthens the skill rather than making a near-copy.
    await rate(server, next, 0.9);
    await learn(server, 3);
    const after = await skills(server);
    expect(after.map((s) => [s.id, s.strength])).toEqual([[skill!.id, 3]]);

    const listed = await server.gql(
      `query($family: String) { skills(family: $family) { id family status strength
         steps { key title capability dependsOn condition }
         efficacy { applied notApplied delta } } }`,
      { family: FAMILY } as never,
    );
    expect(listed.errors).toBeUndefined();
    const [shown] = (
      listed.data as { skills: { id: string; strength: number; steps: unknown[] }[] }
    ).skills;
    expect(shown).toMatchObject({ id: skill!.id, strength: 3 });
    expect(shown!.steps).toHaveLength(2);
    // The roots it was first drawn from are older than it; the plan it shaped counts.
    expect((shown as unknown as { efficacy: unknown }).efficacy).toEqual({
      applied: 1,
      notApplied: 0,
      delta: null,
    });
  });

  it('a plan of a family with no skill is offered none', async () => {
    const other = await server.gql(
      `mutation { submitTask(input: { title: "Unrelated chore", description: "Research the weather. Then write a note.", family: "weather-note" }) { id } }`,
    );
    expect(other.errors).toBeUndefined();
    const id = (other.data as { submitTask: { id: string } }).submitTask.id;
    await completed(server, id);
    const applied = await rows<{ n: number }>(
      server,
      `MATCH (k:Knowledge {kind: 'SKILL'})-[:APPLIED_IN]->(:Run)-[:OF]->(:Task {id: $id})
       RETURN count(k) AS n`,
      { id },
    );
    expect(applied[0]!.n).toBe(0);
  });
});
