import { randomUUID } from 'node:crypto';
import { uuid6 } from '@langchain/langgraph-checkpoint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putCheckpoint } from '../graph/checkpoint.repository.js';
import { generateApiKey } from '../src/auth/keys.js';
import { echoExecutor } from '../src/engine/executor.js';
import { checkpointRecord, taskWithRun } from './utils/checkpoint-fixtures.js';
import { startOfflineAgents, startScheduler, waitForWorkflow } from './utils/engine.js';
import { documentOf, task } from './utils/import-documents.js';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';

/*
 * A tenant's backlog caps (a walk: one tenant piled up 3,000 READY steps and 65,000 pending
 * chunks in minutes): what would pass TENANT_MAX_QUEUED_STEPS or TENANT_MAX_PENDING_EPISODES is
 * refused with LIMIT_EXCEEDED and writes nothing, another tenant is unaffected, and a step's
 * result is never refused.
 */

const CAPS = { maxQueuedSteps: 2, maxPendingEpisodes: 3 };

type Answer = {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
};

interface Tenant {
  id: string;
  gql(query: string, variables?: Record<string, unknown>): Promise<Answer>;
  count(cypher: string): Promise<number>;
}

const SUBMIT = `mutation($title: String!) { submitTask(input: { title: $title }) { id } }`;
const IMPORT = `mutation($document: JSONObject!) {
  importOrganisation(document: $document) { nodesCreated } }`;
const INGEST = `mutation($text: String!) { ingestDocument(title: "Notes", text: $text) { id } }`;

