import { randomUUID } from 'node:crypto';
import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import type { BaseMessage } from '@langchain/core/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versionsOfAgents } from '../graph/agent-version.repository.js';
import { useVersions } from '../graph/used-version.repository.js';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { VersionStatus } from '../src/domain/agent-version.js';
import { addCandidate } from '../src/evolution/versions/lifecycle.js';
import { startScheduler, waitForWorkflow } from './utils/engine.js';
import { startTestServer, type TestServer } from './utils/server.js';

// Every run records the agent version it used (issue 12), end to end on the offline model, and
// the chains run with that version's instructions: here the operator's candidate takes every
// run (canary share 1), the Chief of Staff runs its live version.

const WORKFLOW_MS = 90_000;

/** The system prompts of every model call, by agent id. */
class SystemPrompts extends BaseCallbackHandler {
  name = 'system-prompts';
  constructor(
    private readonly agentId: string,
    private readonly seen: Map<string, string[]>,
  ) {
    super();
  }
  override handleChatModelStart(_llm: unknown, messages: BaseMessage[][]): void {
    const system = messages[0]?.find((m) => m.type === 'system');
    const list = this.seen.get(this.agentId) ?? [];
    list.push(system ? String(system.content) : '');
    this.seen.set(this.agentId, list);
  }
}

describe('the version a run uses', { timeout: 2 * WORKFLOW_MS }, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  it('is recorded for every run, and the chains use its instructions', async () => {
    const created = await server.gql<{ createAgents: { id: string; name: string }[] }, object>(
      `mutation { createAgents(inputs: [
        { name: "Chief", role: CHIEF_OF_STAFF, systemPrompt: "CHIEF-LIVE-INSTRUCTIONS" },
        { name: "Doer", role: MASTER_OPERATOR, systemPrompt: "DOER-LIVE-INSTRUCTIONS",
          capabilities: [{ name: "research" }, { name: "analysis" }, { name: "writing" }] }
      ]) { id name } }`,
    );
    expect(created.errors).toBeUndefined();
    const [chief, doer] = created.data!.createAgents;
    const [doerLive] = await server.graph.read((tx) =>
      versionsOfAgents(tx, server.tenantId, [doer!.id], [VersionStatus.LIVE]),
    );
    const candidate = await server.services.uow.run((tx, emit) =>
      addCandidate(tx, emit, {
        tenantId: server.tenantId,
        live: doerLive!,
        systemPrompt: 'DOER-CANDIDATE-INSTRUCTIONS',
        reason: 'a test candidate that takes every run',
        canaryShare: 1,
        actor: 'PLATFORM',
      }),
    );

    const seen = new Map<string, string[]>();
    const runtime = createAgentRuntime({
      uow: server.services.uow,
      llm: loadConfig({}).llm,
      logger: server.logger,
      observe: (step) => [new SystemPrompts(step.agent.id, seen)],
    });
    const scheduler = startScheduler(server, agentExecutor(runtime), {
      stepTimeoutMs: 30_000,
      leaseMs: 10_000,
    });
    try {
      const submitted = await server.gql<{ submitTask: { id: string } }, object>(
        `mutation { submitTask(input: { title: "Bike market brief",
           description: "Research the market size for electric bikes. Then write a short brief." }) { id } }`,
      );
      expect(submitted.errors).toBeUndefined();
      const rootId = submitted.data!.submitTask.id;
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
      await scheduler.stop();
    }

    const runs = await server.graph.read((tx) =>
      tx.run<{ agent: string; versions: string[] }>({
        cypher: `
          MATCH (r:Run {tenantId: $tenantId})-[:BY]->(a:Agent)
          RETURN a.id AS agent, [(r)-[:USED_VERSION]->(v:AgentVersion) | v.id] AS versions`,
        params: { tenantId: server.tenantId },
      }),
    );
    const [chiefLive] = await server.graph.read((tx) =>
      versionsOfAgents(tx, server.tenantId, [chief!.id], [VersionStatus.LIVE]),
    );
    expect(runs.length).toBeGreaterThanOrEqual(3);
    for (const r of runs) {
      expect(r.versions).toEqual([r.agent === doer!.id ? candidate.id : chiefLive!.id]);
    }
    expect(runs.some((r) => r.agent === doer!.id)).toBe(true);

    // The operator's calls carried the candidate's instructions, never the live ones.
    // (Its own prompts: the judge's and the extractor's calls have system prompts of their own.)
    const doerPrompts = (seen.get(doer!.id) ?? []).filter((p) => p.startsWith('You are Doer'));
    expect(doerPrompts.length).toBeGreaterThan(0);
    expect(doerPrompts.every((p) => p.includes('DOER-CANDIDATE-INSTRUCTIONS'))).toBe(true);
    expect(doerPrompts.some((p) => p.includes('DOER-LIVE-INSTRUCTIONS'))).toBe(false);
    expect((seen.get(chief!.id) ?? []).some((p) => p.includes('CHIEF-LIVE-INSTRUCTIONS'))).toBe(
      true,
    );

    // Agent.version stays the live version's number while the candidate runs its share.
    const doerNow = await server.gql<
      { agent: { version: number; liveVersion: { id: string } } },
      object
    >(`query($id: ID!) { agent(id: $id) { version liveVersion { id } } }`, { id: doer!.id });
    expect(doerNow.data!.agent).toEqual({ version: 1, liveVersion: { id: doerLive!.id } });
    const history = await server.gql<{ agentVersions: { id: string; runs: number }[] }, object>(
      `query($id: ID!) { agentVersions(agentId: $id) { id runs } }`,
      { id: doer!.id },
    );
    const doerRuns = runs.filter((r) => r.agent === doer!.id).length;
    expect(history.data!.agentVersions).toEqual([
      { id: candidate.id, runs: doerRuns },
      { id: doerLive!.id, runs: 0 },
    ]);
  });

  it('gives the agent of a claimed run from before versions its version 1, and records its use', async () => {
    const agentId = randomUUID();
    const [row] = await server.graph.write((tx) =>
      tx.run<{ runId: string }>({
        cypher: `CREATE (:Agent {id: $agentId, tenantId: $tenantId, name: 'Imported', role: 'MASTER_OPERATOR',
                   status: 'IDLE', active: true, systemPrompt: 'imported prompt', model: null,
                   createdAt: datetime(), updatedAt: datetime()})
                 CREATE (r:Run {id: randomUUID(), tenantId: $tenantId, status: 'RUNNING', attempt: 1,
                                startedAt: datetime(), createdAt: datetime(), updatedAt: datetime()})
                 RETURN r.id AS runId`,
        params: { agentId, tenantId: server.tenantId },
      }),
    );
    const runId = row!.runId;
    const claims = [{ runId, agentId, tenantId: server.tenantId }];
    const used = await server.services.uow.run((tx) => useVersions(tx, claims));
    expect(used.created.map((v) => [v.version, v.status])).toEqual([[1, 'LIVE']]);
    expect(used.byRun.get(runId)).toMatchObject({
      id: used.created[0]!.id,
      systemPrompt: 'imported prompt',
    });
    const [edge] = await server.graph.read((tx) =>
      tx.run<{ versionId: string }>({
        cypher: `MATCH (:Run {id: $runId})-[:USED_VERSION]->(v:AgentVersion) RETURN v.id AS versionId`,
        params: { runId },
      }),
    );
    expect(edge).toEqual({ versionId: used.created[0]!.id });
  });
});
