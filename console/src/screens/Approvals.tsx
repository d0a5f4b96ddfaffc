import { useState } from 'react';
import { graphql } from '../gql';
import { useMutation } from '../hooks';
import { ErrorNote } from '../components/ErrorNote';
import type { Step } from './TaskParts';
import { budgetWait } from './TaskSteps';

const ApprovePlanMutation = graphql(`
  mutation TaskDetailApprovePlan($taskId: ID!) {
    approvePlan(taskId: $taskId) {
      id
      status
    }
  }
`);

const RejectPlanMutation = graphql(`
  mutation TaskDetailRejectPlan($taskId: ID!, $reason: String!) {
    rejectPlan(taskId: $taskId, reason: $reason) {
      id
      status
    }
  }
`);

const ApproveTaskMutation = graphql(`
  mutation TaskDetailApproveTask($id: ID!) {
    approveTask(id: $id) {
      id
      status
    }
  }
`);

const RejectTaskMutation = graphql(`
  mutation TaskDetailRejectTask($id: ID!, $reason: String) {
    rejectTask(id: $id, reason: $reason) {
      id
      status
    }
  }
`);

const ResolveToolCallMutation = graphql(`
  mutation TaskDetailResolveToolCall(
    $runId: ID!
    $callId: String!
    $decision: ToolCallDecision!
    $reason: String
  ) {
    resolveToolCall(runId: $runId, callId: $callId, decision: $decision, reason: $reason) {
      id
      status
    }
  }
`);

/**
 * What waits for a person: the plan, steps AWAITING_APPROVAL, tool calls, and steps waiting for
 * a budget (raising it sends them on; approveTask tries one again, rejectTask skips it).
 * Operators only.
 */
