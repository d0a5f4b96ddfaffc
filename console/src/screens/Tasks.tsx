import { useEffect, useState } from 'react';
import { graphql } from '../gql';
import type { TaskPriority, TaskStatus } from '../gql/graphql';
import { useMutation, useSubscription } from '../hooks';
import { usePagedQuery } from '../paged';
import { useSession } from '../session';
import { ErrorNote } from '../components/ErrorNote';
import { ShowMore } from '../components/ShowMore';
import { StatusBadge, formatTime, useCoalesced } from './TaskParts';

/** Every status, in the order a task goes through them; a Record so a new one fails the typecheck. */
const STATUS_SET: Record<TaskStatus, true> = {
  PENDING: true,
  READY: true,
  IN_PROGRESS: true,
  AWAITING_APPROVAL: true,
  AWAITING_INPUT: true,
  COMPLETED: true,
  FAILED: true,
  CANCELLED: true,
  SKIPPED: true,
};
const TASK_STATUSES = Object.keys(STATUS_SET) as TaskStatus[];

const PRIORITY_SET: Record<TaskPriority, true> = {
  LOW: true,
  MEDIUM: true,
  HIGH: true,
  URGENT: true,
};
const TASK_PRIORITIES = Object.keys(PRIORITY_SET) as TaskPriority[];

/**
 * The longest search the API takes: its LIMITS.search (src/domain/validate.ts). Repeated, since
 * the console imports only the printed schema; test/console-task-list.int.test.ts checks the two.
 */
export const SEARCH_MAX = 500;

/** One row of the list; the pages and the live events select the same fields. */
graphql(`
  fragment TasksListRow on Task {
    id
    title
    status
    priority
    createdAt
    assignee {
      id
      name
    }
  }
`);

const TasksQuery = graphql(`
  query TasksList($filter: TaskFilter, $after: String) {
    tasks(first: 50, after: $after, orderBy: CREATED_DESC, filter: $filter) {
      nodes {
        ...TasksListRow
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const TaskUpdatedSubscription = graphql(`
  subscription TasksTaskUpdated {
    taskUpdated {
      change
      task {
        ...TasksListRow
        parent {
          id
        }
      }
    }
  }
`);

const SubmitTaskMutation = graphql(`
  mutation TasksSubmitTask($input: SubmitTaskInput!) {
    submitTask(input: $input) {
      id
    }
  }
`);

export function Tasks() {
  const { canOperate } = useSession();
  return (
    <>
      <h1>Tasks</h1>
      {canOperate && <SubmitTaskForm />}
      <TaskList />
    </>
  );
}

function SubmitTaskForm() {
  const submit = useMutation(SubmitTaskMutation);
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [priority, setPriority] = useState<TaskPriority>('MEDIUM');
  const [planApproval, setPlanApproval] = useState(false);
  return (
    <section aria-label="Submit a task" className="panel">
      <h2>Submit a task</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit
            .run({
              input: {
                title: title.trim(),
                description: description.trim() || null,
                priority,
                planApproval,
              },
            })
            .then((done) => {
              if (done) location.hash = `#/tasks/${done.submitTask.id}`;
            });
        }}
      >
        <label htmlFor="task-title">Title</label>
        <input
          id="task-title"
          required
          maxLength={200}
          size={60}
          value={title}
          onChange={(e) => setTitle(e.target.value)}
        />
        <label htmlFor="task-description">Description</label>
        <textarea
          id="task-description"
          rows={4}
          cols={60}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
        <label htmlFor="task-priority">Priority</label>
        <select
          id="task-priority"
          value={priority}
          onChange={(e) => setPriority(e.target.value as TaskPriority)}
        >
          {TASK_PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
        <div style={{ marginTop: '0.6rem' }}>
          <input
            id="task-plan-approval"
            type="checkbox"
            checked={planApproval}
            onChange={(e) => setPlanApproval(e.target.checked)}
          />{' '}
          <label htmlFor="task-plan-approval" style={{ display: 'inline' }}>
            Hold the plan for approval
          </label>
        </div>
        <p>
          <button type="submit" disabled={submit.busy}>
            {submit.busy ? 'Submitting…' : 'Submit task'}
          </button>
        </p>
        {submit.busy && <progress aria-label="Submitting the task" />}
      </form>
      {submit.error !== undefined && <ErrorNote error={submit.error} />}
    </section>
  );
}

function TaskList() {
  const [status, setStatus] = useState<TaskStatus | ''>('');
  const [search, setSearch] = useState('');
  const [text, setText] = useState('');
  // Ask only once typing pauses: each keystroke would be a request against the rate limit.
  useEffect(() => {
    const timer = setTimeout(() => setText(search.trim()), 400);
    return () => clearTimeout(timer);
  }, [search]);
  const filter = {
    rootsOnly: true,
    ...(status ? { status: [status] } : {}),
    ...(text ? { text } : {}),
  };
  // A new filter or search starts from its first page.
  const list = usePagedQuery(TasksQuery, { filter }, (d) => d.tasks);
  const reloadSoon = useCoalesced(list.reload, 500);
  // Only top-level tasks are listed: a step's change does not alter the list. A task shown
  // changes in place (on any page); the first page is read again for new and moved tasks.
  const liveError = useSubscription(TaskUpdatedSubscription, {}, ({ taskUpdated: { task } }) => {
    if (task.parent) return;
    list.update(task.id, (row) => (status && task.status !== status ? null : { ...row, ...task }));
    reloadSoon();
  });
  const tasks = list.rows;
  const filtered = !!(status || text);

  return (
    <section aria-label="Task list" className="panel">
      <h2>Submitted tasks{list.loaded ? ` (${tasks.length}${list.hasMore ? '+' : ''})` : ''}</h2>
      <div className="row">
        <div>
          <label htmlFor="tasks-status">Status</label>
          <select
            id="tasks-status"
            value={status}
            onChange={(e) => setStatus(e.target.value as TaskStatus | '')}
          >
            <option value="">All</option>
            {TASK_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="tasks-search">Search</label>
          <input
            id="tasks-search"
            type="search"
            value={search}
            maxLength={SEARCH_MAX}
            onChange={(e) => setSearch(e.target.value)}
            placeholder="In the title or description"
          />
        </div>
      </div>
      {list.error !== undefined && <ErrorNote error={list.error} />}
      {list.moreError !== undefined && <ErrorNote error={list.moreError} />}
      {liveError !== undefined && <ErrorNote error={liveError} />}
      {list.loading && !list.loaded && <p className="muted">Loading…</p>}
      {list.loaded && tasks.length === 0 && <p className="muted">No tasks match.</p>}
      {tasks.length > 0 && (
        <table>
          <caption className="muted">
            Top-level tasks{filtered ? ' that match' : ''}, newest first, 50 at a time.
          </caption>
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Status</th>
              <th scope="col">Priority</th>
              <th scope="col">Assignee</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {tasks.map((t) => (
              <tr key={t.id}>
                <td>
                  <a href={`#/tasks/${t.id}`}>{t.title}</a>
                </td>
                <td>
                  <StatusBadge status={t.status} />
                </td>
                <td>{t.priority}</td>
                <td>{t.assignee?.name ?? <span className="muted">none</span>}</td>
                <td>{formatTime(t.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ShowMore list={list} what="tasks" />
    </section>
  );
}
