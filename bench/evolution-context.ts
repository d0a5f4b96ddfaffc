import { print, type DocumentNode } from 'graphql';
import type { Graph } from '../graph/graph.js';
import type { Config } from '../src/config/config.js';
import type { LlmConfig } from '../src/llm/config.js';
import type { Logger } from '../src/logger.js';
import type { RunningServer } from '../src/server/server.js';

/** The benchmark's knobs (environment variables), each with its default. */
export interface EvolutionBenchOptions {
  /** BENCH_SEEDS: how many seeds (1, 2, ...), each a full run of both arms. */
  seeds: number;
  /** BENCH_ROUNDS (K): rounds per arm. */
  rounds: number;
  /** BENCH_TASKS (M): tasks per round, submitted together. */
  tasks: number;
  /** BENCH_SHIFT_ROUND: the 1-based round from which one family's rule changes; 0: never. */
  shiftRound: number;
  /** BENCH_LAST: how many final rounds are compared with the baseline. */
  last: number;
  /** BENCH_FAMILIES: how many simulated families take part. */
  families: number;
  /** BENCH_TICKS: learning-loop ticks between two rounds (learning arm only). */
  ticks: number;
  /** BENCH_REAL: run the real-model families (default: when a real provider is configured). */
  real: boolean;
  /** BENCH_ARMS: which arms run (on, off). */
  arms: Arm[];
  /** BENCH_ROUND_TIMEOUT_MS: how long one round may take; unfinished tasks count as failed. */
  roundTimeoutMs: number;
  /** BENCH_PARALLEL: the two arms of a seed run at the same time (default 1; 0: one by one). */
  parallel: boolean;
}

export type Arm = 'on' | 'off';

function whole(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`${name} must be a whole number of at least ${min}, but got "${raw}"`);
  }
  return n;
}

export function benchOptions(llm: LlmConfig): EvolutionBenchOptions {
  const rounds = whole('BENCH_ROUNDS', 8, 2);
  const realRaw = process.env.BENCH_REAL;
  if (realRaw !== undefined && !['', '0', '1'].includes(realRaw)) {
    throw new Error(`BENCH_REAL must be 0 or 1, but got "${realRaw}"`);
  }
  const arms = (process.env.BENCH_ARMS ?? 'on,off').split(',').map((a) => a.trim());
  for (const a of arms) {
    if (a !== 'on' && a !== 'off') throw new Error(`BENCH_ARMS lists on, off, but got "${a}"`);
  }
  const options = {
    seeds: whole('BENCH_SEEDS', 3, 1),
    rounds,
    tasks: whole('BENCH_TASKS', 8, 1),
    shiftRound: whole('BENCH_SHIFT_ROUND', Math.floor(rounds / 2) + 1, 0),
    last: whole('BENCH_LAST', Math.max(1, Math.floor(rounds / 4)), 1),
    families: whole('BENCH_FAMILIES', 4, 1),
    ticks: whole('BENCH_TICKS', 2, 1),
    real: realRaw ? realRaw === '1' : llm.provider !== 'offline',
    arms: [...new Set(arms)] as Arm[],
    roundTimeoutMs: whole('BENCH_ROUND_TIMEOUT_MS', 180_000, 1_000),
    parallel: process.env.BENCH_PARALLEL !== '0',
  };
  if (options.shiftRound > rounds) {
    throw new Error(`BENCH_SHIFT_ROUND must be at most BENCH_ROUNDS (${rounds}), or 0 for none`);
  }
  if (options.last >= rounds) {
    throw new Error(`BENCH_LAST must be below BENCH_ROUNDS (${rounds}), but got ${options.last}`);
  }
  return options;
}

/** What the whole run shares: one graph, one in-process API, the models. */
export interface EvolutionBench {
  graph: Graph;
  server: RunningServer;
  config: Config;
  llm: LlmConfig;
  logger: Logger;
  options: EvolutionBenchOptions;
  /** Tenants made by the run, deleted at the end. */
  tenants: string[];
}

export interface GqlResult<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** A GraphQL client of the in-process API, with one tenant's key. */
export class Api {
  constructor(
    private readonly url: string,
    private readonly key: string,
  ) {}

  async raw<T>(query: string | DocumentNode, variables: object = {}): Promise<GqlResult<T>> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.key}` },
      body: JSON.stringify({ query: typeof query === 'string' ? query : print(query), variables }),
    });
    return (await res.json()) as GqlResult<T>;
  }

  /** The data, or an error naming the operation's first error. */
  async gql<T>(query: string, variables: object = {}): Promise<T> {
    const res = await this.raw<T>(query, variables);
    if (res.errors?.length || !res.data) {
      const e = res.errors?.[0];
      throw new Error(
        `${query.trim().split(/[({]/)[0]}: ${e?.message ?? 'no data'} (${e?.extensions?.code ?? '?'})`,
      );
    }
    return res.data;
  }
}

/**
 * Progress on stderr: a bar redrawn in place on a terminal, else a line every 10%, so the
 * figures on stdout stay clean when piped.
 */
export function progressBar(total: number) {
  const tty = Boolean(process.stderr.isTTY);
  const started = performance.now();
  let last = -1;
  let n = 0;
  const render = (label: string) => {
    const s = ((performance.now() - started) / 1000).toFixed(0);
    const tail = `${n}/${total} rounds, ${s} s  ${label}`;
    if (tty) {
      const width = 30;
      const full = Math.round((n / Math.max(1, total)) * width);
      process.stderr.write(`\r[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${tail}\x1b[K`);
    } else if (Math.floor((n / Math.max(1, total)) * 10) !== last) {
      last = Math.floor((n / Math.max(1, total)) * 10);
      process.stderr.write(`${tail}\n`);
    }
  };
  return {
    step(label: string) {
      n++;
      render(label);
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}

export const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));
