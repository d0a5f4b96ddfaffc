import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Role, TaskState, type Message, type Task, type TaskStatus } from '@a2a-js/sdk';
import {
  AgentEvent,
  type AgentExecutor,
  type ExecutionEventBus,
  type RequestContext,
} from '@a2a-js/sdk/server';
import { DOCUMENTS, OperationError } from '../mcp/operations.js';
import { readWorkflow, type WorkflowView } from '../mcp/waiting.js';
import { callerOf } from './caller.js';
import type { RootStatus } from '../mcp/workflow-events.js';
import { cleanName } from '../domain/validate.js';

/** How often a followed task's workflow is read again when none of its events came. */
const POLL_MS = 500;
const TITLE_CHARS = 200;
/**
 * How long an A2A task rides out a graph that refuses it (Neo4j away): its follower's reads and
 * the store's saves are tried again every OUTAGE_RETRY_MS for this long before it gives up.
 */
export const OUTAGE_PATIENCE_MS = 10_000;
export const OUTAGE_RETRY_MS = POLL_MS;
/** Reads of the workflow that may fail in a row before the A2A task is given up. */
const MAX_READ_FAILURES = OUTAGE_PATIENCE_MS / POLL_MS;

/** The platform's task statuses as A2A task states. */
const STATES: Record<string, TaskState> = {
  PENDING: TaskState.TASK_STATE_SUBMITTED,
  READY: TaskState.TASK_STATE_SUBMITTED,
  IN_PROGRESS: TaskState.TASK_STATE_WORKING,
  AWAITING_APPROVAL: TaskState.TASK_STATE_INPUT_REQUIRED,
  AWAITING_INPUT: TaskState.TASK_STATE_INPUT_REQUIRED,
  COMPLETED: TaskState.TASK_STATE_COMPLETED,
  FAILED: TaskState.TASK_STATE_FAILED,
  CANCELLED: TaskState.TASK_STATE_CANCELED,
  SKIPPED: TaskState.TASK_STATE_CANCELED,
};
export const stateOf = (status: string) => STATES[status] ?? TaskState.TASK_STATE_WORKING;

export const TERMINAL = new Set([
  TaskState.TASK_STATE_COMPLETED,
  TaskState.TASK_STATE_FAILED,
  TaskState.TASK_STATE_CANCELED,
  TaskState.TASK_STATE_REJECTED,
]);

/** The platform's task an A2A task follows (in the A2A task's metadata). */
export const platformTaskOf = (task: Task | undefined): string | null =>
  typeof task?.metadata?.platformTaskId === 'string' ? task.metadata.platformTaskId : null;

