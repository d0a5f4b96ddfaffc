/**
 * A worker thread of test/make-dir.test.ts: waits until every worker is ready (a shared
 * counter), then makes `dir` with makeDir at the same moment as the others; posts 'ok' or why not.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { makeDir } from '../../src/make-dir.js';

const { dir, ready, workers } = workerData as {
  dir: string;
  ready: SharedArrayBuffer;
  workers: number;
};
const count = new Int32Array(ready);
Atomics.add(count, 0, 1);
while (Atomics.load(count, 0) < workers); // spin: the workers start within microseconds
try {
  makeDir(dir);
  parentPort!.postMessage('ok');
} catch (err) {
  parentPort!.postMessage((err as Error).message);
}
