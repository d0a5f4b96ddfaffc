import type { PerformanceBucket } from '../gql/graphql';
import { money, num, when } from './PerformanceParts';

export interface UsagePoint {
  bucketStart: unknown;
  label: string;
  calls: number;
  totalTokens: number;
  costUsd: number;
}

/**
 * Tokens and cost over time for one grouping (model or agent) of llmUsageTrend: a row per
 * group with its totals and its tokens per bucket as small bars, whose name reads the figures.
 */
export function UsageTrendTable(props: {
  caption: string;
  what: string;
  points: UsagePoint[];
  since: unknown;
  bucket: PerformanceBucket;
  bucketMs: number;
  count: number;
}) {
  const since = new Date(String(props.since)).getTime();
  const groups = new Map<string, { calls: number; tokens: number; cost: number; per: number[] }>();
  for (const p of props.points) {
    const g = groups.get(p.label) ?? {
      calls: 0,
      tokens: 0,
      cost: 0,
      per: new Array<number>(props.count).fill(0),
    };
    const index = Math.round((new Date(String(p.bucketStart)).getTime() - since) / props.bucketMs);
    g.calls += p.calls;
    g.tokens += p.totalTokens;
    g.cost += p.costUsd;
    if (index >= 0 && index < props.count) g.per[index]! += p.totalTokens;
    groups.set(p.label, g);
  }
  if (groups.size === 0) return <p className="muted">No model calls in this period.</p>;
  const rows = [...groups.entries()].sort((a, b) => b[1].tokens - a[1].tokens);
  const max = Math.max(...rows.flatMap(([, g]) => g.per), 1);
  return (
    <table>
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <th>{props.what}</th>
          <th>Calls</th>
          <th>Tokens</th>
          <th>Cost</th>
          <th>Tokens per {props.bucket.toLowerCase()}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([label, g]) => (
          <tr key={label}>
            <td>{label}</td>
            <td>{num(g.calls)}</td>
            <td>{num(g.tokens)}</td>
            <td>{money(g.cost)}</td>
            <td>
              <div
                role="img"
                aria-label={`${label}, tokens per ${props.bucket.toLowerCase()}: ${g.per
                  .map(
                    (t, i) =>
                      `${when(new Date(since + i * props.bucketMs), props.bucket)} ${num(t)}`,
                  )
                  .join(', ')}`}
                style={{ display: 'flex', alignItems: 'flex-end', gap: 1, height: '1.6rem' }}
              >
                {g.per.map((t, i) => (
                  <div
                    key={i}
                    className="bar"
                    style={{
                      width: 5,
                      borderRadius: 1,
                      height: t === 0 ? 1 : `${Math.max((t / max) * 100, 4)}%`,
                      background: t === 0 ? 'var(--line)' : undefined,
                    }}
                  />
                ))}
              </div>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
