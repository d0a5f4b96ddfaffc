import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { HumanMessage } from '@langchain/core/messages';
import { LLMCallRecorder } from '../src/llm/accounting.js';
import { createChatModel, describeModel } from '../src/llm/models.js';
import { captureSpans } from './utils/span-capture.js';
import { graphql } from './generated/index.js';
import { startOfflineAgents, waitForWorkflow } from './utils/engine.js';
import { createPlan, startWorkflow } from './utils/engine-steps.js';
import { captureLogger } from './utils/log-capture.js';
import { runWorker } from './utils/process.js';
import { startTestServer, type TestServer } from './utils/server.js';

const Submit = graphql(`
  mutation TracingSubmit($input: SubmitTaskInput!) {
    submitTask(input: $input) {
      id
    }
  }
`);

const WORKFLOW_MS = 60_000;

const idOf = (s: ReadableSpan) => s.spanContext().spanId;
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

/** The spans above `span`, nearest first. */
function ancestors(span: ReadableSpan, all: ReadableSpan[]): ReadableSpan[] {
  const byId = new Map(all.map((s) => [idOf(s), s]));
  const up: ReadableSpan[] = [];
  for (let p = byId.get(parentOf(span) ?? ''); p; p = byId.get(parentOf(p) ?? '')) up.push(p);
  return up;
}

const sum = (spans: ReadableSpan[], key: string) =>
  spans.reduce((n, s) => n + Number(s.attributes[key] ?? 0), 0);

// Spans of this process, recorded in memory by the SDK (setup.ts) started for this file.
const exporter = captureSpans();

