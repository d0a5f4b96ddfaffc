import { useCallback, useEffect, useState } from 'react';
import { graphql } from '../gql';
import type { OrganisationAgentRowFragment } from '../gql/graphql';
import { useMutation, useQuery, useSubscription } from '../hooks';
import { useSession } from '../session';
import { ErrorNote } from '../components/ErrorNote';
import { AgentWizard, ROLE_NAMES } from './AgentWizard';

/** One table row; the query, the live events and every mutation select the same fields. */
graphql(`
  fragment OrganisationAgentRow on Agent {
    id
    name
    role
    status
    active
    model
    capabilities {
      name
    }
    taskCounts {
      status
      count
    }
  }
`);

// Recent success comes with the list only: a status event does not change it, and reading it
// for every event would cost a statement each. Pages of the API's largest size, on demand.
const AgentsQuery = graphql(`
  query OrganisationAgents($after: String) {
    agents(first: 100, after: $after) {
      nodes {
        ...OrganisationAgentRow
        performance {
          runs
          evaluated
          successes
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const StatusChanged = graphql(`
  subscription OrganisationAgentStatusChanged {
    agentStatusChanged {
      agent {
        ...OrganisationAgentRow
      }
    }
  }
`);

// Pausing is the PAUSED status (the agent keeps its place but takes no work until set IDLE);
// deactivateAgent is the heavier "take it offline".
const SetStatus = graphql(`
  mutation OrganisationSetAgentStatus($id: ID!, $status: AgentStatus!) {
    setAgentStatus(id: $id, status: $status) {
      ...OrganisationAgentRow
    }
  }
`);

const Activate = graphql(`
  mutation OrganisationActivateAgent($id: ID!) {
    activateAgent(id: $id) {
      ...OrganisationAgentRow
    }
  }
`);

type Row = OrganisationAgentRowFragment;

/** Working and able to take work: the only state "Pause" makes sense from. */
function isRunning(a: Row): boolean {
  return a.active && (a.status === 'IDLE' || a.status === 'BUSY');
}

function countOf(a: Row, ...statuses: string[]): number {
  return a.taskCounts.filter((c) => statuses.includes(c.status)).reduce((n, c) => n + c.count, 0);
}

function Load({ agent }: { agent: Row }) {
  const running = countOf(agent, 'IN_PROGRESS');
  const queued = countOf(agent, 'PENDING', 'READY');
  const waiting = countOf(agent, 'AWAITING_APPROVAL', 'AWAITING_INPUT');
  if (!running && !queued && !waiting) return <span className="muted">no open tasks</span>;
  const parts = [`${running} running`, `${queued} queued`];
  if (waiting) parts.push(`${waiting} waiting`);
  return <>{parts.join(' · ')}</>;
}

interface Recent {
  runs: number;
  evaluated: number;
  successes: number;
}

/** Recent success: the agent's evaluated runs of the last 7 days that passed (Agent.performance). */
function Success({ recent }: { recent?: Recent }) {
  // A row without figures is an agent created since the list was read: it has no runs yet.
  if (!recent?.runs) return <span className="muted">no runs in 7 days</span>;
  if (!recent.evaluated)
    return <span className="muted">{recent.runs} runs in 7 days, none evaluated yet</span>;
  return (
    <>
      {Math.round((100 * recent.successes) / recent.evaluated)}%{' '}
      <span className="muted">
        ({recent.successes} of {recent.evaluated} evaluated runs in 7 days)
      </span>
    </>
  );
}

export function Organisation() {
  const { canOperate } = useSession();
  const { data, error, loading, reload } = useQuery(AgentsQuery, {});
  const [rows, setRows] = useState<Row[]>([]);
  const [recent, setRecent] = useState(new Map<string, Recent>());
  // The cursor of the next page, or null once every agent is shown.
  const [next, setNext] = useState<string | null>(null);
  const more = useMutation(AgentsQuery);
  const [notice, setNotice] = useState('');
  const [wizardOpen, setWizardOpen] = useState(false);
  const [busyId, setBusyId] = useState<string>();
  const setStatus = useMutation(SetStatus);
  const activate = useMutation(Activate);

  useEffect(() => {
    if (!data) return;
    setRows(data.agents.nodes);
    setRecent(new Map(data.agents.nodes.map((a) => [a.id, a.performance])));
    setNext(data.agents.pageInfo.hasNextPage ? data.agents.pageInfo.endCursor : null);
  }, [data]);

  // Replace the row in place, or add a new agent at the end (the query's creation order).
  const upsert = useCallback((agent: Row) => {
    setRows((prev) => {
      const i = prev.findIndex((r) => r.id === agent.id);
      if (i < 0) return [...prev, agent];
      const next = prev.slice();
      next[i] = agent;
      return next;
    });
  }, []);

  const liveError = useSubscription(StatusChanged, {}, (d) => upsert(d.agentStatusChanged.agent));

  async function showMore() {
    const page = (await more.run({ after: next }))?.agents;
    if (!page) return;
    // An agent already shown (it came by a live event) keeps its place, with the page's data.
    page.nodes.forEach(upsert);
    setRecent(
      (prev) => new Map([...prev, ...page.nodes.map((a) => [a.id, a.performance] as const)]),
    );
    setNext(page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null);
  }

  async function pause(agent: Row) {
    setBusyId(agent.id);
    const r = await setStatus.run({ id: agent.id, status: 'PAUSED' });
    setBusyId(undefined);
    if (r) {
      upsert(r.setAgentStatus);
      setNotice(`Paused ${r.setAgentStatus.name}`);
    }
  }

  async function resume(agent: Row) {
    setBusyId(agent.id);
    let current: Row | undefined = agent;
    // An inactive or OFFLINE agent needs activateAgent; a PAUSED or ERROR one goes back to IDLE.
    if (!current.active || current.status === 'OFFLINE') {
      current = (await activate.run({ id: agent.id }))?.activateAgent;
    }
    if (current && (current.status === 'PAUSED' || current.status === 'ERROR')) {
      current = (await setStatus.run({ id: agent.id, status: 'IDLE' }))?.setAgentStatus;
    }
    setBusyId(undefined);
    if (current) {
      upsert(current);
      setNotice(`Activated ${current.name}`);
    }
  }

  const actionError = setStatus.error ?? activate.error ?? more.error;

  return (
    <>
      <h1>Organisation</h1>
      <p role="status">{notice}</p>
      {canOperate && (
        <p>
          <button
            type="button"
            aria-expanded={wizardOpen}
            onClick={() => setWizardOpen((open) => !open)}
          >
            New agent
          </button>
        </p>
      )}
      {canOperate && wizardOpen && (
        <AgentWizard
          onCancel={() => setWizardOpen(false)}
          onCreated={(agent) => {
            upsert(agent);
            setWizardOpen(false);
            setNotice(`Created ${agent.name}`);
          }}
        />
      )}
      {error !== undefined && <ErrorNote error={error} />}
      {liveError !== undefined && <ErrorNote error={liveError} />}
      {actionError !== undefined && <ErrorNote error={actionError} />}
      <section className="panel" aria-labelledby="organisation-agents">
        <div className="row">
          <h2 id="organisation-agents" className="grow">
            Agents{data ? ` (${rows.length}${next ? '+' : ''})` : ''}
          </h2>
          <button type="button" className="secondary" onClick={reload} disabled={loading}>
            {loading ? 'Loading…' : 'Reload'}
          </button>
        </div>
        {data && rows.length === 0 && (
          <p className="muted">
            No agents yet.{canOperate ? ' Create the first with “New agent”.' : ''}
          </p>
        )}
        {rows.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Capabilities</th>
                <th scope="col">Current load</th>
                <th scope="col">Success</th>
                <th scope="col">Model</th>
                {canOperate && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {rows.map((a) => (
                <tr key={a.id}>
                  <td>
                    <a href={`#/chat/${a.id}`} title={`Talk to ${a.name}`}>
                      {a.name}
                    </a>
                  </td>
                  <td>{ROLE_NAMES[a.role]}</td>
                  <td>
                    <span className={'status ' + a.status}>{a.status}</span>
                    {!a.active && a.status !== 'OFFLINE' && (
                      <span className="muted"> inactive</span>
                    )}
                  </td>
                  <td>
                    {a.capabilities.length ? (
                      a.capabilities.map((c) => c.name).join(', ')
                    ) : (
                      <span className="muted">none</span>
                    )}
                  </td>
                  <td>
                    <Load agent={a} />
                  </td>
                  <td>
                    <Success recent={recent.get(a.id)} />
                  </td>
                  <td>{a.model ?? <span className="muted">platform default</span>}</td>
                  {canOperate && (
                    <td>
                      {isRunning(a) ? (
                        <button
                          type="button"
                          className="secondary"
                          aria-label={`Pause ${a.name}`}
                          disabled={busyId === a.id}
                          onClick={() => void pause(a)}
                        >
                          Pause
                        </button>
                      ) : (
                        <button
                          type="button"
                          className="secondary"
                          aria-label={`Activate ${a.name}`}
                          disabled={busyId === a.id}
                          onClick={() => void resume(a)}
                        >
                          Activate
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {next && (
          <p>
            <button
              type="button"
              className="secondary"
              onClick={() => void showMore()}
              disabled={more.busy}
            >
              {more.busy ? 'Loading…' : 'Show more agents'}
            </button>
          </p>
        )}
      </section>
    </>
  );
}
