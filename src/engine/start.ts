import type { Config } from '../config/config.js';
import type { Logger } from '../logger.js';
import type { UnitOfWork } from '../services/unit-of-work.js';
import { connectGraph, defaultMaxConnections, type GraphSettings } from '../../graph/graph.js';
import type { PubSub } from '../../subscriptions/pubsub.js';
import type { Embedder } from '../memory/embeddings/embedder.js';
import { echoExecutor, type Executor } from './executor.js';
import { Scheduler } from './scheduler.js';
import { openDispatch, type StepDispatch } from './dispatch.js';
import { agentExecutor } from '../agents/executor.js';
import { createAgentRuntime } from '../agents/runtime.js';
import { budgetGuard } from '../llm/budget.js';
import { UNLIMITED_BUDGETS } from '../domain/budget.js';
import { retryUnwrittenCalls, unwrittenCallCount } from '../llm/call-writer.js';
import { IngestionQueue } from '../memory/ingest/queue.js';
import { EvolutionLoop } from '../evolution/loop.js';
import { EVOLUTION_PASSES } from '../evolution/passes.js';
import type { McpToolPool } from '../mcp-client/pool.js';

/**
 * The engine's own connection pool in the API's process (`npm start`), and its unit of work
 * over it (the API's bus, outbox and publish order: unit-of-work.ts `over`). In one pool the
 * engine's steps and the API's requests took connections first come, first served: 100 runs
 * under way held them all, and a simple query waited its turn (bench:agents in-process, 100
 * tasks: p99 248 and 251 ms; 122 and 131 with a pool each, alternated). The pool is half the
 * API's (enginePoolSize): Neo4j shares its cores among the transactions it is sent, and a
 * pool as large as the API's kept a request's statement queued behind the engine's there.
 *
 * Contract: the engine's transactions never take the API's connections nor the API's the
 * engine's; at most enginePoolSize of them run at once; events of both are published in the
 * order their commits were requested; close() once the engine has stopped (its last writes
 * need the pool).
 */
export async function openEnginePool(
  settings: GraphSettings,
  api: UnitOfWork,
  log: (line: string) => void,
): Promise<{ uow: UnitOfWork; close(): Promise<void> }> {
  const maxConnections = enginePoolSize(settings.maxConnections ?? defaultMaxConnections());
  const graph = await connectGraph({ ...settings, maxConnections }, { log });
  return { uow: api.over(graph), close: () => graph.close() };
}

/**
 * Connections of the engine's pool beside an API pool of `apiPool`: half of them, at least
 * four (all of them when the API has fewer). With 200 tasks in bench:agents on two cores
 * (pools of 8), a simple query's p50 during the load went from 24–25 ms to 8.5–10 and its p99
 * from 121–156 to 70–142 ms (4 of 6 runs under 100) with 4; the load took 53–57 s, not 45–50.
 */
function enginePoolSize(apiPool: number): number {
  return Math.max(Math.min(apiPool, 4), Math.floor(apiPool / 2));
}

/** The takers' side of step dispatch through Redis when ENGINE_DISPATCH says so (dispatch.ts). */
export async function dispatchFromConfig(
  config: Pick<Config, 'engine' | 'events'>,
  logger: Logger,
): Promise<StepDispatch | undefined> {
  const { redisUrl, redisPrefix } = config.events;
  if (config.engine.dispatch !== 'redis' || !redisUrl) return undefined;
  const dispatch = await openDispatch({ url: redisUrl, prefix: redisPrefix }, logger);
  logger.info(
    `READY steps are dispatched through Redis; Neo4j's queue is searched every ${config.engine.queuePollMs} ms (ENGINE_QUEUE_POLL_MS)`,
  );
  return dispatch;
}

