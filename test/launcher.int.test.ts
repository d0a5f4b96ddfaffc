import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { localNeo4jOptions } from '../src/cli/bootstrap.js';
import { resolveNeo4jClasspath } from '../graph/local/classpath.js';
import { localNeo4jPid, setInitialPassword, startLocalNeo4j } from '../graph/local/launcher.js';
import { localNeo4jLayout, renderNeo4jConf } from '../graph/local/neo4j-conf.js';

const local = !process.env.NEO4J_URI;
const quiet = () => {};

/** A throwaway Neo4j home with only its conf: enough for AdminTool, no server. */
function throwawayHome(): string {
  const home = mkdtempSync(path.join(os.tmpdir(), 'neo4j-home-'));
  const layout = localNeo4jLayout(home);
  mkdirSync(layout.confDir);
  const settings = { boltPort: 1, httpPort: 2, heap: '64m', pageCache: '8m' };
  writeFileSync(`${layout.confDir}/neo4j.conf`, renderNeo4jConf(layout, settings));
  return home;
}

/**
 * Whether the credentials AdminTool wrote to data/dbms/auth.ini are those of `password`.
 * The line is `user:SHA-256,<hash>,<salt>,<iterations>:`; the hash is SHA-256 over salt and
 * password, then over itself for the remaining iterations (Neo4j's SecureHasher).
 */
function authIniHolds(home: string, password: string): boolean {
  const line = readFileSync(`${localNeo4jLayout(home).dataDir}/dbms/auth.ini`, 'utf8');
  const [, hash, salt, iterations] = line.split(':')[1]!.split(',');
  let digest = createHash('sha256').update(Buffer.from(salt!, 'hex')).update(password).digest();
  for (let i = 1; i < Number(iterations); i++)
    digest = createHash('sha256').update(digest).digest();
  return digest.toString('hex') === hash;
}

describe('the local Neo4j launcher', () => {
  it.skipIf(!local)('finds the running server instead of starting a second one', async () => {
    const options = localNeo4jOptions(loadConfig(), quiet);
    const pid = localNeo4jPid(options.home);
    expect(pid).toBeDefined();
    const again = await startLocalNeo4j(options);
    expect(again.startedNow).toBe(false);
    expect(again.pid).toBe(pid);
  });

  it.skipIf(!local)('serves Neo4j Browser', async () => {
    const { httpPort } = localNeo4jOptions(loadConfig(), quiet);
    const res = await fetch(`http://127.0.0.1:${httpPort}/browser/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Neo4j Browser');
  });

  it.skipIf(!local)(
    'sets an initial password that begins with "-" literally (it was parsed as an option)',
    async () => {
      const classpath = await resolveNeo4jClasspath(
        `${localNeo4jOptions(loadConfig(), quiet).home}/classpath.json`,
        quiet,
      );
      const atDir = mkdtempSync(path.join(os.tmpdir(), 'at-file-'));
      const atFile = path.join(atDir, 'args');
      writeFileSync(atFile, 'something-else-entirely');
      // -secret-password: a user's NEO4J_PASSWORD (and one generated password in 64 began
      // with "-"); @<file>: picocli would set the file's contents instead.
      for (const password of ['-secret-password', `@${atFile}`]) {
        const home = throwawayHome();
        try {
          setInitialPassword(home, classpath, password);
          expect(authIniHolds(home, password), password).toBe(true);
          expect(readFileSync(localNeo4jLayout(home).passwordFile, 'utf8')).toBe(`${password}\n`);
        } finally {
          rmSync(home, { recursive: true, force: true });
        }
      }
      rmSync(atDir, { recursive: true, force: true });
    },
    120_000,
  );

  it('removes a stale pid file that names some other process', () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'neo4j-home-'));
    mkdirSync(path.join(home, 'run'));
    const pidFile = path.join(home, 'run', 'neo4j.pid');
    writeFileSync(pidFile, String(process.pid)); // alive, but not a Neo4j
    expect(localNeo4jPid(home)).toBeUndefined();
    expect(existsSync(pidFile)).toBe(false);
  });

  it('says which port is taken and how to choose another', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const home = mkdtempSync(path.join(os.tmpdir(), 'neo4j-home-'));
      await expect(
        startLocalNeo4j({
          home,
          user: 'neo4j',
          log: quiet,
          boltPort: port,
          httpPort: 0,
          heap: '256m',
          pageCache: '64m',
        }),
      ).rejects.toThrow(
        `Port ${port} is already in use by another program, so the local Neo4j cannot start. ` +
          'Stop that program, set LOCAL_NEO4J_BOLT_PORT to a free port, or set NEO4J_URI to use an existing Neo4j.',
      );
    } finally {
      blocker.close();
    }
  });
});
