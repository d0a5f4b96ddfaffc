import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { freePort } from './utils/redis.js';
import { ROOT } from './utils/process.js';
import { resolveGraphSettings } from '../src/cli/bootstrap.js';
import { loadConfig } from '../src/config/config.js';
import { StartupError } from '../src/cli/startup-error.js';

describe('DATA_DIR', () => {
  // A walk of 2026-12-06: DATA_DIR naming a file stopped start-up with "Error: ENOTDIR: not a
  // directory, mkdir '…/neo4j/conf'" and its stack, naming no variable.
  it('names DATA_DIR when it cannot hold the local Neo4j, before starting anything', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'data-dir-')), 'a-file');
    writeFileSync(file, '');
    // The shared test Neo4j's port: were anything started, it would be refused, not started.
    const config = loadConfig({ DATA_DIR: file, LOCAL_NEO4J_BOLT_PORT: '7687' });
    const resolving = resolveGraphSettings(config, () => {});
    await expect(resolving).rejects.toThrow(StartupError);
    await expect(resolving).rejects.toThrow(
      `DATA_DIR ${file}: cannot create or write ${path.join(file, 'neo4j')} (ENOTDIR); set DATA_DIR to a folder this user can write`,
    );
  });

  // `npm run db:start` goes to the launcher without start-up's check: the same stack there.
  it('names DATA_DIR in one line from npm run db:start too', async () => {
    // A free port: the launcher checks its port before it makes any folder.
    const [bolt, http] = [await freePort(), await freePort()];
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'data-dir-')), 'a-file');
    writeFileSync(file, '');
    const env = {
      ...process.env,
      DATA_DIR: file,
      NEO4J_URI: '',
      LOCAL_NEO4J_BOLT_PORT: `${bolt}`,
      LOCAL_NEO4J_HTTP_PORT: `${http}`,
    };
    const args = ['--import', 'tsx', 'src/cli/db-cli.ts', 'start'];
    const db = spawnSync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8' });
    expect(db.status).toBe(1);
    expect(db.stdout).toBe('');
    expect(db.stderr.trim()).toBe(
      `DATA_DIR ${file}: cannot create or write ${path.join(file, 'neo4j')} (ENOTDIR); set DATA_DIR to a folder this user can write`,
    );
  });
});
