import { useCallback, useMemo, useState } from 'react';
import { graphql } from '../gql';
import type { TaskStatus } from '../gql/graphql';
import { useQuery, useSubscription } from '../hooks';
import { useSession } from '../session';
import { ErrorNote } from '../components/ErrorNote';
import { GraphView, type GraphNode, type GraphRel } from '../components/GraphView';
import { Approvals } from './Approvals';
import { FINISHED, StatusBadge, TaskMessages, formatTime, useCoalesced } from './TaskParts';
import { StepsTable, errorNote, waitNote } from './TaskSteps';
import { TaskActions } from './TaskActions';

/** The graph's colour for a status (the same meaning as the badges). */
function statusColor(status: string): string {
  switch (status) {
    case 'COMPLETED':
      return '#2e7d32';
    case 'FAILED':
    case 'CANCELLED':
      return '#c62828';
    case 'RUNNING':
    case 'IN_PROGRESS':
      return '#0a66c2';
    case 'AWAITING_APPROVAL':
    case 'AWAITING_INPUT':
    case 'WAITING':
      return '#ef8f00';
    default:
      return '#9aa3ad';
  }
}

const WorkflowQuery = graphql(`
  query TaskDetailWorkflow($taskId: ID!) {
    workflow(taskId: $taskId) {
      root {
        id
        title
        description
        status
        priority
        result
        error
        waitingReason
        planApproval
        planFeedback
        createdAt
        createdBy
        version
        assignee {
          id
          name
          role
        }
        delegatedBy {
          id
          name
        }
        llmUsage(scope: SUBTREE) {
          calls
          totalTokens
          costUsd
        }
      }
      tasks {
        id
        key
        title
        status
        version
        error
        waitingReason
        removedFromPlan
        assignee {
          id
          name
        }
        assignment {
          agent {
            id
            name
          }
          score
          reason
        }
        toolCallRequests {
          id
          runId
          callId
          tool
          args
          status
        }
      }
      edges {
        from
        to
        type
      }
    }
  }
`);

const TaskUpdatedSubscription = graphql(`
  subscription TaskDetailTaskUpdated($rootId: ID!) {
    taskUpdated(rootId: $rootId) {
      change
      task {
        id
        status
        version
      }
    }
  }
`);

/** Keyed by id: another task starts with fresh state (streams, messages, overrides). */
export function TaskDetail({ id }: { id: string }) {
  return <TaskDetailView key={id} id={id} />;
}

