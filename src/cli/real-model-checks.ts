import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import type { LLMResult } from '@langchain/core/outputs';
import { randomUUID } from 'node:crypto';
import type { Graph } from '../../graph/graph.js';
import { modelsSeen, usageOfTenant } from '../../graph/llm-call.repository.js';
import { deleteTenantBatch } from '../../graph/tenant-removal.repository.js';
import { TOPICS, type ChatTokenEvent } from '../../subscriptions/topics.js';
import { agentExecutor } from '../agents/executor.js';
import { createAgentRuntime } from '../agents/runtime.js';
import { generateApiKey } from '../auth/keys.js';
import type { Config } from '../config/config.js';
import { schedulerFromConfig } from '../engine/start.js';
import type { Logger } from '../logger.js';
import { startServer } from '../server/server.js';

/** One line of the report: what was tried, whether it worked, what was seen. */
export interface SmokeCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface SmokeOptions {
  config: Config;
  graph: Graph;
  logger: Logger;
  /** How long the workflow and the chat may each take (local CPU models are slow). */
  timeoutMs: number;
  /** Each check as soon as it is known. */
  report?: (check: SmokeCheck) => void;
}

/** Counts what the model did: tool calls in execution answers. */
class ToolCallCounter extends BaseCallbackHandler {
  name = 'smoke_tool_calls';
  readonly tools: string[] = [];
  override handleLLMEnd(output: LLMResult): void {
    for (const g of output.generations.flat()) {
      const calls = (g as { message?: { tool_calls?: { name: string }[] } }).message?.tool_calls;
      for (const c of calls ?? []) this.tools.push(c.name);
    }
  }
}

const TASK = {
  title: 'Smoke test: name three primary colours',
  description:
    'Search what the organisation already knows about colours (use the search_knowledge tool), then name three primary colours in one sentence.',
};

const short = (s: string, n = 70) =>
  (s.length > n ? `${s.slice(0, n - 1)}…` : s).replace(/\s+/g, ' ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the real-model smoke suite in a throwaway tenant (deleted at the end): the API in this
 * process on a free loopback port, npm start's own scheduler wiring, the configured model.
 * A Chief of Staff plans a task, a Master Operator executes a step with tools, the steps stream
 * their tokens, a chat reply streams, and every call is recorded with usage and cost.
 */
export async function runSmoke(o: SmokeOptions): Promise<SmokeCheck[]> {
  const checks: SmokeCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => {
    const c = { name, ok, detail };
    checks.push(c);
    o.report?.(c);
  };
  const tenantId = `smoke-${randomUUID()}`;
  const server = await startServer({
    config: { ...o.config, host: '127.0.0.1', port: 0 },
    graph: o.graph,
    logger: o.logger,
    llm: o.config.llm,
  });
  const key = generateApiKey();
  await server.services.auth.ensureAdminKey(tenantId, key, 'real-model smoke test');
  const gql = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
    if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
    return body.data as T;
  };

  const counter = new ToolCallCounter();
  const scheduler = schedulerFromConfig(o.config, {
    uow: server.services.uow,
    logger: o.logger,
    pubsub: server.pubsub,
    tenantIds: [tenantId],
    executor: agentExecutor(
      createAgentRuntime({
        uow: server.services.uow,
        llm: o.config.llm,
        logger: o.logger,
        pubsub: server.pubsub,
        observe: (_step, purpose) => (purpose === 'execution' ? [counter] : []),
      }),
    ),
  });
  let stepTokens = 0;
  const tokens = server.pubsub.subscribe(TOPICS.stepToken, { tenantId, maxBuffered: 100_000 });
  const counting = (async () => {
    for await (const _ of tokens) stepTokens++;
  })().catch(() => {});

  try {
    const { createAgents } = await gql<{ createAgents: { id: string; role: string }[] }>(
      `mutation { createAgents(inputs: [
        { name: "Smoke Chief", role: CHIEF_OF_STAFF },
        { name: "Smoke Operator", role: MASTER_OPERATOR, capabilities: [{ name: "research" }, { name: "writing" }] }
      ]) { id role } }`,
    );
    const operator = createAgents.find((a) => a.role === 'MASTER_OPERATOR')!.id;
    scheduler.start();

    await workflowChecks(o, gql, check, counter, () => stepTokens);
    await chatCheck(o, server.pubsub, tenantId, operator, gql, check);
    await usageChecks(o, tenantId, check);
  } catch (e) {
    check('smoke test', false, e instanceof Error ? e.message : String(e));
  } finally {
    await scheduler.stop({ abort: true });
    await tokens.return?.();
    await counting;
    await server.close();
    while ((await o.graph.write((tx) => deleteTenantBatch(tx, tenantId))) > 0);
  }
  return checks;
}

type Gql = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;
type Check = (name: string, ok: boolean, detail: string) => void;

interface WorkflowTask {
  id: string;
  key: string | null;
  title: string;
  status: string;
  result: string | null;
  error: string | null;
}