export function Approvals(props: {
  root: { id: string; title: string };
  planWaits: boolean;
  steps: Step[];
  onDecided: () => void;
}) {
  const approvePlan = useMutation(ApprovePlanMutation);
  const rejectPlan = useMutation(RejectPlanMutation);
  const approveTask = useMutation(ApproveTaskMutation);
  const rejectTask = useMutation(RejectTaskMutation);
  const resolve = useMutation(ResolveToolCallMutation);
  const [reason, setReason] = useState('');
  const [needReason, setNeedReason] = useState(false);
  // Optional reasons typed for a step's or a held call's rejection, by field id.
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const busy =
    approvePlan.busy || rejectPlan.busy || approveTask.busy || rejectTask.busy || resolve.busy;
  const after = (done: unknown) => done !== undefined && props.onDecided();

  // The root's own approval is the plan's when a plan waits; else it is a step like the others.
  const awaiting = props.steps.filter(
    (s) => s.status === 'AWAITING_APPROVAL' && !(props.planWaits && s.id === props.root.id),
  );
  // A spent budget is raised with setBudget (ADMIN), which sends the step on by itself.
  const budgetWaits = awaiting.flatMap((s) => {
    const why = budgetWait(s);
    return why === null ? [] : [{ ...s, why }];
  });
  const waitingSteps = awaiting.filter((s) => budgetWait(s) === null);
  // A call is decided while its step waits for it: one of an ended step is refused (CONFLICT).
  const calls = props.steps
    .filter((s) => s.status === 'AWAITING_INPUT')
    .flatMap((s) =>
      s.toolCallRequests
        .filter((c) => c.status === 'PENDING')
        .map((c) => ({ ...c, step: s.title })),
    );
  if (!props.planWaits && awaiting.length === 0 && calls.length === 0) return null;
  const errors = [approvePlan, rejectPlan, approveTask, rejectTask, resolve].map((m) => m.error);

  return (
    <section className="panel" aria-label="Approvals">
      <h2>Waiting for you</h2>
      {errors.map((e, i) => e !== undefined && <ErrorNote key={i} error={e} />)}
      {props.planWaits && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!reason.trim()) {
              setNeedReason(true);
              document.getElementById('plan-reject-reason')?.focus();
              return;
            }
            void rejectPlan.run({ taskId: props.root.id, reason: reason.trim() }).then((done) => {
              if (done) setReason('');
              after(done);
            });
          }}
        >
          <p>
            The plan waits for approval: approve it to let its steps run, or reject it with a reason
            to plan again.
          </p>
          <div className="row">
            <button
              type="button"
              disabled={busy}
              onClick={() => void approvePlan.run({ taskId: props.root.id }).then(after)}
            >
              {approvePlan.busy ? 'Approving…' : 'Approve plan'}
            </button>
          </div>
          <label htmlFor="plan-reject-reason">Reason</label>
          <input
            id="plan-reject-reason"
            value={reason}
            onChange={(e) => {
              setReason(e.target.value);
              setNeedReason(false);
            }}
            aria-describedby={needReason ? 'plan-reject-hint' : undefined}
            size={50}
          />{' '}
          <button type="submit" className="danger" disabled={busy}>
            {rejectPlan.busy ? 'Rejecting…' : 'Reject plan'}
          </button>
          {needReason && (
            <p id="plan-reject-hint" className="error">
              Give a reason: the Chief of Staff plans again with it.
            </p>
          )}
        </form>
      )}
      {budgetWaits.length > 0 && (
        <ul>
          {budgetWaits.map((s) => (
            <li key={s.id}>
              Step “{s.title}” waits for a budget: {s.why}. It goes on by itself once the budget is
              raised (setBudget, by an ADMIN).{' '}
              <button
                type="button"
                aria-label={`Try ${s.title} again`}
                disabled={busy}
                onClick={() => void approveTask.run({ id: s.id }).then(after)}
              >
                Try again
              </button>{' '}
              <button
                type="button"
                className="danger"
                aria-label={`Skip ${s.title}`}
                disabled={busy}
                onClick={() => void rejectTask.run({ id: s.id, reason: null }).then(after)}
              >
                Skip
              </button>
            </li>
          ))}
        </ul>
      )}
      {waitingSteps.length > 0 && (
        <ul>
          {waitingSteps.map((s) => (
            <li key={s.id}>
              Step “{s.title}” waits for approval{s.waitingReason ? ` (${s.waitingReason})` : ''}.{' '}
              <button
                type="button"
                aria-label={`Approve ${s.title}`}
                disabled={busy}
                onClick={() => void approveTask.run({ id: s.id }).then(after)}
              >
                Approve
              </button>{' '}
              <ReasonField
                id={`step-reason-${s.id}`}
                label="Reason (optional)"
                name={`Reason (optional) for rejecting ${s.title}`}
                reasons={[reasons, setReasons]}
              />{' '}
              <button
                type="button"
                className="danger"
                aria-label={`Reject ${s.title}`}
                disabled={busy}
                onClick={() =>
                  void rejectTask
                    .run({ id: s.id, reason: typedReason(reasons, `step-reason-${s.id}`) })
                    .then(after)
                }
              >
                Reject
              </button>
            </li>
          ))}
        </ul>
      )}
      {calls.length > 0 && (
        <ul>
          {calls.map((c) => (
            <li key={c.id}>
              Step “{c.step}” wants to call <strong>{c.tool}</strong> with <code>{c.args}</code>.{' '}
              <button
                type="button"
                disabled={busy}
                onClick={() =>
                  void resolve
                    .run({ runId: c.runId, callId: c.callId, decision: 'APPROVE' })
                    .then(after)
                }
              >
                Approve call
              </button>{' '}
              <ReasonField
                id={`call-reason-${c.id}`}
                label="Reason for the agent (optional)"
                reasons={[reasons, setReasons]}
              />{' '}
              <button
                type="button"
                className="danger"
                disabled={busy}
                onClick={() =>
                  void resolve
                    .run({
                      runId: c.runId,
                      callId: c.callId,
                      decision: 'REJECT',
                      // The agent reads it as the call's answer.
                      reason: typedReason(reasons, `call-reason-${c.id}`),
                    })
                    .then(after)
                }
              >
                Reject call
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

type Reasons = [Record<string, string>, (next: Record<string, string>) => void];

/** What was typed in a reason field, trimmed; blank sends none (the API takes it optional). */
function typedReason(reasons: Record<string, string>, id: string): string | null {
  return reasons[id]?.trim() || null;
}

/** An optional reason for a rejection; `name` tells one field from the others on the panel. */
function ReasonField(props: { id: string; label: string; name?: string; reasons: Reasons }) {
  const [reasons, setReasons] = props.reasons;
  return (
    <>
      <label htmlFor={props.id}>{props.label}</label>{' '}
      <input
        id={props.id}
        aria-label={props.name}
        value={reasons[props.id] ?? ''}
        onChange={(e) => setReasons({ ...reasons, [props.id]: e.target.value })}
        size={40}
      />
    </>
  );
}
