import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { forgetStructuredModes } from '../src/llm/structured.js';
import { FINISHED, startScheduler } from './utils/engine.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from './utils/openai-server.js';
import { runEntry, type AppProcess } from './utils/process.js';
import { isExecution, operatorScript, toolResultsOf } from './utils/operator-script.js';
import { untilDone } from './utils/progress.js';
import { startTestServer, type TestServer } from './utils/server.js';

// Issue 13: a step's agent loop is checkpointed in Neo4j; killed mid-loop, the retry on another
// worker resumes from the last checkpoint. The scripted OpenAI server counts the calls.

const FACT = 'Copper sells at 9000 USD a tonne';
const PROGRESS = 'price found, writing the report';

let server: TestServer;
let scripted: ScriptedOpenAI;
let worker: AppProcess | undefined;
let hung = false;

beforeAll(async () => {
  server = await startTestServer();
  forgetStructuredModes();
  scripted = await startScriptedOpenAI(
    operatorScript((req) => {
      switch (toolResultsOf(req).length) {
        case 0:
          return { toolCalls: [{ name: 'record_knowledge', args: { content: FACT } }] };
        case 1:
          return { toolCalls: [{ name: 'report_progress', args: { note: PROGRESS } }] };
        default:
          // The first worker's third call never comes back: it is killed while waiting.
          if (!hung) {
            hung = true;
            return { delayMs: 600_000, then: { content: 'never sent' } };
          }
          return { content: `Report: ${FACT}.` };
      }
    }),
  );
});

afterAll(async () => {
  worker?.child.kill('SIGKILL');
  await worker?.exited;
  await scripted?.close();
  await server?.stop();
});

const llmEnv = () => ({
  LLM_PROVIDER: 'compatible',
  LLM_BASE_URL: scripted.baseURL,
  LLM_MODEL: 'scripted-1',
  LLM_MAX_RETRIES: '0',
});

async function rows<T extends Record<string, unknown>>(cypher: string, params: object = {}) {
  return server.graph.read((tx) =>
    tx.run<T>({ cypher, params: { tenantId: server.tenantId, ...params } }),
  );
}

describe('a checkpointed agent loop killed mid-step', () => {
  it('resumes on another worker from its last checkpoint: no model or tool call before it runs again, and the killed attempt’s tool effects commit once', async () => {
    const made = await server.gql(`mutation { createAgents(inputs: [
      { name: "Pricer", role: MASTER_OPERATOR, capabilities: [{ name: "pricing" }] }
    ]) { id } }`);
    expect(made.errors).toBeUndefined();
    const plan = await server.gql<{ createTasks: { id: string; key: string }[] }, object>(
      `mutation { createTasks(inputs: [
        { key: "root", title: "Price report" },
        { key: "step", title: "Find the copper price", parentKey: "root",
          requiredCapabilities: ["pricing"] }
      ]) { id key } }`,
    );
    expect(plan.errors).toBeUndefined();
    const ids = Object.fromEntries(plan.data!.createTasks.map((t) => [t.key, t.id]));
    const started = await server.gql(`mutation { startWorkflow(taskId: "${ids.root}") { id } }`);
    expect(started.errors).toBeUndefined();

    // Worker 1, its own process on the scripted server, runs the step until its third call.
    const neo4j = inject('neo4j');
    worker = runEntry('src/cli/worker.ts', {
      NEO4J_URI: neo4j.uri,
      NEO4J_USER: neo4j.user,
      NEO4J_PASSWORD: neo4j.password,
      NEO4J_DATABASE: neo4j.database,
      ENGINE_POLL_MS: '50',
      // Short, for a quick takeover after the kill, but longer than a claim transaction takes on
      // a loaded machine: the lease runs from the claim's first statement, and with 3 s a claim
      // that took 2.5 s had its lease expired by its own next sweep, so worker 1 ran the step
      // twice before it was killed (round 32 of the loaded suite).
      ENGINE_LEASE_MS: '10000',
      WORKER_ID: 'worker-killed',
      WORKER_TENANTS: server.tenantId,
      ...llmEnv(),
    });
    await untilDone({
      read: async () => scripted.requests.filter(isExecution).length,
      done: (n) => n >= 3,
      progress: String,
      stallMs: 60_000,
      what: 'worker 1 did not reach its third model call',
    });
    worker.child.kill('SIGKILL');
    await worker.exited;
    const before = scripted.requests.filter(isExecution);
    expect(before.map((r) => toolResultsOf(r).length)).toEqual([0, 1, 2]);
    // What the killed attempt checkpointed, on its run.
    const saved = await rows<{ n: number }>(
      `MATCH (:Run {tenantId: $tenantId, worker: 'worker-killed'})-[:CHECKPOINTED]->(c:Checkpoint)
       RETURN count(c) AS n`,
    );
    expect(saved[0]!.n).toBeGreaterThanOrEqual(4);

    // Worker 2 takes the step over once worker 1's lease has expired (its own lease is the
    // tests' default, for the same reason).
    const runtime = createAgentRuntime({
      uow: server.services.uow,
      llm: loadConfig(llmEnv()).llm,
      logger: server.logger,
    });
    const scheduler = startScheduler(server, agentExecutor(runtime));
    try {
      await untilDone({
        read: () =>
          rows<{ s: string }>(
            `MATCH (t:Task {tenantId: $tenantId, id: $id}) RETURN t.status AS s`,
            { id: ids.root },
          ),
        done: ([r]) => FINISHED.includes(r?.s ?? ''),
        progress: ([r]) => r?.s ?? '',
        stallMs: 60_000,
        what: 'the workflow did not finish after the takeover',
      });
    } finally {
      await scheduler.stop({ abort: true });
    }

    const after = scripted.requests.filter(isExecution).slice(before.length);
    // One call: the third, made again with both tool results from the checkpoint.
    expect(after.map((r) => toolResultsOf(r).length)).toEqual([2]);
    const resumed = JSON.stringify(after[0]!.messages);
    expect(resumed).toContain(FACT);
    expect(resumed).toContain(PROGRESS);

    const runs = await rows<{ worker: string; status: string }>(
      `MATCH (:Task {tenantId: $tenantId, id: $id})<-[:OF]-(r:Run)
       RETURN r.worker AS worker, r.status AS status ORDER BY r.startedAt`,
      { id: ids.step },
    );
    expect(runs.map((r) => r.status)).toEqual(['ABANDONED', 'SUCCEEDED']);
    expect(runs[0]!.worker).toBe('worker-killed');
    const [step] = await rows<{ status: string; result: string }>(
      `MATCH (t:Task {tenantId: $tenantId, id: $id}) RETURN t.status AS status, t.result AS result`,
      { id: ids.step },
    );
    expect(step).toEqual({ status: 'COMPLETED', result: `Report: ${FACT}.` });

    // The killed attempt's tool calls were not run again, yet their effects committed, once.
    const knowledge = await rows<{ n: number }>(
      `MATCH (k:Knowledge {tenantId: $tenantId}) WHERE k.content = $fact RETURN count(k) AS n`,
      { fact: FACT },
    );
    expect(knowledge[0]!.n).toBe(1);
    const progress = await rows<{ n: number }>(
      `MATCH (m:Message {tenantId: $tenantId}) WHERE m.content CONTAINS $note RETURN count(m) AS n`,
      { note: PROGRESS },
    );
    expect(progress[0]!.n).toBe(1);
  }, 240_000);
});
