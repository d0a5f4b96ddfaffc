import {
  failFastCancelError,
  inPlan,
  skipCause,
  TaskStatus,
  type SkipCause,
} from '../domain/task.js';
import type { OutlineTask, WorkflowOutline } from '../../graph/workflow.repository.js';

/** A workflow as workflowOutline reads it: tasks, and the SUBTASK_OF and DEPENDS_ON among them. */
export type WorkflowGraph = WorkflowOutline;

export interface RetryScope {
  /** The task's ancestors, nearest first. */
  ancestors: OutlineTask[];
  /** Whether it has steps of its own. */
  hasChildren: boolean;
  /** The tasks that go back to PENDING with it (retryScope says which). */
  back: string[];
  /** The task, or its nearest ancestor, when approvePlan removed it from its plan (inPlan). */
  removed: OutlineTask | null;
}

/** The ends a retry takes back (and the ends that hold a dependant back). */
export const RETRYABLE: readonly TaskStatus[] = [TaskStatus.FAILED, TaskStatus.CANCELLED];

/** Skips its dependencies decided (ended broken, all skipped, or a condition on them false). */
const BY_DEPENDENCIES: readonly SkipCause[] = [
  'brokenDependency',
  'skippedDependencies',
  'falseCondition',
];

const skippedByDependencies = (t: OutlineTask) => {
  const cause = skipCause(t.error);
  return (
    t.orchestrated &&
    t.status === TaskStatus.SKIPPED &&
    cause !== null &&
    BY_DEPENDENCIES.includes(cause)
  );
};

const broken = (t: OutlineTask) => t.orchestrated && RETRYABLE.includes(t.status);

/**
 * What retrying the task `id` of a workflow touches: its ancestors (those FAILED or CANCELLED
 * reopen) and the engine's steps that go back to PENDING with it, the work its end held back:
 * - below it (a subtree), every FAILED or CANCELLED step;
 * - under an ancestor that reopens from FAILED, the steps that ancestor cancelled as it failed
 *   fast (their error is "cancelled: " and the ancestor's error);
 * - every step SKIPPED because of its dependencies (one ended broken, all were skipped, or a
 *   condition on them was false: promotion decides it anew) that depends on the task, on an
 *   ancestor that reopens or on a step that comes back, and, below such a step, its FAILED and
 *   CANCELLED steps (the sweep cancels the steps waiting under a skipped parent). A step
 *   another dependency would skip again (one that stays FAILED or CANCELLED) stays SKIPPED.
 * A person's decision stands: a step rejected or removed from the plan stays SKIPPED, and one
 * removed from the plan (inPlan) never comes back, nor anything below it, even CANCELLED.
 */
export function retryScope(workflow: WorkflowGraph, id: string): RetryScope {
  const byId = new Map(workflow.tasks.map((t) => [t.id, t]));
  const parentOf = new Map<string, string>();
  const children = new Map<string, string[]>();
  const dependsOn = new Map<string, string[]>();
  const dependants = new Map<string, string[]>();
  const add = (m: Map<string, string[]>, k: string, v: string) => {
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  };
  for (const e of workflow.edges) {
    if (e.type === 'SUBTASK_OF') {
      parentOf.set(e.from, e.to);
      add(children, e.to, e.from);
    } else if (e.type === 'DEPENDS_ON') {
      add(dependsOn, e.from, e.to);
      add(dependants, e.to, e.from);
    }
  }
  const task = (tid: string) => byId.get(tid)!;
  // Asked for each dependant in every round below: each subtree is walked once.
  const subtrees = new Map<string, OutlineTask[]>();
  const below = (root: string): OutlineTask[] => {
    let found = subtrees.get(root);
    if (!found) {
      found = [];
      for (const c of children.get(root) ?? []) {
        if (!inPlan(task(c))) continue;
        found.push(task(c));
        for (const t of below(c)) found.push(t);
      }
      subtrees.set(root, found);
    }
    return found;
  };

  // A step removed from its plan, or one under it, is not the plan's: nothing brings it back.
  const outside = new Map<string, boolean>();
  const outOfPlan = (tid: string): boolean => {
    let found = outside.get(tid);
    if (found === undefined) {
      const p = parentOf.get(tid);
      found = !inPlan(task(tid)) || (p !== undefined && outOfPlan(p));
      outside.set(tid, found);
    }
    return found;
  };

  const ancestors: OutlineTask[] = [];
  for (let p = parentOf.get(id); p !== undefined; p = parentOf.get(p)) ancestors.push(task(p));
  const reopened = ancestors.filter((a) => RETRYABLE.includes(a.status));
  const fixed = new Set([id, ...reopened.map((a) => a.id)]);
  const first = [
    ...below(id).filter(broken),
    ...reopened.flatMap((a) => {
      if (a.status !== TaskStatus.FAILED || !a.error) return [];
      const error = failFastCancelError(a.error);
      return below(a.id).filter(
        (t) => broken(t) && t.status === TaskStatus.CANCELLED && t.error === error,
      );
    }),
  ];

  /** What comes back when the skipped steps in `held` stay skipped. */
  const gather = (held: Set<string>): Set<string> => {
    const back = new Set<string>();
    const queue = [...fixed];
    const bring = (t: OutlineTask) => {
      if (fixed.has(t.id) || back.has(t.id)) return;
      back.add(t.id);
      queue.push(t.id);
    };
    first.forEach(bring);
    for (let x = queue.pop(); x !== undefined; x = queue.pop()) {
      for (const s of dependants.get(x) ?? []) {
        if (back.has(s) || held.has(s) || !skippedByDependencies(task(s)) || outOfPlan(s)) continue;
        bring(task(s));
        below(s).filter(broken).forEach(bring);
      }
    }
    return back;
  };
  // Held grows each round, so this ends: a step held back may have brought others with it.
  const held = new Set<string>();
  for (;;) {
    const back = gather(held);
    const staysBroken = (d: string) =>
      !fixed.has(d) && !back.has(d) && RETRYABLE.includes(task(d).status);
    const stuck = [...back].filter(
      (s) => task(s).status === TaskStatus.SKIPPED && (dependsOn.get(s) ?? []).some(staysBroken),
    );
    if (stuck.length === 0) {
      const removed = [task(id), ...ancestors].find((t) => !inPlan(t)) ?? null;
      return { ancestors, hasChildren: children.has(id), back: [...back], removed };
    }
    stuck.forEach((s) => held.add(s));
  }
}
