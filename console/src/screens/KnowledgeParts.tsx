import { useEffect, useRef } from 'react';
import { graphql } from '../gql';
import { useQuery } from '../hooks';
import { ErrorNote } from '../components/ErrorNote';
import { useDialog } from '../components/dialog';

/** DateTimeISO arrives as ISO text (typed unknown by codegen). */
export const fmtDate = (iso: unknown) =>
  typeof iso === 'string' ? new Date(iso).toLocaleString() : '–';
export const pct = (n: number | null | undefined) =>
  n === null || n === undefined ? '–' : `${Math.round(n * 100)}%`;

/** What a memory hit says of where it came from (searchMemory's provenance). */
export interface MemoryProvenanceView {
  kind: string;
  text: string;
  provenance: { episodeIds: string[]; sources: string[]; runIds: string[] };
}

/** Either a knowledge item (read in full by id) or a memory hit (its provenance as found). */
export type Selection = { knowledgeId: string } | { memory: MemoryProvenanceView };

const KnowledgeDetailQuery = graphql(`
  query KnowledgeProvenance($id: ID!) {
    knowledge(id: $id) {
      id
      kind
      content
      confidence
      tags
      createdAt
      updatedAt
      status
      capability
      family
      strength
      appliedRuns
      derivedFrom
      contributedBy {
        id
        name
        role
      }
      source {
        id
        title
        status
      }
      supersedes {
        id
        content
      }
      efficacy {
        applied
        appliedSuccesses
        notApplied
        notAppliedSuccesses
        delta
        low
        high
      }
      transitions {
        id
        from
        to
        reason
        actor
        at
      }
    }
  }
`);

export function ProvenancePanel(props: { selection: Selection; onClose(): void }) {
  const { selection } = props;
  // Opened from a hit far down the list: brought into view, its heading focused.
  const panel = useRef<HTMLElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const dialog = useDialog(props.onClose, selection);
  useEffect(() => {
    panel.current?.scrollIntoView({ block: 'start' });
    heading.current?.focus({ preventScroll: true });
  }, [selection]);
  return (
    <section aria-label="Provenance" className="panel" ref={panel} {...dialog}>
      <div className="row">
        <h2 className="grow" ref={heading} tabIndex={-1}>
          Provenance
        </h2>
        <button type="button" className="secondary" onClick={props.onClose}>
          Close
        </button>
      </div>
      {'knowledgeId' in selection ? (
        <KnowledgeProvenance id={selection.knowledgeId} />
      ) : (
        <MemoryProvenance hit={selection.memory} />
      )}
    </section>
  );
}

function KnowledgeProvenance({ id }: { id: string }) {
  const { data, error, loading } = useQuery(KnowledgeDetailQuery, { id });
  if (error) return <ErrorNote error={error} />;
  const k = data?.knowledge;
  if (!k || k.id !== id) return <p className="muted">{loading ? 'Loading…' : 'Not found.'}</p>;
  const e = k.efficacy;
  return (
    <>
      <p>{k.content}</p>
      <dl>
        <dt>Kind</dt>
        <dd>
          {k.kind}
          {k.status && <span className={'status ' + k.status}> {k.status}</span>}
        </dd>
        <dt>Contributed by</dt>
        <dd>
          {k.contributedBy
            ? `${k.contributedBy.name} (${k.contributedBy.role})`
            : 'a person or the platform'}
        </dd>
        <dt>Learned from</dt>
        <dd>
          {k.source ? (
            <>
              <a href={`#/tasks/${k.source.id}`}>{k.source.title}</a>{' '}
              <span className={'status ' + k.source.status}>{k.source.status}</span>
            </>
          ) : (
            'no task'
          )}
        </dd>
        <dt>Runs it was drawn from</dt>
        <dd>{k.derivedFrom.length ? k.derivedFrom.join(', ') : 'none recorded'}</dd>
        {k.supersedes && (
          <>
            <dt>Replaces</dt>
            <dd>{k.supersedes.content}</dd>
          </>
        )}
        <dt>Confidence</dt>
        <dd>{pct(k.confidence)}</dd>
        {k.tags.length > 0 && (
          <>
            <dt>Tags</dt>
            <dd>{k.tags.join(', ')}</dd>
          </>
        )}
        {(k.capability || k.family) && (
          <>
            <dt>Scope</dt>
            <dd>
              {k.capability && `capability ${k.capability}`} {k.family && `family ${k.family}`}
            </dd>
          </>
        )}
        <dt>Applied in</dt>
        <dd>
          {k.appliedRuns} runs
          {e.delta !== null && e.delta !== undefined && (
            <>
              {' '}
              · PASS rate {e.appliedSuccesses}/{e.applied} with it, {e.notAppliedSuccesses}/
              {e.notApplied} without (difference {pct(e.delta)}, 95% interval {pct(e.low)} to{' '}
              {pct(e.high)})
            </>
          )}
        </dd>
        <dt>Recorded</dt>
        <dd>
          {fmtDate(k.createdAt)}, updated {fmtDate(k.updatedAt)}
        </dd>
      </dl>
      {k.transitions.length > 0 && (
        <table>
          <caption>Changes of state</caption>
          <thead>
            <tr>
              <th>When</th>
              <th>From</th>
              <th>To</th>
              <th>Why</th>
              <th>By</th>
            </tr>
          </thead>
          <tbody>
            {k.transitions.map((t) => (
              <tr key={t.id}>
                <td>{fmtDate(t.at)}</td>
                <td>{t.from ?? '–'}</td>
                <td>{t.to}</td>
                <td>{t.reason}</td>
                <td>{t.actor}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function MemoryProvenance({ hit }: { hit: MemoryProvenanceView }) {
  const p = hit.provenance;
  return (
    <>
      <p>
        <span className="status">{hit.kind}</span> {hit.text}
      </p>
      <dl>
        <dt>Sources</dt>
        <dd>{p.sources.length ? p.sources.join('; ') : 'none recorded'}</dd>
        <dt>Runs it was learned in</dt>
        <dd>{p.runIds.length ? p.runIds.join(', ') : 'none'}</dd>
        <dt>Episodes</dt>
        <dd>{p.episodeIds.length ? p.episodeIds.join(', ') : 'none'}</dd>
      </dl>
    </>
  );
}