describe('traces of a submitted task', { timeout: 2 * WORKFLOW_MS }, () => {
  let server: TestServer;
  let spans: ReadableSpan[];
  let rootId: string;
  const logs = captureLogger('debug');

  beforeAll(async () => {
    server = await startTestServer();
    const res = await server.gql(`mutation { createAgents(inputs: [
      { name: "Chief", role: CHIEF_OF_STAFF },
      { name: "Researcher", role: MASTER_OPERATOR, capabilities: [{ name: "research" }] },
      { name: "Writer", role: MASTER_OPERATOR, capabilities: [{ name: "writing" }] }
    ]) { id } }`);
    expect(res.errors).toBeUndefined();
    const scheduler = startOfflineAgents(server, {
      stepTimeoutMs: 30_000,
      logger: logs.logger,
    });
    try {
      exporter.reset();
      const submitted = await server.gql(Submit, {
        input: {
          title: 'Bike brief',
          description: 'Research the market for electric bikes. Then write a short brief.',
        },
      });
      expect(submitted.errors).toBeUndefined();
      rootId = submitted.data!.submitTask.id;
      await waitForWorkflow(
        server,
        rootId,
        (all) => all.find((t) => t.id === rootId)?.status === 'COMPLETED',
        WORKFLOW_MS,
      );
      while (scheduler.running > 0) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await scheduler.stop();
    }
    spans = exporter.getFinishedSpans();
  });
  afterAll(() => server?.stop());

  it('hangs every step under the operation that submitted the task, in its trace', () => {
    const operation = spans.find((s) => s.name === 'mutation TracingSubmit')!;
    expect(operation).toBeDefined();
    expect(operation.attributes['graphql.operation.type']).toBe('mutation');
    const steps = spans.filter((s) => s.name.startsWith('step '));
    expect(steps.length).toBeGreaterThanOrEqual(3); // planning, at least one step, synthesis
    for (const step of steps) {
      expect(step.spanContext().traceId).toBe(operation.spanContext().traceId);
      expect(parentOf(step)).toBe(idOf(operation));
    }
  });

  it('has an invoke_agent span per step, with chat and execute_tool spans below it', () => {
    const agents = spans.filter((s) => s.name.startsWith('invoke_agent '));
    const steps = spans.filter((s) => s.name.startsWith('step '));
    expect(agents.length).toBe(steps.length);
    for (const a of agents) {
      expect(steps.map(idOf)).toContain(parentOf(a));
      expect(a.attributes['gen_ai.operation.name']).toBe('invoke_agent');
      expect(a.attributes['gen_ai.agent.name']).toBe(a.name.slice('invoke_agent '.length));
      expect(a.attributes['gen_ai.agent.id']).toMatch(/./);
      expect(a.attributes['gen_ai.agent.version']).toMatch(/^\d+$/);
    }
    const chats = spans.filter((s) => s.name.startsWith('chat '));
    const tools = spans.filter((s) => s.name.startsWith('execute_tool '));
    expect(chats.length).toBeGreaterThan(0);
    expect(tools.length).toBeGreaterThan(0);
    for (const s of [...chats, ...tools]) {
      expect(ancestors(s, spans).some((a) => a.name.startsWith('invoke_agent '))).toBe(true);
    }
    for (const c of chats) {
      expect(c.attributes['gen_ai.operation.name']).toBe('chat');
      expect(c.attributes['gen_ai.provider.name']).toBe('offline');
      expect(c.name).toBe(`chat ${String(c.attributes['gen_ai.request.model'])}`);
      expect(c.attributes['gen_ai.request.model']).toBe('offline/deterministic-v1');
      expect(c.attributes['gen_ai.response.model']).toMatch(/./);
    }
    for (const t of tools) {
      expect(t.attributes['gen_ai.tool.name']).toBe(t.name.slice(13));
      // Content capture is off here: no arguments, no results, no messages.
      expect(t.attributes['gen_ai.tool.call.arguments']).toBeUndefined();
      expect(t.attributes['gen_ai.tool.call.result']).toBeUndefined();
    }
    for (const c of chats) expect(c.attributes['gen_ai.input.messages']).toBeUndefined();
  });

  it("counts in its chat spans exactly the tokens of the graph's LLMCall records", async () => {
    const chats = spans.filter((s) => s.name.startsWith('chat '));
    const [row] = await server.graph.read((tx) =>
      tx.run<{ calls: number; input: number; output: number }>({
        cypher: `MATCH (c:LLMCall {tenantId: $tenantId})
                 RETURN count(c) AS calls, sum(c.promptTokens) AS input, sum(c.completionTokens) AS output`,
        params: { tenantId: server.tenantId },
      }),
    );
    expect(chats.length).toBe(row!.calls);
    expect(sum(chats, 'gen_ai.usage.input_tokens')).toBe(row!.input);
    expect(sum(chats, 'gen_ai.usage.output_tokens')).toBe(row!.output);
    // No message content unless OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT says so.
    expect(chats.filter((c) => 'gen_ai.input.messages' in c.attributes)).toEqual([]);
  });

  it('names each Cypher statement, never its parameters', () => {
    const cypher = spans.filter((s) => s.attributes['db.system.name'] === 'neo4j');
    expect(cypher.map((s) => s.name)).toContain('run.repository.endRunBatch'); // in a step's span
    expect(cypher.map((s) => s.name)).toContain('task.repository.createTasks'); // the request's
    const keys = new Set(cypher.flatMap((s) => Object.keys(s.attributes)));
    // A statement that failed (a deadlock, retried) says how: its error's type, nothing else.
    const allowed = ['db.namespace', 'db.query.summary', 'db.system.name', 'error.type'];
    expect([...keys].filter((k) => !allowed.includes(k))).toEqual([]);
    expect(cypher.every((s) => s.attributes['db.query.summary'] === s.name)).toBe(true);
    // Only traced work's statements: the schedulers' polls (claims, sweeps) are no root spans.
    const roots = cypher.filter((s) => !s.parentSpanContext).map((s) => s.name);
    expect(roots).toEqual([]);
  });

  it("starts each step's span at its claim: no later than its run was started", async () => {
    const rows = await server.graph.read((tx) =>
      tx.run<{ id: string; startedAt: number }>({
        cypher: `MATCH (r:Run {tenantId: $tenantId})
                 RETURN r.id AS id, r.startedAt.epochMillis AS startedAt`,
        params: { tenantId: server.tenantId },
      }),
    );
    const steps = spans.filter((s) => s.name.startsWith('step '));
    expect(steps.length).toBe(rows.length);
    for (const step of steps) {
      const run = rows.find((r) => r.id === step.attributes['agent_platform.run.id'])!;
      const startMs = step.startTime[0] * 1_000 + Math.floor(step.startTime[1] / 1e6);
      expect(startMs).toBeLessThanOrEqual(Number(run.startedAt));
    }
  });

  it('stores the trace id on each run and prints it in the step log lines', async () => {
    const traceId = spans.find((s) => s.name === 'mutation TracingSubmit')!.spanContext().traceId;
    const [row] = await server.graph.read((tx) =>
      tx.run<{ ids: (string | null)[] }>({
        cypher: 'MATCH (r:Run {tenantId: $tenantId}) RETURN collect(r.traceId) AS ids',
        params: { tenantId: server.tenantId },
      }),
    );
    expect(row!.ids.length).toBeGreaterThanOrEqual(3);
    expect(new Set(row!.ids)).toEqual(new Set([traceId]));
    const stepLines = logs.entries.filter((e) => e.msg === 'step succeeded');
    expect(stepLines.length).toBeGreaterThanOrEqual(3);
    expect(new Set(stepLines.map((e) => e.traceId))).toEqual(new Set([traceId]));
  });
});

