import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { registry } from '../src/metrics/metrics.js';
import {
  ALERTS_FILE,
  DASHBOARD_FILE,
  alertExpressions,
  dashboardExpressions,
  metricNamesInDeploy,
} from './utils/deploy-metrics.js';

/** Debian's promtool when installed (`.ci/run` installs the prometheus package), else null. */
function promtoolBinary(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : null;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const promtool = promtoolBinary();
if (!promtool && !process.env.CI)
  console.warn(
    '[promtool] promtool is not on PATH: the promtool checks of deploy/prometheus are skipped (apt-get install prometheus, as .ci/run does)',
  );

/** promtool's tests: skipped without it on a developer's machine, a failure in CI. */
const withPromtool: (name: string, fn: () => void) => void = promtool
  ? it
  : process.env.CI
    ? (name) =>
        it(name, () => {
          throw new Error(
            "promtool is not on PATH: .ci/run should have installed Debian's prometheus package",
          );
        })
    : it.skip;

function runPromtool(...args: string[]): string {
  const run = spawnSync(promtool!, args, { encoding: 'utf8', cwd: ROOT });
  const output = `promtool ${args.join(' ')}\n${run.stdout}${run.stderr}`;
  expect(run.status, output).toBe(0);
  return output;
}

interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** Every panel, including those inside collapsed rows. */
function panelsOf(dashboard: { panels: Panel[] }): Panel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

describe('deploy/prometheus under promtool', () => {
  // promtool resolves rule_files relative to the config file, so paths from the root work.
  withPromtool('accepts prometheus.yml and the alerts.yml it loads', () => {
    expect(runPromtool('check', 'config', 'deploy/prometheus/prometheus.yml')).toMatch(
      /1 rule files found/,
    );
    runPromtool('check', 'rules', 'deploy/prometheus/alerts.yml');
  });

  withPromtool('fires each alert on its incident and stays quiet on a normal day', () => {
    runPromtool('test', 'rules', 'deploy/prometheus/alerts.test.yml');
  });

  withPromtool('parses every dashboard query as PromQL', () => {
    // Grafana's variables are not PromQL: each stands in for a range.
    const rules = dashboardExpressions().map((expr, i) => ({
      record: `dashboard:query_${i}`,
      expr: expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h'),
    }));
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-rules-'));
    try {
      const file = join(dir, 'dashboard.rules.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
      runPromtool('check', 'rules', file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy/ and src/metrics/metrics.ts', () => {
  it('query only metrics that the platform registers', () => {
    const names = metricNamesInDeploy();
    expect(names).toContain('agent_platform_engine_ready_steps');
    expect(names).toContain('agent_platform_graphql_operation_duration_seconds');
    const unregistered = names.filter((name) => !registry.getSingleMetric(name));
    expect(unregistered, 'renamed or removed in src/metrics/metrics.ts?').toEqual([]);
  });

  it('give every alert a duration, a severity, a summary and a description', () => {
    const rules = (
      parse(readFileSync(ALERTS_FILE, 'utf8')) as {
        groups: { rules: Record<string, unknown>[] }[];
      }
    ).groups.flatMap((g) => g.rules.filter((r) => 'alert' in r));
    expect(rules.length).toBeGreaterThanOrEqual(5);
    expect(alertExpressions().every((expr) => expr.trim() !== '')).toBe(true);
    for (const rule of rules) {
      expect(rule, String(rule.alert)).toMatchObject({
        for: expect.any(String),
        labels: { severity: expect.stringMatching(/^(critical|warning)$/) },
        annotations: { summary: expect.any(String), description: expect.any(String) },
      });
    }
  });
});

describe('deploy/grafana/dashboards/agent-platform.json', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as {
    schemaVersion: number;
    panels: Panel[];
    templating: { list: { name: string; current: { value: string } }[] };
  };

  it('gives every panel a query on the chosen Prometheus', () => {
    const panels = panelsOf(dashboard).filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(10);
    for (const panel of panels) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? [])
        expect(target.expr?.trim(), panel.title).toBeTruthy();
    }
  });

  it('defaults its data source variable to the provisioned uid', () => {
    const provisioned = parse(
      readFileSync('deploy/grafana/provisioning/datasources/prometheus.yml', 'utf8'),
    ) as { datasources: { uid: string }[] };
    const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
    expect(variable?.current.value).toBe(provisioned.datasources[0]?.uid);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
  });
});
