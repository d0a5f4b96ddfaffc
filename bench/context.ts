import type { Graph, GraphSettings } from '../graph/graph.js';
import type { StepDispatch } from '../src/engine/dispatch.js';
import type { Scheduler } from '../src/engine/scheduler.js';
import type { Services } from '../src/services/index.js';
import type { PubSub } from '../subscriptions/pubsub.js';
import { now, type InstrumentedUnitOfWork, type Probe } from './probe.js';
import { int } from './stats.js';

export const WORKERS = 4;
export const CONCURRENCY = 8;
export const POLL_MS = 10;
/** With dispatch through Redis, how often the schedulers still search Neo4j's queue (the default). */
export const QUEUE_POLL_MS = 1_000;
export const LEASE_MS = 30_000;
export const AGENTS = 8;
export const PER_AGENT_LIMIT = 1_000;
export const LAYER_WIDTH = 50;
export const PHASE_TIMEOUT_MS = 5 * 60_000;

/** What every phase works with: one graph, the benchmark's tenant, its agents and the probe. */
export interface Bench {
  graph: Graph;
  /** How `graph` was reached: what worker processes connect with. */
  settings: GraphSettings;
  services: Services;
  tenantId: string;
  agentIds: string[];
  probe: Probe;
  pubsub: PubSub;
  /** The UnitOfWork the schedulers get: the engine's own, instrumented. */
  uow: InstrumentedUnitOfWork;
  neo4jPid: number | undefined;
  /** Warnings the schedulers logged (failed ticks). */
  warnings: string[];
  /** Running schedulers, for the clean-up to stop after a failure. */
  schedulers: Scheduler[];
  /**
   * Step dispatch through Redis (issue 15): a connection for each scheduler, as each process
   * has its own; unset, the schedulers search Neo4j's queue every poll.
   */
  dispatch?: () => Promise<StepDispatch>;
}

export const range = (n: number) => Array.from({ length: n }, (_, i) => i);
export const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

/** Prints a progress line every second until cleared. */
export function progress(label: string, n: number, done: () => number, since: () => number) {
  return setInterval(() => {
    const s = ((now() - since()) / 1000).toFixed(1);
    console.log(`  ${label}: ${int(done())}/${int(n)} steps committed after ${s} s`);
  }, 1_000);
}

export async function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish in ${PHASE_TIMEOUT_MS / 1000} s`)),
      PHASE_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}