/** One plain-text A2A message from `role`, in the given task and context ('' for new ones). */
export function textMessage(
  role: Role,
  ids: { taskId: string; contextId: string },
  text: string,
): Message {
  return {
    messageId: randomUUID(),
    ...ids,
    role,
    parts: [
      {
        content: { $case: 'text', value: text },
        metadata: undefined,
        filename: '',
        mediaType: 'text/plain',
      },
    ],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

const agentMessage = (ids: { taskId: string; contextId: string }, text: string) =>
  textMessage(Role.ROLE_AGENT, ids, text);

const status = (state: TaskState, message?: Message): TaskStatus => ({
  state,
  message,
  timestamp: new Date().toISOString(),
});

/** A step that waits for a person: a sign-off, an approval, or a tool call to decide. */
const waitsForPerson = (s: WorkflowView['steps'][number]) =>
  STATES[s.status] === TaskState.TASK_STATE_INPUT_REQUIRED || s.heldToolCalls.length > 0;

/**
 * A running workflow's A2A state: INPUT_REQUIRED while any of its steps waits for a person
 * (the root itself stays IN_PROGRESS then), else its root's.
 */
function workflowState(view: WorkflowView): TaskState {
  if (!view.finished && view.steps.some(waitsForPerson)) return TaskState.TASK_STATE_INPUT_REQUIRED;
  return stateOf(view.status);
}

/** What a workflow's state says in a status message, naming what a person is to decide. */
function progress(view: WorkflowView): string {
  const ended = view.steps.filter((s) =>
    ['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED'].includes(s.status),
  ).length;
  const step = view.steps.find(waitsForPerson) ?? view.steps.find((s) => s.waitingReason);
  const call = step?.heldToolCalls[0];
  const waiting = call
    ? `"${step!.title}" holds a call of ${call.tool} for a person to decide (resolveToolCall)`
    : step && (step.waitingReason ?? `"${step.title}" is ${step.status}`);
  return `${view.status}: ${ended} of ${view.steps.length} steps ended${waiting ? `; waiting: ${waiting}` : ''}`;
}

/** The A2A task of a workflow that ended, with its result as an artifact. */
export function endedTask(task: Task, view: WorkflowView): Task {
  const ids = { taskId: task.id, contextId: task.contextId };
  return {
    ...task,
    status: status(stateOf(view.status), agentMessage(ids, view.error ?? progress(view))),
    artifacts: view.result ? [resultArtifact(view.result)] : task.artifacts,
  };
}

const resultArtifact = (result: string) => ({
  artifactId: 'result',
  name: 'result',
  description: "The organisation's result",
  parts: [
    {
      content: { $case: 'text' as const, value: result },
      metadata: undefined,
      filename: '',
      mediaType: 'text/plain',
    },
  ],
  metadata: undefined,
  extensions: [],
});

/**
 * A2A's agent executor for the platform: a message becomes a submitted task (first line the
 * title, the whole text its description), run by the organisation like any other; its
 * workflow is followed and told as status updates, and its result is the task's artifact. A
 * message to a task that exists gets that task back: one message is one task here. The
 * workflow is read again at its task events (or every `pollMs` without any): every state its
 * root went through is told, WORKING included when its steps all ran between two reads.
 *
 * Contract (the SDK's): the first event is the task; events of one task are in order; a
 * refusal of GraphQL (a VIEWER key, bad input) is a REJECTED task saying why. cancelTask stops
 * following (the platform's task is cancelled by the request handler, handler.ts).
 * Following lives in this process: after a restart, GetTask reads the state from the graph.
 */
export class PlatformExecutor implements AgentExecutor {
  private readonly following = new Map<string, { abort: AbortController; contextId: string }>();

  constructor(
    /** How long the follower waits for an event of the workflow before reading it anyway. */
    private readonly pollMs = POLL_MS,
  ) {}

  async execute(rc: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { run, events: eventsOf } = callerOf(rc.context);
    const ids = { taskId: rc.taskId, contextId: rc.contextId };
    const task: Task = {
      id: rc.taskId,
      contextId: rc.contextId,
      status: status(TaskState.TASK_STATE_SUBMITTED),
      artifacts: [],
      history: [rc.userMessage],
      metadata: undefined,
    };
    if (rc.task) {
      bus.publish(AgentEvent.task(rc.task));
      bus.finished();
      return;
    }
    const text = rc.userMessage.parts
      .map((p) => (p.content?.$case === 'text' ? p.content.value : ''))
      .join('\n')
      .trim();
    const reject = (why: string) => {
      bus.publish(
        AgentEvent.task({
          ...task,
          status: status(TaskState.TASK_STATE_REJECTED, agentMessage(ids, why)),
        }),
      );
      bus.finished();
    };
    if (!text)
      return reject('Send the task as text: its first line is the title, the rest the details.');
    let rootId: string;
    try {
      // A name refuses control and text-direction characters: a tab in a message is no error.
      const firstLine = cleanName(text.split('\n')[0]!);
      const { submitTask } = await run<{ submitTask: { id: string } }>(DOCUMENTS.submitTask, {
        input: {
          title:
            firstLine.length > TITLE_CHARS ? `${firstLine.slice(0, TITLE_CHARS - 1)}…` : firstLine,
          description: text,
        },
      });
      rootId = submitTask.id;
    } catch (err) {
      if (err instanceof OperationError) return reject(`${err.code}: ${err.message}`);
      throw err;
    }
    bus.publish(AgentEvent.task({ ...task, metadata: { platformTaskId: rootId } }));
    const abort = new AbortController();
    this.following.set(rc.taskId, { abort, contextId: rc.contextId });
    const events = eventsOf(rootId);
    try {
      let told = '';
      let state = TaskState.TASK_STATE_SUBMITTED;
      const tell = (now: TaskState, text: string) => {
        if (text === told) return;
        told = text;
        state = now;
        bus.publish(
          AgentEvent.statusUpdate({
            ...ids,
            status: status(now, agentMessage(ids, text)),
            metadata: undefined,
          }),
        );
      };
      let failures = 0;
      let heard: RootStatus[] = [];
      let toldVersion = 0;
      for (;;) {
        // A read that fails (Neo4j busy, a request limit) is tried again: the task goes on.
        const view = await readWorkflow(run, rootId).catch((err: unknown) => {
          if (++failures >= MAX_READ_FAILURES) throw err;
          return null;
        });
        if (abort.signal.aborted) return; // cancelTask ends the bus
        if (!view) {
          await sleep(POLL_MS, undefined, { signal: abort.signal }).catch(() => {});
          continue;
        }
        failures = 0;
        // The states the root went through up to this read are told first, in order: a
        // workflow that ran its steps within one wait was still WORKING on them. Later ones
        // (committed after the read) wait for the read that sees them.
        heard.push(...events.rootStatuses());
        for (const passed of heard.filter(
          (h) => h.version > toldVersion && h.version < view.version,
        )) {
          const was = stateOf(passed.status);
          if (was !== state && !TERMINAL.has(was)) tell(was, passed.status);
        }
        heard = heard.filter((h) => h.version > view.version);
        toldVersion = view.version;
        if (view.finished) {
          if (view.result) {
            bus.publish(
              AgentEvent.artifactUpdate({
                ...ids,
                artifact: resultArtifact(view.result),
                append: false,
                lastChunk: true,
                metadata: undefined,
              }),
            );
          }
          const ended = endedTask({ ...task, metadata: { platformTaskId: rootId } }, view);
          bus.publish(
            AgentEvent.statusUpdate({ ...ids, status: ended.status, metadata: undefined }),
          );
          break;
        }
        tell(workflowState(view), progress(view));
        await events.wait(this.pollMs, abort.signal);
      }
      bus.finished();
    } finally {
      this.following.delete(rc.taskId);
      await events.close();
    }
  }

  async cancelTask(taskId: string, bus: ExecutionEventBus): Promise<void> {
    const followed = this.following.get(taskId);
    followed?.abort.abort();
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId: followed?.contextId ?? '',
        status: status(TaskState.TASK_STATE_CANCELED),
        metadata: undefined,
      }),
    );
    bus.finished();
  }
}