describe('a request that carries a traceparent', () => {
  it("continues the caller's trace: the operation is a child of the caller's span", async () => {
    const server = await startTestServer();
    try {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const parentId = '00f067aa0ba902b7';
      exporter.reset();
      const res = await server.gql(
        'query TracedFromOutside { tasks(first: 1) { totalCount } }',
        undefined,
        { traceparent: `00-${traceId}-${parentId}-01` },
      );
      expect(res.errors).toBeUndefined();
      const spans = exporter.getFinishedSpans();
      const operation = spans.find((s) => s.name === 'query TracedFromOutside')!;
      expect(operation.spanContext().traceId).toBe(traceId);
      // The request's span (the operation itself, or the HTTP span above it) hangs under the
      // caller's span.
      const top = [operation, ...ancestors(operation, spans)].at(-1)!;
      expect(parentOf(top)).toBe(parentId);
    } finally {
      await server.stop();
    }
  });
});

// A walk of 2026-12-06: a 5,000-character operation name went whole into the span's name and
// attribute of every such request, to whatever backend (metrics cut it at 64 characters).
describe('a request with a huge operation name', () => {
  it('names its span after the start of it, with its length', async () => {
    const server = await startTestServer();
    try {
      const name = `Huge${'x'.repeat(5000)}`;
      exporter.reset();
      const res = await server.gql(`query ${name} { tasks(first: 1) { totalCount } }`);
      expect(res.errors).toBeUndefined();
      const operation = exporter
        .getFinishedSpans()
        .find((s) => s.attributes['graphql.operation.type'] === 'query')!;
      expect(operation.name).toBe(`query Huge${'x'.repeat(96)}… (5004 characters)`);
      expect(operation.attributes['graphql.operation.name']).toBe(operation.name.slice(6));
    } finally {
      await server.stop();
    }
  });
});

describe('message content in GenAI spans', () => {
  it('is traced only when OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true', async () => {
    const llm = loadConfig({}).llm;
    const ask = async () => {
      const recorder = new LLMCallRecorder({
        store: async () => undefined as never, // the record's write is not what is tested here
        tenantId: 'content-test',
        purpose: 'chat',
        prices: llm.prices,
        describe: describeModel({ purpose: 'chat' }, llm),
      });
      exporter.reset();
      await createChatModel({ purpose: 'chat' }, llm, [recorder]).invoke([
        new HumanMessage('What does a bike cost?'),
      ]);
      await recorder.flush();
      return exporter.getFinishedSpans().find((s) => s.name.startsWith('chat '))!;
    };
    expect('gen_ai.input.messages' in (await ask()).attributes).toBe(false);
    process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT = 'true';
    try {
      const span = await ask();
      expect(String(span.attributes['gen_ai.input.messages'])).toContain('What does a bike cost?');
      expect(String(span.attributes['gen_ai.output.messages'])).toContain('assistant');
    } finally {
      delete process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT;
    }
  });
});

