import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/config.js';

interface Compose {
  services: Record<
    string,
    {
      image?: string;
      command?: string[];
      environment?: Record<string, string | number>;
      profiles?: string[];
      volumes?: string[];
      ports?: string[];
    }
  >;
}

/** A service's environment as compose would give it, with a sample password. */
function envOf(service: Compose['services'][string] | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service?.environment ?? {}).map(([k, v]) => [
      k,
      // Substitute ${VAR:-default} and ${VAR} as compose would.
      String(v).replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_, name: string, dflt?: string) =>
        name === 'NEO4J_PASSWORD' ? 'sample-password' : (dflt ?? ''),
      ),
    ]),
  );
}

describe('docker-compose.yml', () => {
  // `merge: true` resolves the `<<:` keys that share one definition between the app services.
  const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as Compose;

  it('runs Neo4j 5.26 Community and Redis beside two API instances and a worker', () => {
    expect(compose.services.neo4j?.image).toBe('neo4j:5.26-community');
    expect(compose.services.redis?.image).toMatch(/^redis:7/);
    for (const name of ['api', 'api-2', 'worker']) expect(compose.services[name]).toBeDefined();
    expect(compose.services.worker?.command).toContain('src/cli/worker.ts');
  });

  it('gives every app service a valid configuration on the same Neo4j and Redis', () => {
    for (const name of ['api', 'api-2', 'worker']) {
      const config = loadConfig(envOf(compose.services[name]));
      expect(config.neo4j.uri, name).toBe('bolt://neo4j:7687');
      expect(config.events.redisUrl, name).toBe('redis://redis:6379');
      expect(config.host, name).toBe('0.0.0.0');
    }
  });

  it('runs Prometheus and Grafana in the observability profile on the deploy files', () => {
    const mounts = (name: string) => compose.services[name]?.volumes ?? [];
    for (const name of ['prometheus', 'grafana']) {
      expect(compose.services[name]?.profiles, name).toEqual(['observability']);
      // Every bind mount's source is in the repository (a named volume has no './').
      for (const mount of mounts(name).filter((m) => m.startsWith('./')))
        expect(existsSync(mount.split(':')[0]!), `${name}: ${mount}`).toBe(true);
    }
    expect(mounts('prometheus')).toContain('./deploy/prometheus:/etc/prometheus:ro');
    expect(mounts('grafana')).toEqual(
      expect.arrayContaining([
        './deploy/grafana/provisioning:/etc/grafana/provisioning:ro',
        './deploy/grafana/dashboards:/etc/grafana/dashboards:ro',
      ]),
    );
    // The app services stay out of the profile; the worker serves the port prometheus.yml scrapes.
    for (const name of ['api', 'api-2', 'worker'])
      expect(compose.services[name]?.profiles).toBeUndefined();
  });

  it('has Prometheus scrape each app service where it serves /metrics, in production too', () => {
    // With NODE_ENV=production the API serves /metrics on its own port only with a token;
    // on a port of its own (inside the compose network, not published) it needs none.
    const scraped = parse(readFileSync('deploy/prometheus/prometheus.yml', 'utf8')) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = scraped.scrape_configs.flatMap((c) =>
      c.static_configs.flatMap((s) => s.targets),
    );
    for (const name of ['api', 'api-2', 'worker']) {
      const config = loadConfig({
        ...envOf(compose.services[name]),
        NODE_ENV: 'production',
        ADMIN_API_KEY: 'a-production-admin-key-of-32-characters',
      });
      expect(config.metrics.enabled, name).toBe(true);
      expect(config.metrics.port, name).not.toBeNull();
      expect(targets, name).toContain(`${name}:${config.metrics.port}`);
      // Not published on the host: only the compose network reaches it.
      expect(JSON.stringify(compose.services[name]?.ports ?? []), name).not.toContain(
        String(config.metrics.port),
      );
    }
  });

  // A reading of 2026-12-08: the image runs as `node` in /app, owned by root; with no
  // ADMIN_API_KEY (the README's command) the API writes DATA_DIR/admin-key there, EACCES.
  it('lets the user of the image write DATA_DIR, where the local admin key is kept', () => {
    const runtime = readFileSync('Dockerfile', 'utf8')
      .split(/^FROM /m)
      .at(-1)!;
    const user = /^USER (\S+)/m.exec(runtime)?.[1];
    const dataDir = loadConfig(envOf(compose.services.api)).dataDir;
    expect(dataDir.endsWith('/.data')).toBe(true);
    expect(runtime).toMatch(
      new RegExp(`^RUN mkdir -p /app/\\.data && chown ${user}:${user} /app/\\.data$`, 'm'),
    );
    expect(runtime.indexOf('RUN mkdir -p /app/.data')).toBeLessThan(
      runtime.indexOf(`USER ${user}`),
    );
  });
});
