import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from './utils/process.js';

/**
 * lowerCpuPriority in a process of its own (it cannot be undone in the test runner's): the
 * priority of its main thread after, and of every thread it has then (Linux keeps one each).
 */
function lowerIn(nice: number, startAt = 0): { main: number; threads: number[] } {
  const script = `
    import { readdirSync, readFileSync } from 'node:fs';
    import { lowerCpuPriority } from './src/cli/cpu-priority.ts';
    const main = lowerCpuPriority(${nice}, (m) => { throw new Error(m); });
    // Threads started after inherit it: an async read starts the thread pool if not yet.
    await (await import('node:fs/promises')).readFile('/proc/self/stat');
    const threads = readdirSync('/proc/self/task').map((tid) => {
      const stat = readFileSync('/proc/self/task/' + tid + '/stat', 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    });
    console.log(JSON.stringify({ main, threads }));`;
  const out = execFileSync(
    'nice',
    [
      '-n',
      String(startAt),
      process.execPath,
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as { main: number; threads: number[] };
}

describe.runIf(process.platform === 'linux')('lowerCpuPriority', () => {
  it('lowers every thread of the process to the given nice', () => {
    const { main, threads } = lowerIn(10);
    expect(main).toBe(10);
    expect(threads.length).toBeGreaterThan(1);
    expect(new Set(threads)).toEqual(new Set([10]));
  });

  it('only ever lowers: a process started lower still keeps its priority', () => {
    expect(lowerIn(10, 15)).toMatchObject({ main: 15 });
    expect(lowerIn(0)).toMatchObject({ main: 0 });
  });
});
