import { afterEach, describe, expect, it } from 'vitest';
import { agentExecutor } from '../src/agents/executor.js';
import { createAgentRuntime } from '../src/agents/runtime.js';
import { loadConfig } from '../src/config/config.js';
import type { Scheduler } from '../src/engine/scheduler.js';
import { purposeIn, type Purpose } from '../src/llm/routing.js';
import { startScheduler, sweepNow, waitForWorkflow } from './utils/engine.js';
import { eventually } from './utils/engine-steps.js';
import { captureLogger, type LogEntry } from './utils/log-capture.js';
import {
  startScriptedOpenAI,
  type ChatMessage,
  type ChatRequest,
  type Reply,
  type ScriptedOpenAI,
} from './utils/openai-server.js';
import { startTestServer, type TestServer } from './utils/server.js';

// Issue 10: aborts reach the model calls of planning and extraction, an aborted attempt writes
// nothing (so its REPORT can never stand in for the successful one's), and an invalid plan is
// logged. The real ChatOpenAI client against the scripted loopback server.

const text = (m: ChatMessage): string =>
  typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join('');
const all = (req: ChatRequest) => req.messages.map(text).join('\n');
const purposeOf = (req: ChatRequest): Purpose | undefined =>
  purposeIn(
    req.messages
      .filter((m) => m.role === 'system' || m.role === 'developer')
      .map(text)
      .join('\n'),
  );

const step = (key: string, title: string, capability: string, dependsOn: string[]) => ({
  key,
  title,
  instructions: `${title}, thoroughly.`,
  capability,
  dependsOn,
  output: `Notes for ${key}`,
});
const PLAN = { steps: [step('research', 'Research the market', 'research', [])] };

/** Answers every purpose at once; `intercept` may answer first. */
function reply(req: ChatRequest, intercept?: (req: ChatRequest) => Reply | undefined): Reply {
  const mine = intercept?.(req);
  if (mine) return mine;
  switch (purposeOf(req)) {
    case 'planning':
      return { json: PLAN };
    case 'execution':
      return { content: 'The market is large.' };
    case 'extraction':
      return { json: { items: [] } };
    case 'synthesis':
      return { content: 'Final answer.' };
    default:
      return { content: 'ok' };
  }
}

interface Setup {
  server: TestServer;
  scripted: ScriptedOpenAI;
  scheduler: Scheduler;
  logs: LogEntry[];
}
let running: Setup | undefined;
afterEach(async () => {
  if (!running) return;
  const { server, scripted, scheduler } = running;
  running = undefined;
  await scheduler.stop({ abort: true });
  await scripted.close();
  await server.stop();
});

async function setup(
  intercept: (req: ChatRequest) => Reply | undefined,
  stepTimeoutMs = 30_000,
): Promise<Setup> {
  const scripted = await startScriptedOpenAI((req) => reply(req, intercept));
  const server = await startTestServer();
  const res = await server.gql(`mutation { createAgents(inputs: [
    { name: "Chief", role: CHIEF_OF_STAFF },
    { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] }
  ]) { id } }`);
  expect(res.errors).toBeUndefined();
  const { llm } = loadConfig({
    LLM_PROVIDER: 'compatible',
    LLM_BASE_URL: scripted.baseURL,
    LLM_MODEL: 'gpt-4o-mini',
    LLM_MAX_RETRIES: '0', // the engine retries, not the client
  });
  const runtime = createAgentRuntime({ uow: server.services.uow, llm, logger: server.logger });
  const { logger, entries } = captureLogger('info');
  const scheduler = startScheduler(server, agentExecutor(runtime), {
    logger,
    stepTimeoutMs,
    backoff: { baseMs: 10, maxMs: 50 },
  });
  running = { server, scripted, scheduler, logs: entries };
  return running;
}

async function submit(server: TestServer): Promise<string> {
  const res = await server.gql(
    `mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`,
    { input: { title: 'E-bike brief', description: 'Research the market.' } } as never,
  );
  expect(res.errors).toBeUndefined();
  return (res.data as { submitTask: { id: string } }).submitTask.id;
}

const rows = async <T extends Record<string, unknown>>(
  server: TestServer,
  cypher: string,
  params: Record<string, unknown>,
) =>
  server.graph.read((tx) =>
    tx.run<T>({ cypher, params: { tenantId: server.tenantId, ...params } }),
  );

const WORKFLOW_MS = 60_000;

