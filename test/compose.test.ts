import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/config.js';

interface Compose {
  services: Record<string, { image?: string; environment?: Record<string, string | number> }>;
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as Compose;

  it('runs Neo4j 5.26 Community beside the API', () => {
    expect(compose.services.neo4j?.image).toBe('neo4j:5.26-community');
    expect(compose.services.api).toBeDefined();
  });

  it('gives the API a valid configuration of the same variables the app reads', () => {
    const env = Object.fromEntries(
      Object.entries(compose.services.api?.environment ?? {}).map(([k, v]) => [
        k,
        // Substitute ${VAR:-default} and ${VAR} as compose would, with a sample password.
        String(v).replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_, name: string, dflt?: string) =>
          name === 'NEO4J_PASSWORD' ? 'sample-password' : (dflt ?? ''),
        ),
      ]),
    );
    const config = loadConfig(env);
    expect(config.neo4j.uri).toBe('bolt://neo4j:7687');
    expect(config.host).toBe('0.0.0.0');
  });
});
