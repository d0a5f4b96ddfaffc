import { useState } from 'react';
import { graphql } from '../gql';
import type { OrganisationAgentRowFragment } from '../gql/graphql';
import { useMutation, useSubscription } from '../hooks';
import { usePagedQuery, type Connection } from '../paged';
import { useSession } from '../session';
import { ErrorNote } from '../components/ErrorNote';
import { ShowMore } from '../components/ShowMore';
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
/** A row read with the list has its recent success; one that came by an event has none. */
type ListedRow = Row & { performance?: Recent };

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
  const list = usePagedQuery(AgentsQuery, {}, (d): Connection<ListedRow> => d.agents);
  const { rows, upsert, loading, reload } = list;
  const [notice, setNotice] = useState('');
  const [wizardOpen, setWizardOpen] = useState(false);
  const [busyId, setBusyId] = useState<string>();
  const setStatus = useMutation(SetStatus);
  const activate = useMutation(Activate);

  // A shown agent changes in place; a new one goes at the end (the query's creation order)
  // once every page is shown, else with the last page.
  const liveError = useSubscription(StatusChanged, {}, (d) => upsert(d.agentStatusChanged.agent));

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

  const actionError = setStatus.error ?? activate.error ?? list.moreError;

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
      {list.error !== undefined && <ErrorNote error={list.error} />}
      {liveError !== undefined && <ErrorNote error={liveError} />}
      {actionError !== undefined && <ErrorNote error={actionError} />}
      <section className="panel" aria-labelledby="organisation-agents">
        <div className="row">
          <h2 id="organisation-agents" className="grow">
            Agents{list.loaded ? ` (${rows.length}${list.hasMore ? '+' : ''})` : ''}
          </h2>
          <button type="button" className="secondary" onClick={reload} disabled={loading}>
            {loading ? 'Loading…' : 'Reload'}
          </button>
        </div>
        {list.loaded && rows.length === 0 && (
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
                    <Success recent={a.performance} />
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
        <ShowMore list={list} what="agents" />
      </section>
    </>
  );
}