/** The spans an OTLP/HTTP JSON exporter sends, as this receiver on loopback collects them. */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

describe('a step run by a worker process', () => {
  let receiver: Server;
  const received: OtlpSpan[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('utf8')));
      req.on('end', () => {
        const data = JSON.parse(body) as {
          resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
        };
        for (const r of data.resourceSpans) for (const s of r.scopeSpans) received.push(...s.spans);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  });
  afterAll(() => receiver?.close());

  it('continues the trace of the API request that started the workflow', async () => {
    const api = await startTestServer();
    const port = (receiver.address() as AddressInfo).port;
    const worker = runWorker({
      ENGINE_EXECUTOR: 'echo',
      WORKER_ID: `traced-${api.tenantId.slice(5, 13)}`,
      WORKER_TENANTS: api.tenantId,
      REDIS_URL: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_SERVICE_NAME: 'agent-platform-worker-test',
      LOG_LEVEL: 'debug', // a step's success is logged at debug
    });
    try {
      await worker.waitFor(/Worker traced-\S+ running/);
      const agents = await api.gql(
        `mutation { createAgents(inputs: [{ name: "Echo", role: MASTER_OPERATOR, capabilities: [{ name: "echo" }] }]) { id } }`,
      );
      expect(agents.errors).toBeUndefined();
      const ids = await createPlan(api, [
        { key: 'root', title: 'Traced across processes' },
        { key: 'a', title: 'Step a', parentKey: 'root', requiredCapabilities: ['echo'] },
        { key: 'b', title: 'Step b', parentKey: 'root', dependsOnKeys: ['a'] },
      ]);
      exporter.reset();
      await startWorkflow(api, ids.root!);
      const started = exporter
        .getFinishedSpans()
        .find((s) => s.name === 'mutation EngineStepsStartWorkflow')!;
      expect(started).toBeDefined();
      const deadline = performance.now() + 60_000;
      while (received.filter((s) => s.name.startsWith('step ')).length < 2) {
        if (performance.now() > deadline)
          throw new Error(`no step spans: ${JSON.stringify(received)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const steps = received.filter((s) => s.name.startsWith('step '));
      for (const s of steps) {
        expect(s.traceId).toBe(started.spanContext().traceId);
        expect(s.parentSpanId).toBe(started.spanContext().spanId);
      }
      // The worker's statements hang under its steps, in the same trace.
      const stepIds = new Set(steps.map((s) => s.spanId));
      expect(received.some((s) => s.parentSpanId && stepIds.has(s.parentSpanId))).toBe(true);
      // Its runs keep the trace id, and its log lines of those steps print it.
      const traceId = started.spanContext().traceId;
      const [row] = await api.graph.read((tx) =>
        tx.run<{ ids: (string | null)[] }>({
          cypher: `MATCH (r:Run {tenantId: $tenantId}) WHERE r.worker STARTS WITH 'traced-'
                   RETURN collect(r.traceId) AS ids`,
          params: { tenantId: api.tenantId },
        }),
      );
      expect(row!.ids.length).toBeGreaterThanOrEqual(2);
      expect(new Set(row!.ids)).toEqual(new Set([traceId]));
      const stepLines = worker
        .output()
        .split('\n')
        .filter((l) => l.includes('step succeeded'));
      expect(stepLines.length).toBeGreaterThanOrEqual(2);
      for (const line of stepLines) expect(line).toContain(traceId);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
      await api.stop();
    }
  }, 120_000);
});
