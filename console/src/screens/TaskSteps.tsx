import { StatusBadge, type Step } from './TaskParts';

/** Statuses in which a task waits (for a person, a budget): its error then says why, no error. */
const WAITING = new Set<string>(['AWAITING_APPROVAL', 'AWAITING_INPUT']);

/** The engine's mark on a step waiting for a budget (graph/budget.repository.ts). */
const BUDGET_WAIT = /^BUDGET_EXCEEDED:\s*/;

/**
 * What a step waiting for a budget says of it (the budget, and how to raise it), or null for
 * any other wait: as the API's isBudgetWait, AWAITING_APPROVAL with the budget's mark.
 */
export function budgetWait(t: Pick<Waits, 'status' | 'error'>): string | null {
  if (t.status !== 'AWAITING_APPROVAL' || !t.error || !BUDGET_WAIT.test(t.error)) return null;
  return t.error.replace(BUDGET_WAIT, '');
}

interface Waits {
  status: string;
  waitingReason?: string | null;
  error?: string | null;
}

/**
 * Why a task waits, in words, or null. waitingReason says it for a READY step without an agent
 * and a held plan; a step waiting for a budget or for a person's decision on tool calls has it
 * in its error, which the engine writes there though nothing failed.
 */
export function waitNote(t: Waits): string | null {
  const why = [t.waitingReason, WAITING.has(t.status) ? t.error : null].filter(Boolean);
  if (why.length === 0) return null;
  const text = why.join('; ');
  return BUDGET_WAIT.test(text)
    ? `Waiting for a budget: ${text.replace(BUDGET_WAIT, '')}`
    : `Waiting: ${text}`;
}

/** The error to show as an error: none while the task waits (its error is why, above). */
export function errorNote(t: Waits): string | null {
  return WAITING.has(t.status) ? null : (t.error ?? null);
}

/** The plan's steps with who was chosen and why, what each waits for or why it failed. */
export function StepsTable({ steps, rootId }: { steps: Step[]; rootId: string }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Step</th>
          <th scope="col">Status</th>
          <th scope="col">Assignee</th>
          <th scope="col">Why chosen</th>
          <th scope="col">Score</th>
        </tr>
      </thead>
      <tbody>
        {steps.map((s) => {
          const waits = waitNote(s);
          const error = errorNote(s);
          return (
            <tr key={s.id} id={`step-${s.id}`}>
              <td>
                {s.title}
                {s.id === rootId && <span className="muted"> (the task)</span>}
                {waits && <div className="muted">{waits}</div>}
                {error && <div className="muted">Error: {error}</div>}
              </td>
              <td>
                <StatusBadge status={s.status} />
                {/* A removed SKIPPED step's error says so; a CANCELLED one's does not. */}
                {s.removedFromPlan && s.status === 'CANCELLED' && (
                  <div className="muted">removed from the plan</div>
                )}
              </td>
              <td>
                {(s.assignment?.agent ?? s.assignee)?.name ?? <span className="muted">none</span>}
              </td>
              <td>{s.assignment?.reason ?? ''}</td>
              <td>{s.assignment?.score != null ? s.assignment.score.toFixed(2) : ''}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
