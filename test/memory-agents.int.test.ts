import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as entities from '../graph/memory/entity.repository.js';
import * as facts from '../graph/memory/fact.repository.js';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { normaliseName } from '../src/memory/normalise.js';
import { startScheduler, waitForWorkflow } from './utils/engine.js';
import { startTestServer, type TestServer } from './utils/server.js';

/** How long the offline agents may take for the whole workflow on a loaded machine. */
const WORKFLOW_MS = 60_000;

const rows = async <T extends Record<string, unknown>>(
  server: TestServer,
  cypher: string,
  params: Record<string, unknown> = {},
) =>
  server.graph.read((tx) =>
    tx.run<T>({ cypher, params: { tenantId: server.tenantId, ...params } }),
  );

describe('memory in the agents’ prompts', { timeout: 2 * WORKFLOW_MS }, () => {
  let server: TestServer;
  const ids = { entity: randomUUID(), fact: randomUUID(), unrelated: randomUUID() };

  beforeAll(async () => {
    server = await startTestServer();
    const res = await server.gql(`mutation { createAgents(inputs: [
      { name: "Chief", role: CHIEF_OF_STAFF },
      { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
      { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
    ]) { id } }`);
    expect(res.errors).toBeUndefined();
    await server.services.uow.run(async (tx) => {
      await entities.createEntities(tx, server.tenantId, [
        {
          id: ids.entity,
          name: 'Electric bikes',
          normName: normaliseName('Electric bikes'),
          type: 'Product',
          summary: 'Pedal bikes with a motor, a fast-growing market in Europe',
          aliases: [],
        },
        {
          id: ids.unrelated,
          name: 'Tulip bulbs',
          normName: normaliseName('Tulip bulbs'),
          type: 'Product',
          summary: 'Flowers',
          aliases: [],
        },
      ]);
      await facts.createFacts(tx, server.tenantId, [
        {
          id: ids.fact,
          subjectId: ids.entity,
          predicate: 'market_size',
          objectId: null,
          value: '5 billion euros',
          text: 'The market size for electric bikes in Europe is 5 billion euros',
          confidence: 1,
          validFrom: null,
          episodeIds: [],
        },
      ]);
    });
  });
  afterAll(() => server?.stop());

  it('shows planning the relevant entities and facts, hands them on as context packages, and links them APPLIED_IN the runs that used them', async () => {
    const runtime = createAgentRuntime({
      uow: server.services.uow,
      llm: loadConfig({}).llm,
      logger: server.logger,
    });
    const scheduler = startScheduler(server, agentExecutor(runtime), {
      stepTimeoutMs: 30_000,
      leaseMs: 10_000,
    });
    let rootId = '';
    try {
      const submitted = await server.gql(
        `mutation { submitTask(input: {
          title: "Electric bikes brief",
          description: "Research the market size for electric bikes in Europe. Then write a one-page brief."
        }) { id } }`,
      );
      expect(submitted.errors).toBeUndefined();
      rootId = (submitted.data as { submitTask: { id: string } }).submitTask.id;
      const tasks = await waitForWorkflow(
        server,
        rootId,
        (all) =>
          all.find((t) => t.id === rootId)?.status === 'COMPLETED' ||
          all.some((t) => t.status === 'FAILED'),
        WORKFLOW_MS,
      );
      expect(tasks.filter((t) => t.status === 'FAILED')).toEqual([]);
    } finally {
      await scheduler.stop({ abort: true });
    }

    // The planning run used the entity and the fact, and not the unrelated entity.
    const planning = await rows<{ id: string }>(
      server,
      `MATCH (n)-[:APPLIED_IN]->(:Run {tenantId: $tenantId})-[:OF]->(:Task {id: $rootId})
       RETURN n.id AS id ORDER BY id`,
      { rootId },
    );
    expect(planning.map((r) => r.id)).toEqual([ids.entity, ids.fact].sort());

    // The research step got a context package with them, and its run used it.
    const packages = await rows<{ key: string; items: string[]; applied: string[] }>(
      server,
      `MATCH (:Task {id: $rootId})<-[:SUBTASK_OF]-(s:Task)
       RETURN s.key AS key,
         COLLECT { MATCH (s)-[:CONTEXT]->(n) RETURN n.id ORDER BY n.id } AS items,
         COLLECT { MATCH (n)-[:APPLIED_IN]->(:Run)-[:OF]->(s) RETURN DISTINCT n.id ORDER BY n.id } AS applied
       ORDER BY key`,
      { rootId },
    );
    const research = packages.filter((p) => p.items.includes(ids.fact));
    expect(research.length).toBeGreaterThanOrEqual(1);
    for (const p of research) {
      expect(p.items).not.toContain(ids.unrelated);
      for (const item of p.items) expect(p.applied).toContain(item);
    }
  });
});