function TaskDetailView({ id }: { id: string }) {
  const { canOperate } = useSession();
  const { data, error, loading, reload } = useQuery(WorkflowQuery, { taskId: id });
  // Statuses from events, ahead of the reload they trigger; kept only while newer (version).
  const [live, setLive] = useState<Record<string, { status: TaskStatus; version: number }>>({});
  const reloadSoon = useCoalesced(reload, 300);
  const liveError = useSubscription(TaskUpdatedSubscription, { rootId: id }, ({ taskUpdated }) => {
    const t = taskUpdated.task;
    setLive((all) =>
      (all[t.id]?.version ?? -1) >= t.version
        ? all
        : { ...all, [t.id]: { status: t.status, version: t.version } },
    );
    reloadSoon();
  });

  const workflow = data?.workflow;
  const statusOf = useCallback(
    (t: { id: string; status: TaskStatus; version: number }): TaskStatus => {
      const seen = live[t.id];
      return seen && seen.version > t.version ? seen.status : t.status;
    },
    [live],
  );
  const steps = useMemo(
    () => (workflow?.tasks ?? []).map((t) => ({ ...t, status: statusOf(t) })),
    [workflow, statusOf],
  );
  const nodes = useMemo<GraphNode[]>(
    () => steps.map((s) => ({ id: s.id, caption: s.title, color: statusColor(s.status) })),
    [steps],
  );
  const rels = useMemo<GraphRel[]>(
    () =>
      (workflow?.edges ?? []).map((e) => ({
        id: `${e.type}:${e.from}:${e.to}`,
        from: e.from,
        to: e.to,
        caption: e.type === 'DEPENDS_ON' ? 'depends on' : 'subtask of',
      })),
    [workflow],
  );

  if (!workflow) {
    return (
      <>
        <h1>Task</h1>
        <p>
          <a href="#/tasks">All tasks</a>
        </p>
        {error !== undefined ? (
          <ErrorNote error={error} />
        ) : (
          loading && <p className="muted">Loading…</p>
        )}
      </>
    );
  }

  const root = workflow.root;
  const rootStatus = statusOf(root);
  const rootWaits = waitNote({ ...root, status: rootStatus });
  const rootError = errorNote({ ...root, status: rootStatus });
  const planner = root.assignee;
  const firstStep = steps.find((s) => s.id !== root.id);
  // Delegations are about the planned steps (not the synthesis): one of them finds the plan's talk.
  const plannedStep = steps.find((s) => s.id !== root.id && s.key !== 'synthesis');
  // A plan waits for approvePlan: the root AWAITING_APPROVAL with steps, held for review.
  const planWaits =
    rootStatus === 'AWAITING_APPROVAL' &&
    !!firstStep &&
    (root.planApproval || /plan waits/i.test(root.waitingReason ?? ''));

  return (
    <>
      <p>
        <a href="#/tasks">All tasks</a>
      </p>
      <h1>{root.title}</h1>
      {error !== undefined && <ErrorNote error={error} />}
      {liveError !== undefined && <ErrorNote error={liveError} />}
      <section className="panel" aria-label="Summary">
        <p>
          Status: <StatusBadge status={rootStatus} label="Task status" /> · Priority:{' '}
          {root.priority}
          {' · '}Created {formatTime(root.createdAt)}
          {root.createdBy && ` by ${root.createdBy}`}
        </p>
        <p>
          {planner ? (
            <>
              {planner.role === 'CHIEF_OF_STAFF' ? 'Planned by' : 'Assigned to'}{' '}
              <a href={`#/chat/${planner.id}`}>{planner.name}</a>
            </>
          ) : (
            <span className="muted">Not assigned yet</span>
          )}
          {root.delegatedBy && (
            <>
              {' · '}Delegated by{' '}
              <a href={`#/chat/${root.delegatedBy.id}`}>{root.delegatedBy.name}</a>
            </>
          )}
        </p>
        {rootWaits && <p className="muted">{rootWaits}</p>}
        {root.description ? <p style={{ whiteSpace: 'pre-wrap' }}>{root.description}</p> : null}
        {root.planFeedback && <p className="muted">Last plan feedback: {root.planFeedback}</p>}
        {rootError && <p className="error">{rootError}</p>}
        {canOperate && (
          <TaskActions
            task={{ id: root.id, title: root.title, status: rootStatus }}
            onDone={reload}
          />
        )}
      </section>

      {canOperate && (
        <Approvals
          root={{ id: root.id, title: root.title }}
          planWaits={planWaits}
          steps={steps}
          onDecided={reload}
        />
      )}

      <div className="row">
        <section className="grow panel" aria-label="Plan">
          <h2>Plan</h2>
          <GraphView
            label="Task plan"
            nodes={nodes}
            rels={rels}
            hierarchical
            onNodeClick={(nodeId) =>
              document.getElementById(`step-${nodeId}`)?.scrollIntoView({ block: 'center' })
            }
          />
        </section>
        <section className="grow panel" aria-label="Steps">
          <h2>Steps</h2>
          <StepsTable steps={steps} rootId={root.id} />
        </section>
      </div>

      <LiveOutput rootId={root.id} live={!FINISHED.has(rootStatus)} steps={steps} />
      <TaskMessages rootId={root.id} stepId={plannedStep?.id} />

      <section className="panel" aria-label="Result">
        <h2>Result</h2>
        {/* The planner writes its summary ("Planned 2 step(s)…") there too: only a COMPLETED
            task's result is its answer. The loaded status, as read with the result. */}
        {root.status === 'COMPLETED' && root.result ? (
          <div style={{ whiteSpace: 'pre-wrap' }}>{root.result}</div>
        ) : (
          <p className="muted">{FINISHED.has(root.status) ? 'No result.' : 'No result yet.'}</p>
        )}
        <h2>Cost</h2>
        <dl>
          <dt>Cost</dt>
          <dd>${root.llmUsage.costUsd.toFixed(4)}</dd>
          <dt>Model calls</dt>
          <dd>{root.llmUsage.calls}</dd>
          <dt>Tokens</dt>
          <dd>{root.llmUsage.totalTokens.toLocaleString()}</dd>
        </dl>
      </section>
    </>
  );
}

const StepTokensSubscription = graphql(`
  subscription TaskDetailStepTokens($taskId: ID!) {
    stepTokens(taskId: $taskId) {
      taskId
      runId
      purpose
      token
    }
  }
`);

/** Keeps the tail of a stream: enough to read, bounded in memory. */
const STREAM_KEEP = 20_000;

/**
 * The models' tokens as agents work, one stream per step, from one subscription: stepTokens of
 * the task hears its own tokens and every step's below it (by the step's id), while the task
 * has not ended.
 */
function LiveOutput({
  rootId,
  live,
  steps,
}: {
  rootId: string;
  live: boolean;
  steps: { id: string; title: string; status: string }[];
}) {
  const [streams, setStreams] = useState<Record<string, { runId: string; text: string }>>({});
  const onToken = useCallback((taskId: string, runId: string, purpose: string, token: string) => {
    setStreams((all) => {
      const prev = all[taskId];
      // A new run (a retry, or synthesis after planning) starts a new paragraph.
      const head = !prev
        ? `[${purpose}] `
        : prev.runId !== runId
          ? `${prev.text}\n\n[${purpose}] `
          : prev.text;
      return { ...all, [taskId]: { runId, text: (head + token).slice(-STREAM_KEEP) } };
    });
  }, []);
  useSubscription(
    StepTokensSubscription,
    { taskId: rootId },
    ({ stepTokens: t }) => onToken(t.taskId, t.runId, t.purpose, t.token),
    live,
  );
  const shown = steps.filter((s) => streams[s.id]);
  return (
    <section aria-label="Live output" className="panel">
      <h2>Live output</h2>
      {shown.length === 0 && (
        <p className="muted">
          Nothing streamed since this page opened: tokens appear here as agents write them. What a
          step wrote before is its result.
        </p>
      )}
      {shown.map((s) => (
        <div key={s.id}>
          <h3>{s.title}</h3>
          <div className="stream" aria-live="off">
            {streams[s.id]!.text}
          </div>
        </div>
      ))}
    </section>
  );
}
