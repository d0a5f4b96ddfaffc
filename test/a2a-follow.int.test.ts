import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskState } from '@a2a-js/sdk';
import {
  DefaultExecutionEventBus,
  RequestContext,
  ServerCallContext,
  type AgentExecutionEvent,
} from '@a2a-js/sdk/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withCaller } from '../src/a2a/caller.js';
import { PlatformExecutor } from '../src/a2a/executor.js';
import { textRequest } from '../src/a2a/remote.js';
import { OperationError, type Operation } from '../src/mcp/operations.js';
import { workflowEvents } from '../src/mcp/workflow-events.js';
import { createOfflineOrganisation, startOfflineAgents } from './utils/engine.js';
import { startTestServer, type TestServer } from './utils/server.js';

// The A2A executor follows a workflow by its task events: a workflow whose steps all run
// between two reads is still told WORKING (CI once streamed SUBMITTED, then COMPLETED only).

/** Longer than the workflow takes: anything told before it is told because of an event. */
const NEVER_MS = 10 * 60_000;
/** Each read of the workflow answers this long after it was taken: the workflow (under a
 * second on the offline model) ends between the first read and the second. */
const READ_LAG_MS = 2_000;

describe('an A2A task followed by its workflow’s events', { timeout: 30_000 }, () => {
  let server: TestServer;
  let stopAgents: () => Promise<void>;

  beforeAll(async () => {
    server = await startTestServer();
    await createOfflineOrganisation(server);
    const agents = startOfflineAgents(server);
    stopAgents = () => agents.stop();
  });
  afterAll(async () => {
    await stopAgents?.();
    await server?.stop();
  });

  /** An A2A request of `text` whose GraphQL operations `run` answers. */
  const requestOf = (run: Operation, text: string) =>
    new RequestContext(
      textRequest(text),
      randomUUID(),
      randomUUID(),
      withCaller(new ServerCallContext({ user: { isAuthenticated: true, userName: 'test' } }), {
        tenantId: server.tenantId,
        run,
        // The executor alone: no task store, nothing of its own to run in a turn.
        inTurn: (work) => work(),
        events: (rootId) => workflowEvents(server.pubsub, server.tenantId, rootId),
        baseUrl: '',
      }),
    );

  /** A bus and the states (with their messages) told on it. */
  const told = () => {
    const bus = new DefaultExecutionEventBus();
    const states: TaskState[] = [];
    const messages: string[] = [];
    /** The state of the task event, the first one the client gets. */
    const initial: TaskState[] = [];
    bus.on('event', (event: AgentExecutionEvent) => {
      if (event.kind === 'task' && event.data.status) initial.push(event.data.status.state);
      if (event.kind !== 'statusUpdate' || !event.data.status) return;
      states.push(event.data.status.state);
      const part = event.data.status.message?.parts[0]?.content;
      messages.push(part?.$case === 'text' ? part.value : '');
    });
    return { bus, states, messages, initial };
  };

  it('tells every state its root went through, in order, though its reads lag behind it', async () => {
    const run: Operation = async (query, variables) => {
      const res = await server.gql(query, variables as never);
      const first = res.errors?.[0];
      if (first) throw new OperationError(String(first.extensions?.code), first.message);
      if (query.includes('McpWorkflow')) await sleep(READ_LAG_MS);
      return res.data as never;
    };
    const { bus, states, initial } = told();
    const watchers = server.pubsub.subscriberCount('TASK_UPDATED');
    const started = performance.now();
    await new PlatformExecutor(NEVER_MS).execute(
      requestOf(run, 'Quarterly note\nWrite a short note on the quarter.'),
      bus,
    );
    expect(performance.now() - started).toBeLessThan(NEVER_MS);
    // SUBMITTED comes with the task itself; a status update says it again only when the first
    // read finds the root not started yet (the engine may claim it first).
    expect(initial).toEqual([TaskState.TASK_STATE_SUBMITTED]);
    expect([TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING]).toContain(states[0]);
    expect(states).toContain(TaskState.TASK_STATE_WORKING);
    expect(states.at(-1)).toBe(TaskState.TASK_STATE_COMPLETED);
    // In order: never back to SUBMITTED once WORKING, nothing after COMPLETED.
    expect(states.lastIndexOf(TaskState.TASK_STATE_SUBMITTED)).toBeLessThan(
      states.indexOf(TaskState.TASK_STATE_WORKING),
    );
    expect(states.indexOf(TaskState.TASK_STATE_COMPLETED)).toBe(states.length - 1);
    // No subscriber left behind once the task is told ended.
    expect(server.pubsub.subscriberCount('TASK_UPDATED')).toBe(watchers);
  });

  it('says INPUT_REQUIRED while a step holds a tool call for a person, and goes on once it is decided', async () => {
    const policy = await server.gql(
      `mutation { setToolPolicy(input: { tool: "ask_agent", mode: ALWAYS }) { mode } }`,
    );
    expect(policy.errors).toBeUndefined();
    const analyst = await server.gql(`mutation { createAgent(input: { name: "Analyst",
      role: MASTER_OPERATOR, capabilities: [{ name: "analysis" }] }) { id } }`);
    expect(analyst.errors).toBeUndefined();
    const run: Operation = async (query, variables) => {
      const res = await server.gql(query, variables as never);
      const first = res.errors?.[0];
      if (first) throw new OperationError(String(first.extensions?.code), first.message);
      return res.data as never;
    };
    const { bus, states, messages } = told();
    let ended = false;
    const following = new PlatformExecutor(100)
      .execute(
        requestOf(
          run,
          'Bike brief\nResearch the market size for electric bikes in Europe. Then check the growth figures with the analyst. Then write a one-page brief.',
        ),
        bus,
      )
      .finally(() => (ended = true));
    try {
      // Each call the offline model makes to ask a colleague waits; it is approved once the
      // A2A task has said so.
      let heldSince: number | null = null;
      while (!ended) {
        const held = await server.graph.read((tx) =>
          tx.run<{ runId: string; callId: string }>({
            cypher: `MATCH (q:ToolCallRequest {tenantId: $tenantId, status: 'PENDING'})
                     RETURN q.runId AS runId, q.callId AS callId`,
            params: { tenantId: server.tenantId },
          }),
        );
        heldSince = held.length === 0 ? null : (heldSince ?? performance.now());
        if (heldSince !== null && performance.now() - heldSince > 10_000) {
          throw new Error(`a call was held for 10 s, but the A2A task said ${states.at(-1)}`);
        }
        if (held.length > 0 && states.at(-1) === TaskState.TASK_STATE_INPUT_REQUIRED) {
          expect(messages.at(-1)).toMatch(/ask_agent/);
          for (const { runId, callId } of held) {
            const RESOLVE = `mutation($runId: ID!, $callId: String!) {
              resolveToolCall(runId: $runId, callId: $callId, decision: APPROVE) { status } }`;
            expect((await server.gql(RESOLVE, { runId, callId } as never)).errors).toBeUndefined();
          }
        }
        await sleep(100);
      }
      await following;
    } finally {
      await server.gql(
        `mutation { setToolPolicy(input: { tool: "ask_agent", mode: NEVER }) { mode } }`,
      );
    }
    const input = states.indexOf(TaskState.TASK_STATE_INPUT_REQUIRED);
    expect(input).toBeGreaterThan(0);
    expect(states.slice(input)).toContain(TaskState.TASK_STATE_WORKING);
    expect(states.at(-1)).toBe(TaskState.TASK_STATE_COMPLETED);
  });
});
