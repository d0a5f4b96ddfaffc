import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

/** makeDir (src/make-dir.ts), `mkdir -p` that always ends. */
describe('makeDir', () => {
  // Processes starting together (the API and a worker, a test run and models:fetch) make the
  // same folders: one's mkdir met the folder another had just made, EEXIST, and start-up failed.
  it('makes a folder that others are making at the same moment', async () => {
    const workers = 4;
    const outcomes: string[] = [];
    for (let round = 0; round < 10; round++) {
      const root = mkdtempSync(path.join(os.tmpdir(), 'make-dir-'));
      const dir = path.join(root, ...Array.from({ length: 30 }, (_, i) => `level-${i}`));
      const ready = new SharedArrayBuffer(4);
      outcomes.push(
        ...(await Promise.all(
          Array.from({ length: workers }, () => {
            const worker = new Worker(new URL('./utils/make-dir-worker.ts', import.meta.url), {
              workerData: { dir, ready, workers },
              execArgv: ['--import', 'tsx'],
            });
            return new Promise<string>((resolve, reject) => {
              worker.once('message', resolve);
              worker.once('error', reject);
            }).finally(() => worker.terminate());
          }),
        )),
      );
      expect(statSync(dir).isDirectory()).toBe(true);
      rmSync(root, { recursive: true, force: true });
    }
    expect(outcomes.filter((o) => o !== 'ok')).toEqual([]);
  }, 60_000);
});
