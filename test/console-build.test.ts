import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { announceConsole, ensureConsoleBuilt } from '../src/console/build.js';
import { captureLogger } from './utils/log-capture.js';

const URL = 'http://127.0.0.1:4000/console/';

/** A folder of its own for the test, removed when it ends. */
function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What `npm start` logs about the console, given how its build went. */
async function startLog(dist: string, build: () => Promise<void>) {
  const { logger, entries } = captureLogger('info');
  const built = await ensureConsoleBuilt((line) => logger.info(line), { dist, build });
  announceConsole(logger, URL, built);
  return entries;
}

describe('the console at start', () => {
  it('names its address when it is built', async () => {
    const dist = scratch('console-built-');
    writeFileSync(join(dist, 'index.html'), '<!doctype html>');
    const entries = await startLog(dist, () => Promise.reject(new Error('not called')));
    expect(entries.map((e) => e.msg)).toEqual([`Console at ${URL}`]);
  });

  it('does not claim a console whose build failed: it says it is not available, and why', async () => {
    const dist = join(scratch('console-failed-'), 'dist');
    const entries = await startLog(dist, () =>
      Promise.reject(new Error('Cannot find package vite\n    at somewhere')),
    );
    expect(entries.map((e) => e.msg).join('\n')).not.toContain('Console at');
    const last = entries.at(-1)!;
    expect(last.level).toBe(40);
    expect(last.msg).toBe(
      `Console not available at ${URL}: its build failed (Cannot find package vite); ` +
        'build it with `npm run console:build`',
    );
  });

  it('does not claim a console whose build wrote no index.html', async () => {
    const dist = join(scratch('console-empty-'), 'dist');
    const entries = await startLog(dist, async () => void mkdirSync(dist, { recursive: true }));
    const last = entries.at(-1)!;
    expect(last.level).toBe(40);
    expect(last.msg).toContain(`Console not available at ${URL}: the build wrote no index.html`);
  });
});
