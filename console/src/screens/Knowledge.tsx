import { useEffect, useMemo, useRef, useState } from 'react';
import { graphql } from '../gql';
import type { KnowledgeItemRowFragment } from '../gql/graphql';
import { useQuery } from '../hooks';
import { useSession } from '../session';
import { ErrorNote } from '../components/ErrorNote';
import { GraphView, type GraphNode, type GraphRel } from '../components/GraphView';
import {
  ProvenancePanel,
  fmtDate,
  pct,
  type MemoryProvenanceView,
  type Selection,
} from './KnowledgeParts';
import { UploadDocument } from './UploadDocument';

// What a list shows of an item: its content and its provenance (agent, task).
graphql(`
  fragment KnowledgeItemRow on Knowledge {
    id
    kind
    content
    confidence
    tags
    status
    createdAt
    contributedBy {
      id
      name
    }
    source {
      id
      title
    }
  }
`);

const LatestQuery = graphql(`
  query KnowledgeLatest {
    knowledgeItems(first: 20, orderBy: CREATED_DESC) {
      nodes {
        ...KnowledgeItemRow
      }
    }
  }
`);

const SearchQuery = graphql(`
  query KnowledgeSearch($query: String!) {
    searchKnowledge(query: $query, first: 20) {
      score
      knowledge {
        ...KnowledgeItemRow
      }
    }
  }
`);

// Memory adds what knowledge items do not hold: entities, facts and episodes, with their sources.
const MemoryQuery = graphql(`
  query KnowledgeMemorySearch($query: String!) {
    searchMemory(query: $query, first: 20) {
      kind
      id
      text
      score
      provenance {
        episodeIds
        sources
        runIds
      }
    }
  }
`);

type Item = KnowledgeItemRowFragment;

export function Knowledge() {
  const { canOperate } = useSession();
  const [text, setText] = useState('');
  const [query, setQuery] = useState('');
  const [selection, setSelection] = useState<Selection | null>(null);
  const [ingested, setIngested] = useState(0);

  return (
    <>
      <h1>Knowledge</h1>
      <form
        className="row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(text.trim().slice(0, 500));
        }}
      >
        <div className="grow">
          <label htmlFor="knowledge-search">Search knowledge</label>
          <input
            id="knowledge-search"
            type="search"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="e.g. shipping delays"
            style={{ width: '100%', boxSizing: 'border-box' }}
          />
        </div>
        <div style={{ alignSelf: 'flex-end', display: 'flex', gap: '0.5rem' }}>
          <button type="submit">Search</button>
          {query && (
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setText('');
                setQuery('');
              }}
            >
              Show latest
            </button>
          )}
        </div>
      </form>
      <div className="row">
        <div className="grow">
          {query ? (
            <SearchResults query={query} onSelect={setSelection} />
          ) : (
            <Latest onSelect={setSelection} />
          )}
        </div>
        {selection && (
          <div className="grow">
            <ProvenancePanel selection={selection} onClose={() => setSelection(null)} />
          </div>
        )}
      </div>
      <EntityGraph version={ingested} />
      {canOperate && <UploadDocument onIngested={() => setIngested((n) => n + 1)} />}
    </>
  );
}

function Latest({ onSelect }: { onSelect(s: Selection): void }) {
  const { data, error, loading } = useQuery(LatestQuery);
  return (
    <section className="panel">
      <h2>Latest knowledge</h2>
      {error !== undefined && <ErrorNote error={error} />}
      {loading && !data && <p className="muted">Loading…</p>}
      {data && <ItemList items={data.knowledgeItems.nodes} onSelect={onSelect} />}
    </section>
  );
}

function SearchResults(props: { query: string; onSelect(s: Selection): void }) {
  const vars = { query: props.query };
  const knowledge = useQuery(SearchQuery, vars);
  const memory = useQuery(MemoryQuery, vars);
  const known = new Set(knowledge.data?.searchKnowledge.map((h) => h.knowledge.id));
  const others = (memory.data?.searchMemory ?? []).filter(
    (h) => !(h.kind === 'KNOWLEDGE' && known.has(h.id)),
  );
  return (
    <>
      <section className="panel">
        <h2>Knowledge matching “{props.query}”</h2>
        {knowledge.error !== undefined && <ErrorNote error={knowledge.error} />}
        {knowledge.loading && <p className="muted">Searching…</p>}
        {knowledge.data && (
          <ItemList
            items={knowledge.data.searchKnowledge.map((h) => h.knowledge)}
            onSelect={props.onSelect}
          />
        )}
      </section>
      <section className="panel">
        <h2>Memory matching “{props.query}”</h2>
        {memory.error !== undefined && <ErrorNote error={memory.error} />}
        {memory.loading && <p className="muted">Searching…</p>}
        {memory.data && others.length === 0 && <p className="muted">Nothing more in memory.</p>}
        {others.length > 0 && (
          <ol>
            {others.map((h) => (
              <li key={h.kind + h.id}>
                <MemoryHitRow hit={h} onSelect={props.onSelect} />
              </li>
            ))}
          </ol>
        )}
      </section>
    </>
  );
}

