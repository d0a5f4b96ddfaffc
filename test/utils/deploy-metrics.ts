import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The deploy files that query the platform's metrics, from the repository root. */
export const ALERTS_FILE = fileURLToPath(
  new URL('../../deploy/prometheus/alerts.yml', import.meta.url),
);
export const DASHBOARD_FILE = fileURLToPath(
  new URL('../../deploy/grafana/dashboards/agent-platform.json', import.meta.url),
);

/**
 * Our metrics and prom-client's default ones. Recording rules (`agent_platform:…`) and
 * Prometheus's own series (`up`) do not match.
 */
const METRIC = /\b(?:agent_platform|process|nodejs)_\w+/g;
/** The series a histogram or summary exposes beside its registered name. */
const SERIES_SUFFIX = /_(?:bucket|sum|count)$/;

interface RuleFile {
  groups: { rules: { expr: string }[] }[];
}

/** Every PromQL query in alerts.yml. */
export function alertExpressions(): string[] {
  const rules = parse(readFileSync(ALERTS_FILE, 'utf8')) as RuleFile;
  return rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
}

/** Every PromQL query in the dashboard: panel targets (`expr`) and variables (`query`). */
export function dashboardExpressions(): string[] {
  const found: string[] = [];
  const walk = (node: unknown, key?: string): void => {
    if (typeof node === 'string') {
      if (key === 'expr' || key === 'query') found.push(node);
    } else if (Array.isArray(node)) node.forEach((n) => walk(n));
    else if (node && typeof node === 'object')
      for (const [k, v] of Object.entries(node)) walk(v, k);
  };
  walk(JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')));
  return found;
}

/**
 * The metrics that alerts.yml and the dashboard query, as registered names (a histogram's
 * `_bucket`, `_sum` and `_count` series give its own name), deduplicated and sorted. Includes
 * the prom-client default metrics they use (`process_…`, `nodejs_…`).
 */
export function metricNamesInDeploy(): string[] {
  const names = [...alertExpressions(), ...dashboardExpressions()].flatMap((expr) =>
    [...expr.matchAll(METRIC)].map(([name]) => name.replace(SERIES_SUFFIX, '')),
  );
  return [...new Set(names)].sort();
}
