import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Gives this process a lower CPU priority: Unix's `nice` (0 normal, 19 lowest). A worker runs
 * batch work, so on a host it shares with the API or Neo4j it lets them have the CPU first: a
 * person's request stays fast while the steps take what is left (README, Agents under load).
 * On Linux each thread has its own priority: every thread the process has now is lowered, and
 * those it starts later inherit the main thread's. It only ever lowers: a process started at a
 * lower priority still (e.g. under `nice -n 15`) keeps it. A thread that cannot be changed is
 * left as it is and said in `warn`; it never stops the process. Returns the main thread's
 * priority after.
 */
export function lowerCpuPriority(nice: number, warn: (message: string) => void): number {
  if (nice <= getPriority()) return getPriority();
  const threads = process.platform === 'linux' ? readdirSync('/proc/self/task').map(Number) : [0];
  for (const thread of threads) {
    try {
      if (getPriority(thread) < nice) setPriority(thread, nice);
    } catch (err) {
      // A thread may have ended since the list was read; the main thread never has.
      if (thread === process.pid || thread === 0) {
        warn(`could not lower the CPU priority to nice ${nice}: ${(err as Error).message}`);
      }
    }
  }
  return getPriority();
}
