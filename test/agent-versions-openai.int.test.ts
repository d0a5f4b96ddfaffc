import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { versionsOfAgents } from '../graph/agent-version.repository.js';
import { writeEvaluation } from '../graph/evaluation.repository.js';
import { loadConfig } from '../src/config/config.js';
import { VersionStatus } from '../src/domain/agent-version.js';
import { EvaluationSource } from '../src/domain/evaluation.js';
import { proposeAgentVersion } from '../src/evolution/versions/propose.js';
import { forgetStructuredModes } from '../src/llm/structured.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from './utils/openai-server.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { assertProviderRequest } from './utils/strict-schema.js';
import { DEFAULT_MAX_TOKENS } from '../src/llm/config.js';

// proposeAgentVersion's reflection on the real ChatOpenAI client against the scripted loopback
// server (issue 12): one request, purpose reflection, strict-schema valid, showing the evidence.

let server: TestServer;
let scripted: ScriptedOpenAI;

beforeAll(async () => {
  server = await startTestServer();
  scripted = await startScriptedOpenAI(() => ({
    json: {
      instructions: 'Answer briefly.\nAlways state the unit of every number.',
      rationale: 'The person who rated the run asked for units.',
    },
    usage: { prompt_tokens: 300, completion_tokens: 40 },
  }));
});
afterAll(async () => {
  await scripted?.close();
  await server?.stop();
});
beforeEach(() => forgetStructuredModes());

describe('proposeAgentVersion against an OpenAI-compatible server', () => {
  it('sends one strict-schema valid reflection request with the evidence, and saves its answer as a CANDIDATE', async () => {
    const created = await server.gql<{ createAgent: { id: string } }, object>(
      `mutation { createAgent(input: { name: "Pricer", role: MASTER_OPERATOR, systemPrompt: "Answer briefly." }) { id } }`,
    );
    expect(created.errors).toBeUndefined();
    const agentId = created.data!.createAgent.id;
    const [live] = await server.graph.read((tx) =>
      versionsOfAgents(tx, server.tenantId, [agentId], [VersionStatus.LIVE]),
    );
    await server.services.uow.run(async (tx) => {
      const [run] = await tx.run<{ id: string }>({
        cypher: `
          MATCH (a:Agent {tenantId: $tenantId, id: $agentId}), (v:AgentVersion {id: $versionId})
          CREATE (t:Task {id: randomUUID(), tenantId: $tenantId, title: 'Price of copper',
                          description: 'Give the copper price.', status: 'COMPLETED',
                          priority: 'MEDIUM', attempts: 1, maxAttempts: 1, orchestrated: false,
                          version: 1, result: 'It is 9000.', createdAt: datetime(), updatedAt: datetime()})
          CREATE (r:Run {id: randomUUID(), tenantId: $tenantId, status: 'SUCCEEDED', attempt: 1,
                         startedAt: datetime(), endedAt: datetime(), createdAt: datetime(), updatedAt: datetime()})
          CREATE (r)-[:OF]->(t), (r)-[:BY]->(a), (r)-[:USED_VERSION]->(v)
          RETURN r.id AS id`,
        params: { tenantId: server.tenantId, agentId, versionId: live!.id },
      });
      await writeEvaluation(tx, {
        id: randomUUID(),
        tenantId: server.tenantId,
        subjectLabel: 'Run',
        subjectId: run!.id,
        source: EvaluationSource.PERSON,
        score: 0.1,
        rubric: 'a person rated it',
        reasons: [],
        comment: '9000 what? Always state the unit of every number.',
        by: 'a test person',
        offline: false,
      });
    });

    const llm = loadConfig({
      LLM_PROVIDER: 'compatible',
      LLM_BASE_URL: scripted.baseURL,
      LLM_MODEL: 'qwen2.5-3b-instruct',
      LLM_MODEL_REFLECTION: 'reflector-1',
      LLM_MAX_RETRIES: '0',
    }).llm;
    const v = await proposeAgentVersion(
      { uow: server.services.uow, llm, logger: server.logger, canaryShare: 0.25 },
      server.tenantId,
      agentId,
      'test operator',
    );
    expect(v).toMatchObject({
      status: 'CANDIDATE',
      origin: 'PLATFORM',
      version: 2,
      canaryShare: 0.25,
      parentId: live!.id,
      systemPrompt: 'Answer briefly.\nAlways state the unit of every number.',
    });
    expect(v.reason).toContain('The person who rated the run asked for units.');

    expect(scripted.requests).toHaveLength(1);
    const request = scripted.requests[0]!;
    expect(request.model).toBe('reflector-1');
    expect(assertProviderRequest(request, DEFAULT_MAX_TOKENS.reflection)).toBe(1);
    const asked = JSON.stringify(request.messages);
    expect(asked).toContain('Always state the unit of every number.');
    expect(asked).toContain('Price of copper');
    expect(asked).toContain('It is 9000.');

    // The call is booked to the agent, as a reflection.
    const calls = await server.graph.read((tx) =>
      tx.run<{ purpose: string; agentId: string }>({
        cypher: `MATCH (c:LLMCall {tenantId: $tenantId, purpose: 'reflection'})
                 RETURN c.purpose AS purpose, c.agentId AS agentId`,
        params: { tenantId: server.tenantId },
      }),
    );
    expect(calls).toEqual([{ purpose: 'reflection', agentId }]);
  });
});