/** A scheduler configured from the environment (the API's, or a worker process's). */
export function schedulerFromConfig(
  config: Pick<Config, 'engine' | 'llm'> &
    Partial<Pick<Config, 'budgets' | 'evolution' | 'checkpoints' | 'backlog'>>,
  deps: {
    uow: UnitOfWork;
    logger: Logger;
    pubsub?: PubSub;
    executor?: Executor;
    workerId?: string;
    tenantIds?: string[] | null;
    /** The process's embedder, for the memory ingestion step (issue 11). */
    embedder?: Embedder;
    /** Sessions to outside MCP servers (issue 16); agents get no MCP tools without it. */
    mcp?: McpToolPool;
    /** READY steps handed out through Redis (ENGINE_DISPATCH=redis; dispatch.ts). */
    dispatch?: StepDispatch;
  },
): Scheduler {
  const e = config.engine;
  return new Scheduler({
    ...deps,
    executor:
      deps.executor ??
      (e.executor === 'echo'
        ? echoExecutor(e.echoDelayMs)
        : agentExecutor(
            // The pub/sub carries the steps' tokens (stepTokens); without it nothing streams.
            createAgentRuntime({
              uow: deps.uow,
              llm: config.llm,
              logger: deps.logger,
              pubsub: deps.pubsub,
              // Memory searches in prompts and the search_memory tool (issue 11).
              embedder: deps.embedder,
              // Lessons in prompts (issue 12): budget, share of runs candidates get.
              lessons: config.evolution?.lessons,
              // Agent loops checkpointed in Neo4j, pruned by this rule (issue 13).
              checkpoints: config.checkpoints,
              // Granted MCP tools, through the process's pooled sessions (issue 16).
              mcp: deps.mcp,
              // A plan that would queue past TENANT_MAX_QUEUED_STEPS fails its planning step.
              backlog: config.backlog,
              // Every model call checks the budgets first (BUDGET_*, setBudget).
              guard: budgetGuard({
                uow: deps.uow,
                defaults: config.budgets ?? UNLIMITED_BUDGETS,
                logger: deps.logger,
              }),
            }),
          )),
    concurrency: e.concurrency,
    perAgentLimit: e.perAgentLimit,
    globalLimit: e.globalLimit,
    leaseMs: e.leaseMs,
    pollMs: e.pollMs,
    queuePollMs: e.queuePollMs,
    stepTimeoutMs: e.stepTimeoutMs,
  });
}

/**
 * The memory ingestion queue that runs beside a scheduler wherever the engine runs (the API,
 * `npm run worker`); undefined when MEMORY_INGESTION=off. Stopped by stopEngine.
 */
export function ingestionFromConfig(
  config: Pick<Config, 'ingestion' | 'llm'> & Partial<Pick<Config, 'budgets'>>,
  deps: {
    uow: UnitOfWork;
    logger: Logger;
    pubsub?: PubSub;
    embedder?: Embedder;
    workerId?: string;
    tenantIds?: string[] | null;
  },
): IngestionQueue | undefined {
  const i = config.ingestion;
  if (!i.enabled) return undefined;
  return new IngestionQueue({
    ...deps,
    workerId: deps.workerId ? `${deps.workerId}-memory` : undefined,
    llm: config.llm,
    budgets: config.budgets,
    similarity: i.similarity,
    concurrency: i.concurrency,
    maxAttempts: i.maxAttempts,
    leaseMs: i.leaseMs,
    pollMs: i.pollMs,
  });
}

/**
 * The learning loop (issue 12) that runs beside a scheduler wherever the engine runs; undefined
 * when EVOLUTION=off. Stopped by stopEngine.
 */
export function evolutionFromConfig(
  config: Pick<Config, 'evolution' | 'llm'> & Partial<Pick<Config, 'budgets'>>,
  deps: { uow: UnitOfWork; logger: Logger; pubsub?: PubSub; tenantIds?: string[] | null },
): EvolutionLoop | undefined {
  if (!config.evolution.enabled) return undefined;
  return new EvolutionLoop(
    {
      uow: deps.uow,
      logger: deps.logger,
      pubsub: deps.pubsub,
      llm: config.llm,
      budgets: config.budgets,
      tenantIds: deps.tenantIds ?? null,
      config: config.evolution,
    },
    EVOLUTION_PASSES,
    config.evolution,
  );
}

/**
 * Stops a process's engine on SIGTERM: no new claims, running steps get `finishMs` to end, then
 * they are aborted, which gives them back (READY, the attempt not counted) for another worker
 * to run, so a rolling deploy fails no workflow (the ingestion queue's episodes likewise go back
 * to PENDING). Then model calls whose records could not be
 * written yet get one last try; what still cannot be written is logged (money spent, unbooked).
 */
export async function stopEngine(
  scheduler: Scheduler | undefined,
  finishMs: number,
  logger: Logger,
  /** The memory ingestion queue beside it: stopped alike (its episodes go back to PENDING). */
  ingestion?: IngestionQueue,
  /** The learning loop beside it: a tick in progress stops between subjects. */
  evolution?: EvolutionLoop,
): Promise<void> {
  const stopping = [scheduler, ingestion, evolution].filter((s) => s !== undefined);
  if (stopping.length > 0) {
    const force = setTimeout(() => {
      for (const s of stopping) void s.stop({ abort: true });
    }, finishMs);
    force.unref();
    try {
      await Promise.all(stopping.map((s) => s.stop()));
    } finally {
      clearTimeout(force);
    }
  }
  await retryUnwrittenCalls();
  const left = unwrittenCallCount();
  if (left > 0) {
    logger.error(
      { unwrittenCalls: left },
      'stopping with model calls not recorded in the graph; their figures are in the log above',
    );
  }
}
