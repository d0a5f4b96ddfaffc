import type { ReactNode } from 'react';
import type { PerformanceBucket, PerformanceFiguresFragment as Perf } from '../gql/graphql';
import { ErrorNote } from '../components/ErrorNote';

/** The Performance screen's formatting, bars and tables (./Performance.tsx holds its data). */

export const money = (n: number | null | undefined) =>
  n === null || n === undefined ? '–' : `$${n > 0 && n < 0.01 ? n.toFixed(4) : n.toFixed(2)}`;
export const pct = (n: number | null | undefined) =>
  n === null || n === undefined ? '–' : `${Math.round(n * 100)}%`;
export const num = (n: number) => n.toLocaleString();
export const ms = (n: number | null | undefined) =>
  n === null || n === undefined
    ? '–'
    : n >= 1000
      ? `${(n / 1000).toFixed(1)} s`
      : `${Math.round(n)} ms`;
export function when(iso: unknown, bucket: PerformanceBucket) {
  const d = new Date(String(iso));
  if (bucket === 'HOUR')
    return d.toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });
  // Buckets start at the window's start, not at midnight: the time is part of the label.
  const day = d.toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
  return bucket === 'WEEK' ? `week from ${day}` : day;
}

/** A horizontal bar; the figure is always written beside it, so the bar is decoration. */
export function Bar({ share }: { share: number }) {
  const width = Math.max(0, Math.min(1, share)) * 100;
  return (
    <div aria-hidden="true" style={{ background: '#e8eaee', width: '10rem', borderRadius: 2 }}>
      <div className="bar" style={{ width: `${width}%` }} />
    </div>
  );
}

/** Small bars per bucket (0 to 1): the improvement curve. Its name reads out the figures. */
export function Spark({ label, points }: { label: string; points: (number | null | undefined)[] }) {
  const said = points.map((p) => (p === null || p === undefined ? 'none' : pct(p))).join(', ');
  return (
    <div
      role="img"
      aria-label={`${label}: ${said}`}
      style={{ display: 'flex', alignItems: 'flex-end', gap: 1, height: '1.6rem' }}
    >
      {points.map((p, i) => (
        <div
          key={i}
          className="bar"
          style={{
            width: 5,
            borderRadius: 1,
            height: p === null || p === undefined ? 1 : `${Math.max(p * 100, 4)}%`,
            background: p === null || p === undefined ? 'var(--line)' : undefined,
          }}
        />
      ))}
    </div>
  );
}

/** Loads one figure per key, three requests at a time, again whenever `stamp` changes. */
/** A plain table: headers, then one array of cells per row. */
export function Table(props: {
  caption?: string;
  head: string[];
  rows: { key: string; cells: ReactNode[] }[];
  empty: string;
}) {
  if (props.rows.length === 0) return <p className="muted">{props.empty}</p>;
  return (
    <table>
      {props.caption && <caption>{props.caption}</caption>}
      <thead>
        <tr>
          {props.head.map((h) => (
            <th key={h}>{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr key={r.key}>
            {r.cells.map((c, i) => (
              <td key={i}>{c}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function PerfTable(props: {
  what: string;
  rows: { key: string; name: string }[];
  state: { results: Map<string, Perf>; errors: Map<string, unknown> };
  bucket: PerformanceBucket;
}) {
  const firstError = props.state.errors.values().next();
  const per = props.bucket.toLowerCase();
  return (
    <>
      {!firstError.done && <ErrorNote error={firstError.value} />}
      <Table
        head={[
          props.what,
          'Runs',
          'Success rate',
          'Mean score',
          'Cost per success',
          'Cost',
          'Latency p50',
          `Mean score per ${per}`,
        ]}
        empty="None yet."
        rows={props.rows.map((r) => {
          const p = props.state.results.get(r.key);
          if (!p) {
            const why = props.state.errors.has(r.key) ? 'Could not be read.' : 'Loading…';
            return { key: r.key, cells: [r.name, why] };
          }
          return {
            key: r.key,
            cells: [
              r.name,
              num(p.runs),
              <>
                {pct(p.successRate)}
                {p.successRate != null && <Bar share={p.successRate} />}
              </>,
              p.meanScore == null ? '–' : p.meanScore.toFixed(2),
              money(p.costPerSuccessUsd),
              money(p.costUsd),
              ms(p.latencyP50Ms),
              <Spark
                label={`${r.name}, mean score per ${per}`}
                points={p.trend.map((t) => t.meanScore)}
              />,
            ],
          };
        })}
      />
    </>
  );
}

export function BucketTable(props: {
  caption: string;
  bucket: PerformanceBucket;
  rows: { start: unknown; value: number; text: string }[];
}) {
  const max = Math.max(...props.rows.map((r) => r.value), 0);
  return (
    <Table
      caption={props.caption}
      head={['From', 'Figure', 'Chart']}
      empty="No figures yet."
      rows={props.rows.map((r) => ({
        key: String(r.start),
        cells: [when(r.start, props.bucket), r.text, <Bar share={max > 0 ? r.value / max : 0} />],
      }))}
    />
  );
}

export function StatusTable({ counts }: { counts: { status: string; count: number }[] }) {
  const total = counts.reduce((s, c) => s + c.count, 0);
  return (
    <Table
      head={['Status', 'Tasks', 'Share']}
      empty="No tasks yet."
      rows={counts.map((c) => ({
        key: c.status,
        cells: [
          <span className={'status ' + c.status}>{c.status}</span>,
          num(c.count),
          <Bar share={total > 0 ? c.count / total : 0} />,
        ],
      }))}
    />
  );
}