async function workflowChecks(
  o: SmokeOptions,
  gql: Gql,
  check: Check,
  counter: ToolCallCounter,
  stepTokens: () => number,
): Promise<void> {
  const { submitTask } = await gql<{ submitTask: { id: string } }>(
    `mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`,
    { input: TASK },
  );
  const rootId = submitTask.id;
  let tasks: WorkflowTask[] = [];
  const deadline = performance.now() + o.timeoutMs;
  const finished = ['COMPLETED', 'FAILED', 'CANCELLED'];
  for (;;) {
    ({
      workflow: { tasks },
    } = await gql<{ workflow: { tasks: WorkflowTask[] } }>(
      `query($id: ID!) { workflow(taskId: $id) { tasks { id key title status result error } } }`,
      { id: rootId },
    ));
    const root = tasks.find((t) => t.id === rootId);
    if (root && finished.includes(root.status)) break;
    if (performance.now() > deadline) break;
    await sleep(1_000);
  }
  const root = tasks.find((t) => t.id === rootId)!;
  const steps = tasks.filter((t) => t.id !== rootId);
  const planned = steps.filter((t) => t.key !== 'synthesis');
  check(
    'plan',
    planned.length > 0,
    planned.length > 0
      ? `${planned.length} step(s): ${short(planned.map((s) => s.title).join('; '))}`
      : `no plan: ${short(root.error ?? root.status, 200)}`,
  );
  const done = planned.filter((s) => s.status === 'COMPLETED');
  check(
    'step with a tool call',
    done.length > 0 && counter.tools.length > 0,
    counter.tools.length > 0
      ? `${done.length}/${planned.length} step(s) completed; tools called: ${[...new Set(counter.tools)].join(', ')}`
      : `no tool call in ${done.length}/${planned.length} completed step(s)${
          planned.find((s) => s.error)
            ? `: ${short(planned.find((s) => s.error)!.error!, 200)}`
            : ''
        }`,
  );
  check(
    'workflow completes',
    root.status === 'COMPLETED' && !!root.result,
    root.status === 'COMPLETED'
      ? `answer: ${short(root.result ?? '')}`
      : finished.includes(root.status)
        ? `${root.status}: ${short(root.error ?? '', 200)}`
        : `still ${root.status} after ${Math.round(o.timeoutMs / 1000)} s (REAL_MODEL_TIMEOUT_MS)`,
  );
  check(
    'step streaming',
    stepTokens() > 0,
    stepTokens() > 0 ? `${stepTokens()} token events on stepTokens` : 'no token reached stepTokens',
  );
}

async function chatCheck(
  o: SmokeOptions,
  pubsub: { subscribe(topic: string, options?: object): AsyncIterableIterator<unknown> },
  tenantId: string,
  agentId: string,
  gql: Gql,
  check: Check,
): Promise<void> {
  const events = pubsub.subscribe(TOPICS.chatToken, { tenantId, maxBuffered: 100_000 });
  try {
    const { chat } = await gql<{ chat: { replyId: string } }>(
      `mutation($agentId: ID!) { chat(agentId: $agentId, message: "Say hello in five words.") { replyId } }`,
      { agentId },
    );
    let reply = '';
    let count = 0;
    const timeout = sleep(o.timeoutMs).then(() => 'timeout' as const);
    for (;;) {
      const next = await Promise.race([events.next(), timeout]);
      if (next === 'timeout' || next.done) {
        check('chat', false, `no reply within ${Math.round(o.timeoutMs / 1000)} s`);
        return;
      }
      const e = next.value as ChatTokenEvent;
      if (e.replyId !== chat.replyId) continue;
      if (e.done) {
        if (e.error) check('chat', false, short(e.error, 200));
        else
          check(
            'chat',
            reply.trim() !== '',
            `reply streamed in ${count} token(s): ${short(reply)}`,
          );
        return;
      }
      reply += e.token;
      count++;
    }
  } finally {
    await events.return?.();
  }
}

async function usageChecks(o: SmokeOptions, tenantId: string, check: Check): Promise<void> {
  const [usage, models] = await o.graph.read(
    async (tx) => [await usageOfTenant(tx, tenantId), await modelsSeen(tx, tenantId)] as const,
  );
  const names = [
    ...new Set(
      models.map((m) =>
        m.responseModel && m.responseModel !== m.model
          ? `${m.model} (server: ${m.responseModel})`
          : m.model,
      ),
    ),
  ].join(', ');
  const without = models.reduce((n, m) => n + m.withoutUsage, 0);
  check(
    'usage recorded',
    usage.calls > 0 && without === 0,
    without === 0
      ? `${usage.calls} call(s) to ${names}: ${usage.promptTokens} prompt + ${usage.completionTokens} completion tokens`
      : `${without} of ${usage.calls} answered call(s) came with no token counts (does the server send usage, and with stream_options.include_usage when streaming?)`,
  );
  const unpriced = models.filter((m) => m.unpriced > 0);
  check(
    'cost recorded',
    usage.calls > 0 && usage.unpricedCalls === 0,
    usage.unpricedCalls === 0
      ? `$${usage.costUsd.toFixed(6)} (${usage.cachedPromptTokens} cached prompt tokens)`
      : `${usage.unpricedCalls} call(s) unpriced: add LLM_PRICES='{"${unpriced[0]?.model ?? 'model'}": {"input": 0, "output": 0}}' (USD per 1M tokens; 0 for a free local model)`,
  );
}