function MemoryHitRow(props: {
  hit: MemoryProvenanceView & { id: string; score: number };
  onSelect(s: Selection): void;
}) {
  const { hit } = props;
  const sources = hit.provenance.sources;
  return (
    <div className="row">
      <div className="grow">
        <span className="status">{hit.kind}</span> {hit.text}
        <div className="muted">
          {sources.length > 0 ? `from ${sources.slice(0, 2).join('; ')}` : 'no recorded source'}
          {sources.length > 2 && ` and ${sources.length - 2} more`} · score {hit.score.toFixed(3)}
        </div>
      </div>
      <button
        type="button"
        className="secondary"
        onClick={() =>
          props.onSelect(hit.kind === 'KNOWLEDGE' ? { knowledgeId: hit.id } : { memory: hit })
        }
      >
        Provenance
      </button>
    </div>
  );
}

function ItemList({ items, onSelect }: { items: Item[]; onSelect(s: Selection): void }) {
  if (items.length === 0) return <p className="muted">No knowledge found.</p>;
  return (
    <ol>
      {items.map((k) => (
        <li key={k.id}>
          <div className="row">
            <div className="grow">
              <span className="status">{k.kind}</span>
              {k.status && <span className={'status ' + k.status}>{k.status}</span>} {k.content}
              <div className="muted">
                by {k.contributedBy?.name ?? 'a person or the platform'} · learned from{' '}
                {k.source ? <a href={`#/tasks/${k.source.id}`}>{k.source.title}</a> : 'no task'} ·
                confidence {pct(k.confidence)} · {fmtDate(k.createdAt)}
                {k.tags.length > 0 && ` · ${k.tags.join(', ')}`}
              </div>
            </div>
            <button
              type="button"
              className="secondary"
              onClick={() => onSelect({ knowledgeId: k.id })}
            >
              Provenance
            </button>
          </div>
        </li>
      ))}
    </ol>
  );
}

const GraphQuery = graphql(`
  query KnowledgeEntityGraph {
    entities(first: 50, orderBy: UPDATED_DESC) {
      nodes {
        id
        name
        type
      }
    }
    facts(first: 100, orderBy: CREATED_DESC) {
      nodes {
        id
        predicate
        value
        subject {
          id
          name
          type
        }
        object {
          id
          name
          type
        }
      }
    }
  }
`);

// Neo4j Browser's label colours, one per entity type.
const PALETTE = '#4c8eda #f79767 #57c7e3 #8dcc93 #d9c8ae #c990c0 #ffc454 #ecb5c9'.split(' ');
function colorOf(type: string): string {
  let h = 0;
  for (const c of type) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length] ?? '#4c8eda';
}

/** Entities and the facts between them; `version` changes reload it (after an ingestion). */
function EntityGraph({ version }: { version: number }) {
  const { data, error, loading, reload } = useQuery(GraphQuery);
  const [focus, setFocus] = useState<string | null>(null);
  const seen = useRef(version);
  useEffect(() => {
    if (seen.current === version) return;
    seen.current = version;
    reload();
  }, [version, reload]);

  const { nodes, rels } = useMemo(() => {
    const byId = new Map<string, GraphNode>();
    const add = (e: { id: string; name: string; type: string }) =>
      byId.has(e.id) || byId.set(e.id, { id: e.id, caption: e.name, color: colorOf(e.type) });
    data?.entities.nodes.forEach(add);
    const edges: GraphRel[] = [];
    for (const f of data?.facts.nodes ?? []) {
      if (!f.object) continue; // a literal value is a property, not a relationship
      add(f.subject);
      add(f.object);
      edges.push({ id: f.id, from: f.subject.id, to: f.object.id, caption: f.predicate });
    }
    return { nodes: [...byId.values()], rels: edges };
  }, [data]);

  const facts = (data?.facts.nodes ?? []).filter(
    (f) => !focus || f.subject.id === focus || f.object?.id === focus,
  );
  const focusName = nodes.find((n) => n.id === focus)?.caption;

  return (
    <section className="panel">
      <h2>Entity graph</h2>
      {error !== undefined && <ErrorNote error={error} />}
      {loading && !data && <p className="muted">Loading…</p>}
      {data && nodes.length === 0 && (
        <p className="muted">
          No entities yet: memory learns them from runs, messages and documents.
        </p>
      )}
      {nodes.length > 0 && (
        <div className="row">
          <div className="grow">
            <GraphView label="Entity graph" nodes={nodes} rels={rels} onNodeClick={setFocus} />
          </div>
          <div className="grow">
            <h3>{focusName ? `Facts of ${focusName}` : 'Facts'}</h3>
            {focus && (
              <button type="button" className="link" onClick={() => setFocus(null)}>
                Show all facts
              </button>
            )}
            {facts.length === 0 ? (
              <p className="muted">No facts.</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th>Subject</th>
                    <th>Relation</th>
                    <th>Object</th>
                  </tr>
                </thead>
                <tbody>
                  {facts.map((f) => (
                    <tr key={f.id}>
                      <td>
                        <button
                          type="button"
                          className="link"
                          onClick={() => setFocus(f.subject.id)}
                        >
                          {f.subject.name}
                        </button>
                      </td>
                      <td>{f.predicate}</td>
                      <td>
                        {f.object ? (
                          <button
                            type="button"
                            className="link"
                            onClick={() => setFocus(f.object!.id)}
                          >
                            {f.object.name}
                          </button>
                        ) : (
                          f.value
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <p className="muted">Entities: {nodes.map((n) => n.caption).join(', ')}</p>
          </div>
        </div>
      )}
    </section>
  );
}
