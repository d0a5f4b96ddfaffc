import { setTimeout as sleep } from 'node:timers/promises';
import { DOCUMENTS, OperationError, type Operation } from './operations.js';
import type { WorkflowEvents } from './workflow-events.js';

/** Reports progress to the client (steps ended of all steps), or does nothing. */
export type Progress = (progress: number, total?: number, message?: string) => Promise<void>;

/** How a long tool call reports progress, and the signal that ends it (the client went away). */
export interface Follow {
  report: Progress;
  signal: AbortSignal;
}

const ENDED = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']);
/** How often a waiting call reads the workflow (or looks for a chat reply) again. */
const POLL_MS = 500;

/** What the tools say of each step. */
interface StepView {
  id: string;
  title: string;
  status: string;
  result: string | null;
  error: string | null;
  waitingReason: string | null;
  parentId: string | null;
  dependsOn: string[];
  heldToolCalls: { callId: string; tool: string; args: string }[];
}

/** A step as the workflow query reads it. */
type Step = Omit<StepView, 'parentId' | 'dependsOn' | 'heldToolCalls'> & {
  parent: { id: string } | null;
  dependencies: { id: string }[];
  toolCallRequests: { callId: string; tool: string; args: string; status: string }[];
};

export interface WorkflowView {
  [key: string]: unknown;
  taskId: string;
  title: string;
  status: string;
  result: string | null;
  error: string | null;
  finished: boolean;
  /** The task's writes so far: a later view of it has a higher one. */
  version: number;
  steps: StepView[];
}

export async function readWorkflow(run: Operation, taskId: string): Promise<WorkflowView> {
  const { workflow } = await run<{ workflow: { root: Step & { version: number }; tasks: Step[] } }>(
    DOCUMENTS.workflow,
    {
      taskId,
    },
  );
  const { root } = workflow;
  return {
    taskId: root.id,
    title: root.title,
    status: root.status,
    result: root.result,
    error: root.error,
    finished: ENDED.has(root.status),
    version: root.version,
    steps: workflow.tasks
      .filter((t) => t.id !== root.id)
      .map((t) => ({
        id: t.id,
        title: t.title,
        status: t.status,
        result: t.result,
        error: t.error,
        waitingReason: t.waitingReason,
        parentId: t.parent?.id ?? null,
        dependsOn: t.dependencies.map((d) => d.id),
        // Decided only while the step waits for them: an ended step's are refused (CONFLICT).
        heldToolCalls: t.toolCallRequests
          .filter((r) => r.status === 'PENDING' && t.status === 'AWAITING_INPUT')
          .map(({ callId, tool, args }) => ({ callId, tool, args })),
      })),
  };
}

/**
 * The task's workflow now, or, with `waitSeconds`, once it ended or the time is up (whichever
 * comes first), reporting steps ended of all steps (and the task's status) whenever that
 * changes. It is read again when the workflow's events say it changed (every POLL_MS without
 * any). Reads are short operations of their own, each held to the request limits; the wait
 * itself is not one.
 */
export async function followWorkflow(
  o: { run: Operation; events: (rootId: string) => WorkflowEvents },
  taskId: string,
  waitSeconds: number,
  follow: Follow,
): Promise<WorkflowView> {
  const until = performance.now() + waitSeconds * 1_000;
  const events = waitSeconds > 0 ? o.events(taskId) : null;
  let reported = '';
  try {
    for (;;) {
      const view = await readWorkflow(o.run, taskId);
      const ended = view.steps.filter((s) => ENDED.has(s.status)).length;
      const state = `${ended}/${view.steps.length} ${view.status}`;
      if (events && state !== reported) {
        reported = state;
        await follow.report(ended, Math.max(view.steps.length, 1), `${view.title}: ${view.status}`);
      }
      if (!events || view.finished || performance.now() >= until || follow.signal.aborted) {
        return view;
      }
      await events.wait(Math.min(POLL_MS, until - performance.now()), follow.signal);
    }
  } finally {
    await events?.close();
  }
}

/** A chat reply's text once it is stored, or null when `waitSeconds` pass first. */
export async function waitForReply(
  run: Operation,
  replyId: string,
  waitSeconds: number,
  signal: AbortSignal,
): Promise<string | null> {
  const until = performance.now() + waitSeconds * 1_000;
  for (;;) {
    try {
      const { message } = await run<{ message: { content: string } }>(DOCUMENTS.message, {
        id: replyId,
      });
      return message.content;
    } catch (err) {
      // Not stored yet: the reply is still being written (its tokens stream on chatTokens).
      if (!(err instanceof OperationError) || err.code !== 'NOT_FOUND') throw err;
    }
    if (performance.now() >= until || signal.aborted) return null;
    await sleep(Math.min(POLL_MS, until - performance.now()), undefined, { signal }).catch(
      () => {},
    );
  }
}