describe('backlog caps of a tenant', { timeout: 120_000 }, () => {
  let server: TestServer;
  const tenants: string[] = [];

  /** A tenant of its own on the server, with an ADMIN key and a Chief of Staff. */
  async function tenant(): Promise<Tenant> {
    const id = `test-${randomUUID()}`;
    tenants.push(id);
    const key = generateApiKey();
    await server.services.auth.ensureAdminKey(id, key, 'backlog test');
    return ofTenant(id, { authorization: `Bearer ${key}` });
  }

  function ofTenant(id: string, headers: Record<string, string>): Tenant {
    const t: Tenant = {
      id,
      gql: (query, variables) => server.gql(query, variables as never, headers) as never,
      count: async (cypher) => {
        const [row] = await server.graph.read((tx) =>
          tx.run<{ n: number }>({ cypher, params: { tenantId: id } }),
        );
        return Number(row!.n);
      },
    };
    return t;
  }

  async function withChief(t: Tenant): Promise<Tenant> {
    const res = await t.gql(`mutation { createAgents(inputs: [
      { name: "Chief", role: CHIEF_OF_STAFF },
      { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
      { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
    ]) { id } }`);
    expect(res.errors).toBeUndefined();
    return t;
  }

  const refusal = (res: Answer) => {
    expect(res.errors, JSON.stringify(res.data)).toHaveLength(1);
    return res.errors![0]!;
  };

  beforeAll(async () => {
    server = await startTestServer(undefined, {}, undefined, {}, { backlog: CAPS });
  });
  afterAll(async () => {
    for (const id of tenants) await deleteTenant(server.graph, id);
    await server.stop();
  });

  describe('TENANT_MAX_QUEUED_STEPS', () => {
    it('refuses a submitTask past the cap, writing nothing; another tenant still submits', async () => {
      const t = await withChief(await tenant());
      for (const title of ['One', 'Two']) {
        expect((await t.gql(SUBMIT, { title })).errors).toBeUndefined();
      }
      const error = refusal(await t.gql(SUBMIT, { title: 'Three' }));
      expect(error.extensions).toMatchObject({
        code: 'LIMIT_EXCEEDED',
        limit: 'TENANT_MAX_QUEUED_STEPS',
        count: 2,
        cap: 2,
      });
      expect(error.message).toBe(
        'submitTask would add 1 steps to the 2 of this organisation queued (PENDING or READY in workflows the engine runs), but TENANT_MAX_QUEUED_STEPS allows 2: let them run, cancel some (cancelTask), or raise TENANT_MAX_QUEUED_STEPS',
      );
      expect(await t.count('MATCH (n:Task {tenantId: $tenantId}) RETURN count(n) AS n')).toBe(2);

      const other = await withChief(await tenant());
      expect((await other.gql(SUBMIT, { title: 'Theirs' })).errors).toBeUndefined();
    });

    it('refuses a startWorkflow whose tasks would pass the cap, and starts one that fits', async () => {
      const t = await tenant();
      const create = async (steps: number) => {
        const children = Array.from(
          { length: steps },
          (_, i) => `{ title: "Step ${i}", parentKey: "root" }`,
        );
        const res = await t.gql(`mutation { createTasks(inputs: [
          { key: "root", title: "Root" }, ${children.join(', ')}
        ]) { id } }`);
        expect(res.errors).toBeUndefined();
        return (res.data!.createTasks as { id: string }[])[0]!.id;
      };
      const START = `mutation($id: ID!) { startWorkflow(taskId: $id) { id orchestrated } }`;
      // Tasks the engine does not run are not queued: createTasks is not held to the cap.
      const big = await create(2);
      const error = refusal(await t.gql(START, { id: big }));
      expect(error.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', count: 0, adding: 3 });
      expect(error.message).toContain('startWorkflow would add 3 steps to the 0 of this');
      expect(
        await t.count(
          'MATCH (n:Task {tenantId: $tenantId}) WHERE n.orchestrated RETURN count(n) AS n',
        ),
      ).toBe(0);

      const small = await create(1);
      expect((await t.gql(START, { id: small })).errors).toBeUndefined();
      expect(refusal(await t.gql(START, { id: big })).message).toContain('to the 2 of this');
    });

    it('refuses an importOrganisation of orchestrated waiting tasks past the cap', async () => {
      const t = await tenant();
      const tasks = (n: number) =>
        Array.from({ length: n }, () => task(randomUUID(), { orchestrated: true }));
      const error = refusal(await t.gql(IMPORT, { document: documentOf(tasks(3)) }));
      expect(error.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', adding: 3, cap: 2 });
      expect(error.message).toContain('importOrganisation would add 3 steps');
      expect(await t.count('MATCH (n:Task {tenantId: $tenantId}) RETURN count(n) AS n')).toBe(0);
      expect((await t.gql(IMPORT, { document: documentOf(tasks(2)) })).errors).toBeUndefined();
    });

    it('counts imported steps AWAITING_INPUT, which come back READY, against the cap', async () => {
      const t = await tenant();
      const held = { orchestrated: true, status: 'AWAITING_INPUT', waitingReason: 'a tool call' };
      const tasks = (n: number) => Array.from({ length: n }, () => task(randomUUID(), held));
      const error = refusal(await t.gql(IMPORT, { document: documentOf(tasks(3)) }));
      expect(error.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', adding: 3, cap: 2 });
      expect(await t.count('MATCH (n:Task {tenantId: $tenantId}) RETURN count(n) AS n')).toBe(0);
      expect((await t.gql(IMPORT, { document: documentOf(tasks(2)) })).errors).toBeUndefined();
      const ready = `MATCH (n:Task {tenantId: $tenantId, status: 'READY'}) RETURN count(n) AS n`;
      expect(await t.count(ready)).toBe(2);
    });

    const RETRY = `mutation($id: ID!) { retryTask(id: $id) { status } }`;
    const CANCEL = `mutation($id: ID!) { cancelTask(id: $id) { status } }`;
    const submitted = async (t: Tenant, title: string) => {
      const res = await t.gql(SUBMIT, { title });
      expect(res.errors).toBeUndefined();
      return (res.data!.submitTask as { id: string }).id;
    };
    const statusOf = async (t: Tenant, id: string) =>
      ((await t.gql(`query($id: ID!) { task(id: $id) { status } }`, { id })).data!.task as Task)
        .status;
    type Task = { status: string };

    it('refuses a retryTask that would reopen steps past the cap, writing nothing', async () => {
      const t = await withChief(await tenant());
      const retried = await submitted(t, 'One');
      expect((await t.gql(CANCEL, { id: retried })).errors).toBeUndefined();
      const [two] = [await submitted(t, 'Two'), await submitted(t, 'Three')];
      const error = refusal(await t.gql(RETRY, { id: retried }));
      expect(error.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', count: 2, adding: 1 });
      expect(error.message).toContain('retryTask would add 1 steps to the 2 of this');
      expect(await statusOf(t, retried)).toBe('CANCELLED');
      expect((await t.gql(CANCEL, { id: two })).errors).toBeUndefined();
      expect((await t.gql(RETRY, { id: retried })).data).toEqual({
        retryTask: { status: 'PENDING' },
      });
    });

    it('refuses a forkRun past the cap, writing nothing', async () => {
      const t = await withChief(await tenant());
      const { runId } = await taskWithRun(server.graph, t.id, { taskStatus: 'COMPLETED' });
      const record = checkpointRecord(runId, uuid6(-1));
      await server.graph.write((tx) => putCheckpoint(tx, t.id, runId, record, 10));
      const [point] = await server.graph.read((tx) =>
        tx.run<{ id: string }>({
          cypher: 'MATCH (:Run {id: $runId})-[:CHECKPOINTED]->(c:Checkpoint) RETURN c.id AS id',
          params: { runId },
        }),
      );
      const one = await submitted(t, 'One');
      await submitted(t, 'Two');
      const FORK = `mutation($runId: ID!, $id: ID!) { forkRun(runId: $runId, checkpointId: $id) { status } }`;
      const fork = () => t.gql(FORK, { runId, id: point!.id });
      const error = refusal(await fork());
      expect(error.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', count: 2, adding: 1 });
      expect(error.message).toContain('forkRun would add 1 steps to the 2 of this');
      const forks = 'MATCH (n:Task {tenantId: $tenantId})-[:FORK_OF]->() RETURN count(n) AS n';
      expect(await t.count(forks)).toBe(0);
      expect((await t.gql(CANCEL, { id: one })).errors).toBeUndefined();
      expect((await fork()).data).toEqual({ forkRun: { status: 'READY' } });
    });

    it('refuses an approvePlan whose edits add steps past the cap; a swap of a step passes', async () => {
      const t = await tenant();
      const [root, step, synthesis] = [randomUUID(), randomUUID(), randomUUID()];
      const IMPORT = `mutation($document: JSONObject!) { importOrganisation(document: $document) { nodeIds } }`;
      const imported = await t.gql(IMPORT, {
        document: documentOf(
          [
            task(root, {
              title: 'Brief',
              status: 'AWAITING_APPROVAL',
              waitingReason: 'the plan waits for approval',
              orchestrated: true,
              needsPlan: true,
              planApproval: true,
            }),
            task(step, { key: 'a', title: 'Research', orchestrated: true }),
            task(synthesis, { key: 'synthesis', title: 'Synthesis', orchestrated: true }),
          ],
          [
            { type: 'SUBTASK_OF', from: step, to: root, properties: {} },
            { type: 'SUBTASK_OF', from: synthesis, to: root, properties: {} },
            { type: 'DEPENDS_ON', from: synthesis, to: step, properties: {} },
          ],
        ),
      });
      expect(imported.errors).toBeUndefined();
      const rootId = (imported.data!.importOrganisation as { nodeIds: string[] }).nodeIds[0]!;
      const APPROVE = `mutation($id: ID!, $edits: PlanEditsInput) { approvePlan(taskId: $id, edits: $edits) { status } }`;
      const add = [{ key: 'b', title: 'Write it' }];
      const error = refusal(await t.gql(APPROVE, { id: rootId, edits: { add } }));
      expect(error.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', count: 2, adding: 1 });
      expect(error.message).toContain('approvePlan would add 1 steps to the 2 of this');
      expect(await statusOf(t, rootId)).toBe('AWAITING_APPROVAL');
      expect(await t.count('MATCH (n:Task {tenantId: $tenantId}) RETURN count(n) AS n')).toBe(3);
      const swap = await t.gql(APPROVE, { id: rootId, edits: { add, remove: ['a'] } });
      expect(swap.data).toEqual({ approvePlan: { status: 'IN_PROGRESS' } });
    });

    it('fails a planning step whose plan would pass the cap, writing no step of it', async () => {
      const t = await withChief(ofTenant(server.tenantId, {}));
      const scheduler = startOfflineAgents(server, { leaseMs: 10_000 }, CAPS);
      try {
        const res = await t.gql(
          `mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`,
          {
            input: {
              title: 'Electric bike market brief',
              description:
                'Research the market size for electric bikes in Europe. Then write a one-page brief.',
            },
          },
        );
        expect(res.errors).toBeUndefined();
        const rootId = (res.data!.submitTask as { id: string }).id;
        const [root, ...steps] = await waitForWorkflow(server, rootId, (all) =>
          all.some((s) => s.status === 'FAILED'),
        );
        expect(steps).toEqual([]);
        expect(root!.status).toBe('FAILED');
        expect(root!.attempts).toBe(1);
        expect(root!.error).toMatch(
          /^LIMIT_EXCEEDED: A plan of \d+ steps and a synthesis would add \d+ steps to the 0 of this organisation queued .*TENANT_MAX_QUEUED_STEPS allows 2: .*; then retryTask plans it again$/,
        );
      } finally {
        await scheduler.stop();
      }
    });
  });

  describe('TENANT_MAX_PENDING_EPISODES', () => {
    it('refuses documents and messages past the cap, writing nothing; another tenant still adds', async () => {
      const t = await tenant();
      for (const text of ['Acme is a company.', 'Kite is a farm.', 'Ana is a person.']) {
        expect((await t.gql(INGEST, { text })).errors).toBeUndefined();
      }
      const error = refusal(await t.gql(INGEST, { text: 'Bo is a dog.' }));
      expect(error.extensions).toMatchObject({
        code: 'LIMIT_EXCEEDED',
        limit: 'TENANT_MAX_PENDING_EPISODES',
        count: 3,
        cap: 3,
      });
      expect(error.message).toBe(
        'This document would add 1 episodes to the 3 of this organisation waiting for memory ingestion (PENDING or INGESTING), but TENANT_MAX_PENDING_EPISODES allows 3: let ingestion catch up (episodes(filter: { status: PENDING })), or raise TENANT_MAX_PENDING_EPISODES',
      );
      const message = refusal(
        await t.gql(
          `mutation { sendMessage(input: { content: "Hello", broadcast: true }) { id } }`,
        ),
      );
      expect(message.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', count: 3 });
      expect(message.message).toMatch(/^This message would add 1 episodes to the 3/);
      expect(await t.count('MATCH (n:Message {tenantId: $tenantId}) RETURN count(n) AS n')).toBe(0);

      // The upload answers as /documents does for its other refusals: JSON errors, a status.
      const key = generateApiKey();
      await server.services.auth.ensureAdminKey(t.id, key, 'backlog upload');
      const form = new FormData();
      form.append('file', new Blob(['Bo is a dog.'], { type: 'text/plain' }), 'bo.txt');
      const upload = await fetch(new URL('/documents', server.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
        body: form,
      });
      expect(upload.status).toBe(429);
      const body = (await upload.json()) as Answer;
      expect(body.errors![0]!.extensions).toMatchObject({
        code: 'LIMIT_EXCEEDED',
        limit: 'TENANT_MAX_PENDING_EPISODES',
      });
      expect(await t.count('MATCH (n:Document {tenantId: $tenantId}) RETURN count(n) AS n')).toBe(
        3,
      );
      expect(await t.count('MATCH (n:Episode {tenantId: $tenantId}) RETURN count(n) AS n')).toBe(3);

      const other = await tenant();
      expect((await other.gql(INGEST, { text: 'Theirs.' })).errors).toBeUndefined();
    });

    it("queues a finished step's result at the cap: the engine's episodes are never refused", async () => {
      const t = ofTenant(server.tenantId, {});
      const pending =
        "MATCH (n:Episode {tenantId: $tenantId}) WHERE n.status IN ['PENDING', 'INGESTING'] RETURN count(n) AS n";
      for (let i = 0; (await t.count(pending)) < CAPS.maxPendingEpisodes; i++) {
        // Each its own text: the same text again is the same document, queueing nothing.
        expect((await t.gql(INGEST, { text: `Acme is company ${i}.` })).errors).toBeUndefined();
      }
      const created = await t.gql(`mutation { createTasks(inputs: [
        { key: "root", title: "Echo" }, { title: "Say it", parentKey: "root" }
      ]) { id } }`);
      expect(created.errors).toBeUndefined();
      const rootId = (created.data!.createTasks as { id: string }[])[0]!.id;
      const started = await t.gql(`mutation($id: ID!) { startWorkflow(taskId: $id) { id } }`, {
        id: rootId,
      });
      expect(started.errors).toBeUndefined();
      const scheduler = startScheduler(server, echoExecutor());
      try {
        await waitForWorkflow(server, rootId, (all) => all[0]!.status === 'COMPLETED');
      } finally {
        await scheduler.stop();
      }
      expect(
        await t.count(
          "MATCH (n:Episode {tenantId: $tenantId, kind: 'RUN_RESULT', status: 'PENDING'}) RETURN count(n) AS n",
        ),
      ).toBeGreaterThanOrEqual(1);
      expect(await t.count(pending)).toBeGreaterThan(CAPS.maxPendingEpisodes);
    });
  });
});
