import { readFileSync } from 'node:fs';

/** The value at percentile p (0-100) of the values, nearest rank; NaN when there are none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export const median = (values: number[]) => percentile(values, 50);

export const ms = (v: number) => (Number.isNaN(v) ? 'n/a' : `${v.toFixed(v < 10 ? 2 : 1)} ms`);
export const int = (v: number) => Math.round(v).toLocaleString('en-US');
export const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');

/**
 * CPU time of this process and, when its pid is known, of the local Neo4j, over an interval:
 * on a 2-core machine 200% means both cores were busy.
 */
export class CpuMeter {
  private readonly self = process.cpuUsage();
  private readonly other: number | undefined;
  private readonly workers: number | undefined;
  private readonly start = performance.now();

  /** `workerPids`: processes whose CPU is reported together, as "worker processes". */
  constructor(
    private readonly neo4jPid: number | undefined,
    private readonly workerPids: number[] = [],
  ) {
    this.other = neo4jPid ? processCpuMs(neo4jPid) : undefined;
    this.workers = workerPids.length ? cpuOf(workerPids) : undefined;
  }

  /** "bench process 63%, Neo4j 121% of one core" */
  read(): string {
    const wall = performance.now() - this.start;
    const used = process.cpuUsage(this.self);
    const parts = [`bench process ${pct((used.user + used.system) / 1000, wall)}`];
    if (this.workers !== undefined) {
      const now = cpuOf(this.workerPids);
      if (now !== undefined) parts.push(`worker processes ${pct(now - this.workers, wall)}`);
    }
    if (this.neo4jPid && this.other !== undefined) {
      const now = processCpuMs(this.neo4jPid);
      if (now !== undefined) parts.push(`Neo4j ${pct(now - this.other, wall)}`);
    }
    return `${parts.join(', ')} of one core`;
  }
}

/** The CPU of all of `pids` in ms, undefined if any cannot be read. */
function cpuOf(pids: number[]): number | undefined {
  const each = pids.map(processCpuMs);
  return each.includes(undefined) ? undefined : each.reduce((a, b) => a! + b!, 0);
}

const pct = (cpuMs: number, wallMs: number) => `${Math.round((cpuMs / wallMs) * 100)}%`;

/** utime + stime of a Linux process in ms, from /proc (undefined elsewhere). */
function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5); the slice starts at field 3. Clock ticks are 1/100 s.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}