describe(
  'aborts reach the model calls, and an aborted attempt writes nothing',
  { timeout: 2 * WORKFLOW_MS },
  () => {
    it('aborts planning when its root is cancelled: the model request ends, no plan is left PENDING', async () => {
      // The planning answer would come long after the cancel.
      const { server, scripted, scheduler } = await setup((req) =>
        purposeOf(req) === 'planning' ? { delayMs: 25_000, then: { json: PLAN } } : undefined,
      );
      const rootId = await submit(server);
      await eventually('the planning request', () =>
        scripted.requests.some((r) => purposeOf(r) === 'planning'),
      );
      const cancelled = await server.gql(`mutation($id: ID!) { cancelTask(id: $id) { status } }`, {
        id: rootId,
      } as never);
      expect(cancelled.errors).toBeUndefined();
      // Far less than the 25 s the model would take: the abort reached the request.
      await eventually('planning to end after the cancel', () => scheduler.running === 0, 12_000);
      await sweepNow(server);
      const [left] = await rows<{ n: number }>(
        server,
        `MATCH (s:Task)-[:SUBTASK_OF]->(:Task {id: $rootId}) RETURN count(s) AS n`,
        { rootId },
      );
      expect(left!.n).toBe(0);
    });

    it('does not complete a step that timed out during extraction; the retry resumes its finished agent loop from the checkpoint, without asking the model again, and the report stands once', async () => {
      let executions = 0;
      let extractions = 0;
      const { server, scripted } = await setup((req) => {
        const purpose = purposeOf(req);
        if (purpose === 'execution') {
          executions++;
          return { content: `Research report, attempt ${executions}.` };
        }
        // The first attempt's extraction outlasts the step timeout.
        if (purpose === 'extraction' && ++extractions === 1)
          return { delayMs: 30_000, then: { json: { items: [] } } };
        return undefined;
      }, 4_000);
      const rootId = await submit(server);
      const tasks = await waitForWorkflow(
        server,
        rootId,
        (ts) => ['COMPLETED', 'FAILED'].includes(ts.find((t) => t.id === rootId)!.status),
        WORKFLOW_MS,
      );
      const research = tasks.find((t) => t.key === 'research')!;
      expect(research.status).toBe('COMPLETED');
      // The loop had finished before the timeout: its checkpoint gives the report (issue 13).
      expect(research.result).toBe('Research report, attempt 1.');
      expect(executions).toBe(1);
      expect(research.runs.map((r) => r.status)).toEqual(['FAILED', 'SUCCEEDED']);
      const reports = await rows<{ content: string }>(
        server,
        `MATCH (m:Message {tenantId: $tenantId, kind: 'REPORT'})-[:ABOUT]->(:Task {id: $id})
       RETURN m.content AS content`,
        { id: research.id },
      );
      // Committed by the attempt that succeeded, once.
      expect(reports).toEqual([{ content: 'Research report, attempt 1.' }]);
      // The timed-out attempt's model calls stay recorded (money spent), marked abandoned.
      const calls = () =>
        rows<{ run: string; abandoned: boolean | null; n: number }>(
          server,
          `MATCH (:Task {id: $id})<-[:OF]-(r:Run)-[:CALLED]->(c:LLMCall)
         RETURN r.status AS run, c.abandoned AS abandoned, count(c) AS n ORDER BY run`,
          { id: research.id },
        );
      await eventually('both attempts’ calls recorded', async () => {
        const seen = await calls();
        return seen.some((c) => c.run === 'FAILED') && seen.some((c) => c.run === 'SUCCEEDED');
      });
      const byRun = (await calls()).map((c) => [c.run, c.abandoned]);
      expect(byRun).toEqual([
        ['FAILED', true],
        ['SUCCEEDED', null],
      ]);
      const synthesis = scripted.requests.find((r) => purposeOf(r) === 'synthesis')!;
      expect(all(synthesis)).toContain('attempt 1.');
    });

    it('logs an invalid plan as the failure of its step, with the task, run and agent', async () => {
      const invalid = { steps: [step('write', 'Write the brief', 'research', ['nope'])] };
      const { server, logs } = await setup((req) =>
        purposeOf(req) === 'planning' ? { json: invalid } : undefined,
      );
      const rootId = await submit(server);
      await waitForWorkflow(
        server,
        rootId,
        (ts) => ts.find((t) => t.id === rootId)!.status === 'FAILED',
        WORKFLOW_MS,
      );
      // The engine logs after the transaction that fails the task commits: wait for the line.
      const find = () => logs.find((e) => e.taskId === rootId && e.level === 50);
      const entry = await eventually('an error entry about the root', find);
      expect(entry.msg).toMatch(/^step failed; the task FAILED: The plan was still invalid/);
      expect(entry).toMatchObject({ tenantId: server.tenantId, runId: expect.any(String) });
      expect(entry.agentId).toEqual(expect.any(String));
    });
  },
);
