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

  it('tells every state its root went through, in order, though its reads lag behind it', async () => {
    const run: Operation = async (query, variables) => {
      const res = await server.gql(query, variables as never);
      const first = res.errors?.[0];
      if (first) throw new OperationError(String(first.extensions?.code), first.message);
      if (query.includes('McpWorkflow')) await sleep(READ_LAG_MS);
      return res.data as never;
    };
    const context = withCaller(
      new ServerCallContext({ user: { isAuthenticated: true, userName: 'test' } }),
      {
        tenantId: server.tenantId,
        run,
        events: (rootId) => workflowEvents(server.pubsub, server.tenantId, rootId),
        baseUrl: '',
      },
    );
    const request = textRequest('Quarterly note\nWrite a short note on the quarter.');
    const bus = new DefaultExecutionEventBus();
    const states: TaskState[] = [];
    bus.on('event', (event: AgentExecutionEvent) => {
      if (event.kind === 'statusUpdate' && event.data.status) states.push(event.data.status.state);
    });
    const watchers = server.pubsub.subscriberCount('TASK_UPDATED');
    const started = performance.now();
    await new PlatformExecutor(NEVER_MS).execute(
      new RequestContext(request, randomUUID(), randomUUID(), context),
      bus,
    );
    expect(performance.now() - started).toBeLessThan(NEVER_MS);
    expect(states[0]).toBe(TaskState.TASK_STATE_SUBMITTED);
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
});
