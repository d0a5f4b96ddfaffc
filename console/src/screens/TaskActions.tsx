import { useState } from 'react';
import { graphql } from '../gql';
import { useMutation } from '../hooks';
import { ErrorNote } from '../components/ErrorNote';
import { useDialog } from '../components/dialog';
import { FINISHED } from './TaskParts';

const CancelTaskMutation = graphql(`
  mutation TaskDetailCancelTask($id: ID!) {
    cancelTask(id: $id) {
      id
      status
      version
    }
  }
`);

const RetryTaskMutation = graphql(`
  mutation TaskDetailRetryTask($id: ID!) {
    retryTask(id: $id) {
      id
      status
      version
    }
  }
`);

/** The statuses retryTask takes a task back from (to PENDING). */
const RETRYABLE = new Set<string>(['FAILED', 'CANCELLED']);

/**
 * Cancel while the task is open (after a confirmation), Retry once it FAILED or was CANCELLED.
 * For keys that may (OPERATOR, ADMIN): the caller decides. The screen then follows the task's
 * live events; what the API refuses (the task ended meanwhile) is shown in its words.
 */
export function TaskActions(props: {
  task: { id: string; title: string; status: string };
  onDone(): void;
}) {
  const { task } = props;
  const cancel = useMutation(CancelTaskMutation);
  const retry = useMutation(RetryTaskMutation);
  const [confirming, setConfirming] = useState(false);
  const open = !FINISHED.has(task.status);
  const retryable = RETRYABLE.has(task.status);
  const after = (done: unknown) => done !== undefined && props.onDone();

  return (
    <>
      {(open || retryable) && (
        <div className="row">
          {open && (
            <button
              type="button"
              className="danger"
              aria-expanded={confirming}
              disabled={cancel.busy}
              onClick={() => setConfirming(true)}
            >
              Cancel task
            </button>
          )}
          {retryable && (
            <button
              type="button"
              disabled={retry.busy}
              onClick={() => void retry.run({ id: task.id }).then(after)}
            >
              {retry.busy ? 'Retrying…' : 'Retry'}
            </button>
          )}
        </div>
      )}
      {/* Kept while open even if the task ends meanwhile: confirming then shows the refusal. */}
      {confirming && (
        <ConfirmCancel
          title={task.title}
          busy={cancel.busy}
          onClose={() => setConfirming(false)}
          onConfirm={() =>
            void cancel.run({ id: task.id }).then((done) => {
              setConfirming(false);
              after(done);
            })
          }
        />
      )}
      {cancel.error !== undefined && <ErrorNote error={cancel.error} />}
      {retry.error !== undefined && <ErrorNote error={retry.error} />}
    </>
  );
}

function ConfirmCancel(props: {
  title: string;
  busy: boolean;
  onConfirm(): void;
  onClose(): void;
}) {
  const dialog = useDialog(() => !props.busy && props.onClose());
  return (
    <div
      role="alertdialog"
      aria-labelledby="cancel-task-title"
      aria-describedby="cancel-task-text"
      className="panel"
      {...dialog}
    >
      <h2 id="cancel-task-title">Cancel this task?</h2>
      <p id="cancel-task-text">
        “{props.title}” and its unfinished steps stop for good; running steps are aborted. Retry
        starts it again from the beginning.
      </p>
      <div className="row">
        <button type="button" className="danger" disabled={props.busy} onClick={props.onConfirm}>
          {props.busy ? 'Cancelling…' : 'Yes, cancel it'}
        </button>
        {/* The safe choice has focus: Enter alone cancels nothing. */}
        <button type="button" className="secondary" autoFocus onClick={props.onClose}>
          Keep it
        </button>
      </div>
    </div>
  );
}
