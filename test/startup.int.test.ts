import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, symlinkSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ROOT, runEntry, type AppProcess } from './utils/process.js';

const local = !process.env.NEO4J_URI;
const neo4j = inject('neo4j');

/** Counts the Neo4j JVMs serving this project's default data folder. */
function localNeo4jProcesses(): number {
  const out = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes('CommunityEntryPoint') && l.includes(`--home-dir=${ROOT}.data/neo4j`))
    .length;
}

describe('npm start', () => {
  const started: AppProcess[] = [];
  afterAll(() => {
    for (const p of started) p.child.kill('SIGKILL');
  });

  it.skipIf(!local)(
    'run twice reuses one Neo4j, serves, and stops cleanly on SIGTERM',
    async () => {
      // NODE_ENV as a person's `npm start` has it, not vitest's "test": Apollo Server stops on
      // signals itself unless told not to, and raced the API's own shutdown (15 s, then exit 1).
      const first = runEntry('src/cli/main.ts', { PORT: '0', NODE_ENV: '' });
      const second = runEntry('src/cli/main.ts', { PORT: '0', NODE_ENV: 'development' });
      started.push(first, second);
      const [, url1] = await first.waitFor(/ready at (http:\/\/\S+\/graphql)/);
      const [, url2] = await second.waitFor(/ready at (http:\/\/\S+\/graphql)/);
      expect(localNeo4jProcesses()).toBe(1);

      for (const url of [url1!, url2!]) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ health { neo4j { up } } }' }),
        });
        expect(await res.json()).toEqual({ data: { health: { neo4j: { up: true } } } });
      }

      // The local admin key: kept in the data folder, named (not shown) off a terminal, working.
      const keyFile = `${ROOT}.data/admin-key`;
      await first.waitFor(/Authorization: Bearer/);
      expect(first.output()).toContain(`Authorization: Bearer <the key in ${keyFile}>`);
      const key = readFileSync(keyFile, 'utf8').trim();
      expect(first.output()).not.toContain(key);
      const viewer = await fetch(url1!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: '{ viewer { role tenant { id } } }' }),
      });
      expect(await viewer.json()).toEqual({
        data: { viewer: { role: 'ADMIN', tenant: { id: 'default' } } },
      });

      first.child.kill('SIGTERM');
      second.child.kill('SIGINT');
      expect(await first.exited).toBe(0);
      expect(await second.exited).toBe(0);
      expect(first.output()).toContain('Stopped');
      // The API stopping leaves the shared Neo4j running for others.
      expect(localNeo4jProcesses()).toBe(1);
    },
    90_000, // two processes starting at once: slow on a loaded 2-core CI
  );

  it('stops with one line naming the variable when the environment is wrong', async () => {
    const app = runEntry('src/cli/main.ts', { PORT: 'eighty' });
    started.push(app);
    expect(await app.exited).toBe(1);
    expect(app.output().trim()).toBe(
      'Cannot start: Invalid environment: PORT must be a port number from 0 to 65535, but got "eighty"',
    );
  });

  // DATA_DIR=/proc/… hung start-up with no word: Node's recursive mkdir loops for ever where
  // mkdir says ENOENT under a parent that exists (procfs; a dangling symlink likewise).
  it('stops at once, naming DATA_DIR, when it is a special or dangling folder', async () => {
    const dangling = `${ROOT}.data/dangling-${process.pid}`;
    symlinkSync(`${ROOT}.data/nothing-${process.pid}`, dangling);
    const ports = { LOCAL_NEO4J_BOLT_PORT: '7703', LOCAL_NEO4J_HTTP_PORT: '7483' };
    const local = { NEO4J_URI: '', NEO4J_PASSWORD: '', ...ports };
    const remote = { NEO4J_URI: neo4j.uri, NEO4J_PASSWORD: neo4j.password };
    try {
      for (const env of [
        { ...local, DATA_DIR: '/proc/agent-platform' },
        { ...local, DATA_DIR: '/proc' },
        { ...local, DATA_DIR: `${dangling}/data` },
        // With NEO4J_URI only the admin key is kept there.
        { ...remote, DATA_DIR: '/proc', ADMIN_API_KEY: '' },
      ]) {
        const app = runEntry('src/cli/main.ts', { PORT: '0', ...env });
        started.push(app);
        const hung = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000).unref());
        expect(await Promise.race([app.exited, hung]), env.DATA_DIR).toBe(1);
        const refusal = app.output().slice(app.output().indexOf('Cannot start'));
        expect(refusal, app.output()).toMatch(
          /^Cannot start: DATA_DIR \S+: cannot create or write \S+ \([A-Z]+\); set DATA_DIR to a folder this user can write\n$/,
        );
        expect(app.output()).not.toMatch(/\n\s+at /);
      }
    } finally {
      unlinkSync(dangling);
    }
  }, 150_000);

  it('stops with one clear line when Neo4j refuses the password', async () => {
    const app = runEntry('src/cli/main.ts', {
      PORT: '0',
      NEO4J_URI: neo4j.uri,
      NEO4J_PASSWORD: 'not-the-password',
    });
    started.push(app);
    expect(await app.exited).toBe(1);
    const lines = app.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Cannot start: Neo4j at .* refused the credentials for user "neo4j"/);
  });

  it.skipIf(!local)(
    'stops with one clear line when the local Neo4j refuses the password',
    async () => {
      const app = runEntry('src/cli/main.ts', { PORT: '0', NEO4J_PASSWORD: 'not-the-password' });
      started.push(app);
      expect(await app.exited).toBe(1);
      expect(app.output()).toMatch(/Cannot start: The local Neo4j refused the password/);
      expect(app.output()).not.toMatch(/\n\s+at /); // no stack trace
    },
  );

  it('stops with one line naming the variable when Redis is away or a port is taken', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const port = String((taken.address() as AddressInfo).port);
    const db = { NEO4J_URI: neo4j.uri, NEO4J_PASSWORD: neo4j.password };
    try {
      for (const [env, line] of [
        [
          { PORT: '0', REDIS_URL: 'redis://127.0.0.1:1' },
          /^Cannot start: Cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(REDIS_URL\)/,
        ],
        [
          { PORT: port },
          new RegExp(`^Cannot start: PORT ${port}: 127\\.0\\.0\\.1:${port} is in use`),
        ],
        [
          { PORT: '0', METRICS_PORT: port },
          new RegExp(`^Cannot start: METRICS_PORT ${port}: 127\\.0\\.0\\.1:${port} is in use`),
        ],
      ] as const) {
        const app = runEntry('src/cli/main.ts', { ...db, HOST: '127.0.0.1', ...env });
        started.push(app);
        expect(await app.exited).toBe(1);
        const refusal = app.output().slice(app.output().indexOf('Cannot start'));
        expect(refusal, app.output()).toMatch(line);
        // No stack trace, before the line either: a taken PORT reached graphql-ws's WebSocket
        // server too, which printed it as an "Internal error" with its stack (walk of 2026-12-06).
        expect(app.output()).not.toMatch(/\n\s+at /);
      }
    } finally {
      taken.close();
    }
  }, 90_000);
});
