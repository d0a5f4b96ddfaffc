import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis.js';

/** Debian's prometheus when installed (`.ci/run` installs it), else null. */
export function prometheusBinary(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : null;
}

export const NO_PROMETHEUS =
  'prometheus is not installed: the Prometheus scrape test is skipped (apt-get install prometheus, as .ci/run does)';

export interface Prometheus {
  url: string;
  /** An instant query's vector, as [labels, value] pairs. */
  query(promql: string): Promise<{ labels: Record<string, string>; value: number }[]>;
  /** Last scrape of each target: health and error. */
  targets(): Promise<{ health: string; lastError: string; scrapeUrl: string }[]>;
  stop(): Promise<void>;
}

/**
 * A real Prometheus on a loopback port of its own, scraping `target` (a /metrics URL) every
 * second with `token` as its bearer credential, its data in a temp directory.
 */
export async function startPrometheus(target: string, token: string | null): Promise<Prometheus> {
  const binary = prometheusBinary();
  if (!binary) throw new Error(NO_PROMETHEUS);
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
  const { host, pathname } = new URL(target);
  const config = [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    'scrape_configs:',
    '  - job_name: agent-platform',
    `    metrics_path: ${pathname}`,
    ...(token ? ['    authorization:', `      credentials: ${token}`] : []),
    '    static_configs:',
    `      - targets: ['${host}']`,
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + 30_000;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (performance.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`prometheus did not become ready on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const api = async <T>(path: string): Promise<T> => {
    const body = (await (await fetch(`${url}${path}`)).json()) as { status: string; data: T };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${JSON.stringify(body)}`);
    return body.data;
  };
  return {
    url,
    async query(promql) {
      const data = await api<{
        result: { metric: Record<string, string>; value: [number, string] }[];
      }>(`/api/v1/query?query=${encodeURIComponent(promql)}`);
      return data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
    },
    async targets() {
      const data = await api<{
        activeTargets: { health: string; lastError: string; scrapeUrl: string }[];
      }>('/api/v1/targets');
      return data.activeTargets;
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
