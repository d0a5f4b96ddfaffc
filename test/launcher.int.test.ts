import { mkdirSync, mkdtempSync, existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { localNeo4jOptions } from '../src/bootstrap.js';
import { localNeo4jPid, startLocalNeo4j } from '../graph/local/launcher.js';

const local = !process.env.NEO4J_URI;
const quiet = () => {};

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
