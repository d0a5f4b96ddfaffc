import {
  mcpClientEnvSchema,
  mcpClientFromEnv,
  type McpClientConfig,
} from '../mcp-client/config.js';
import path from 'node:path';
import { metricsEnvSchema, metricsFromEnv, type MetricsConfig } from '../metrics/config.js';
import { tracingEnvSchema, tracingEnvToCheck } from '../tracing/config.js';
import { withoutCredentials } from './url-credentials.js';
import { z } from 'zod';
import { timerMs } from './timer-ms.js';
import { portNumber, wholeNumber } from './env-number.js';
import { corsOriginsSchema } from '../server/cors.js';
import { limitsEnvSchema, limitsFromEnv, type LimitsConfig } from '../limits/config.js';
import {
  checkpointEnvSchema,
  checkpointRetentionFromEnv,
  type CheckpointRetention,
} from '../agents/checkpoint/config.js';
import { llmEnvProblem, llmEnvSchema, llmFromEnv, type LlmConfig } from '../llm/config.js';
import { budgetEnvSchema, budgetsFromEnv } from '../llm/budget-config.js';
import {
  documentsEnvSchema,
  documentsFromEnv,
  type DocumentLimits,
} from '../memory/documents/config.js';
import type { BudgetDefaults } from '../domain/budget.js';
import { DEFAULT_BACKLOG_LIMITS, type BacklogLimits } from '../domain/backlog.js';
import { evolutionEnvSchema, evolutionFromEnv, type EvolutionConfig } from '../evolution/config.js';
import {
  ingestionEnvSchema,
  ingestionFromEnv,
  type IngestionConfig,
} from '../memory/ingest/config.js';
import {
  embeddingsEnvProblem,
  embeddingsEnvSchema,
  embeddingsFromEnv,
  type EmbeddingsConfig,
} from '../memory/embeddings/config.js';

const port = (fallback: number, min = 0) => portNumber(min).default(fallback);

const memory = (fallback: string) =>
  z
    .string()
    .regex(/^\d+[kmg]$/i, 'must be a size such as 512m or 1g')
    .default(fallback);

const onOff = () => z.enum(['on', 'off'], { error: 'must be on or off' }).default('on');

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const envSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'test', 'production'], {
      error: 'must be development, test or production',
    })
    .default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  CORS_ORIGINS: corsOriginsSchema,
  PORT: port(4000),
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })
    .default('info'),
  DATA_DIR: z.string().min(1).default('.data'),
  NEO4J_URI: z
    .string()
    .regex(/^(neo4j|bolt)(\+s|\+ssc)?:\/\/.+/, 'must be a neo4j:// or bolt:// URI')
    .optional(),
  NEO4J_USER: z.string().min(1).default('neo4j'),
  NEO4J_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  NEO4J_DATABASE: z.string().min(1).default('neo4j'),
  NEO4J_MAX_CONNECTIONS: wholeNumber(1).optional(),
  // The launcher waits for these ports: one the system chose it would never find.
  LOCAL_NEO4J_BOLT_PORT: port(7687, 1),
  LOCAL_NEO4J_HTTP_PORT: port(7474, 1),
  LOCAL_NEO4J_HEAP: memory('512m'),
  LOCAL_NEO4J_PAGECACHE: memory('128m'),
  ADMIN_API_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  CURSOR_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  REDIS_KEY_PREFIX: z.string().max(100).default('agent-platform:'),
  EVENT_REPLAY_EVENTS: wholeNumber(0, 1_000_000).default(1000),
  INSTANCE_CHECK: onOff(),
  EVENT_RELAY: onOff(),
  EVENT_RELAY_AFTER_MS: timerMs(100, 3_600_000).default(10_000),
  ENGINE: onOff(),
  ENGINE_CONCURRENCY: wholeNumber(1, 256).default(4),
  ENGINE_AGENT_LIMIT: wholeNumber(1, 256).default(4),
  ENGINE_GLOBAL_LIMIT: wholeNumber(1).default(10_000),
  ENGINE_LEASE_MS: timerMs(100).default(30_000),
  ENGINE_POLL_MS: timerMs(10).default(250),
  ENGINE_DISPATCH: z.enum(['redis', 'neo4j'], { error: 'must be redis or neo4j' }).optional(),
  ENGINE_QUEUE_POLL_MS: timerMs(10).default(1_000),
  ENGINE_STEP_TIMEOUT_MS: timerMs(100).default(300_000),
  WORKER_NICE: wholeNumber(0, 19).default(10),
  // `npm run worker`: its name on runs, and the tenants it serves.
  WORKER_ID: z.string().optional(),
  WORKER_TENANTS: z
    .string()
    .transform((list) => list.split(',').map((id) => id.trim()))
    .refine((ids) => ids.every((id) => id !== ''), {
      error: 'must be tenant ids separated by commas, with none empty',
    })
    .optional(),
  ECHO_DELAY_MS: timerMs(0).default(0),
  // A tenant's backlogs (src/domain/backlog.ts); each check counts up to the cap.
  TENANT_MAX_QUEUED_STEPS: wholeNumber(1, 10_000_000).default(
    DEFAULT_BACKLOG_LIMITS.maxQueuedSteps,
  ),
  TENANT_MAX_PENDING_EPISODES: wholeNumber(1, 10_000_000).default(
    DEFAULT_BACKLOG_LIMITS.maxPendingEpisodes,
  ),
  AUDIT_RETENTION_DAYS: wholeNumber(
    1,
    undefined,
    'must be a whole number of days, at least 1',
  ).default(90),
  ENGINE_EXECUTOR: z
    .enum(['agents', 'echo'], { error: 'must be agents or echo' })
    .default('agents'),
  ...embeddingsEnvSchema.shape,
  ...limitsEnvSchema.shape,
  ...llmEnvSchema.shape,
  ...budgetEnvSchema.shape,
  ...documentsEnvSchema.shape,
  ...ingestionEnvSchema.shape,
  ...evolutionEnvSchema.shape,
  ...checkpointEnvSchema.shape,
  ...mcpClientEnvSchema.shape,
  ...metricsEnvSchema.shape,
  ...tracingEnvSchema.shape,
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  host: string;
  port: number;
  /** Origins whose pages may call the API across origins (CORS_ORIGINS); empty: none. */
  corsOrigins: string[];
  logLevel: Env['LOG_LEVEL'];
  dataDir: string;
  neo4j: {
    /** Unset means: start and use the project's local Neo4j. */
    uri?: string;
    user: string;
    password?: string;
    database: string;
    /** Connections (transactions at once) per process; unset: graph.ts's default. */
    maxConnections?: number;
  };
  localNeo4j: { boltPort: number; httpPort: number; heap: string; pageCache: string };
  /** An ADMIN key of the default tenant to accept; required in production. */
  adminApiKey?: string;
  /** Signs page cursors; unset: a secret created once and kept in the graph (all instances share it). */
  cursorSecret?: string;
  limits: LimitsConfig;
  /** Audit events older than this many days are deleted by the API (hourly). */
  auditRetentionDays: number;
  /** The embedder: local model, OpenAI-compatible endpoint or offline (src/memory/embeddings). */
  embeddings: EmbeddingsConfig;
  /** The model layer: provider, models per purpose, prices (src/llm/config.ts). */
  llm: LlmConfig;
  /** Default spending limits per tenant, agent and submitted task (src/llm/budget-config.ts). */
  budgets: BudgetDefaults;
  /** Uploaded and ingested documents: size, chunk count, chunk length (src/memory/documents/config.ts). */
  documents: DocumentLimits;
  /** Memory ingestion: on/off, concurrency, attempts, lease (src/memory/ingest/config.ts). */
  ingestion: IngestionConfig;
  /** What one tenant may have waiting: queued steps, episodes to ingest (src/domain/backlog.ts). */
  backlog: BacklogLimits;
  /** The learning loop: on/off and its interval (src/evolution/config.ts). */
  evolution: EvolutionConfig;
  /** Agent-loop checkpoints kept per thread and their age limit (src/agents/checkpoint/config.ts). */
  checkpoints: CheckpointRetention;
  /** Outside MCP servers: allow-lists, secret key, timeouts, sizes (src/mcp-client/config.ts). */
  mcpClient: McpClientConfig;
  /** Where /metrics is served (METRICS, METRICS_TOKEN, METRICS_PORT, METRICS_HOST). */
  metrics: MetricsConfig;
  /** The event bus (subscriptions/bus.ts): Redis Streams when redisUrl is set, else in-process. */
  events: {
    redisUrl?: string;
    /** Prefix of every Redis key, so several platforms can share one Redis. */
    redisPrefix: string;
    /** Events (and as many tokens) kept per tenant for subscriptions that resume with `after`. */
    replayEvents: number;
    /** Run the outbox relay in this process (subscriptions/outbox.ts). */
    relay: boolean;
    /** Refuse processes whose events would not reach every subscriber (instances.ts). */
    instanceCheck: boolean;
    /** A process holds its committed events this long; past that (it crashed) a relay publishes them. */
    relayAfterMs: number;
  };
  engine: {
    /** Run a scheduler inside the API process (workers run one each regardless). */
    enabled: boolean;
    concurrency: number;
    perAgentLimit: number;
    globalLimit: number;
    leaseMs: number;
    pollMs: number;
    /**
     * redis: READY steps are handed to schedulers through Redis (src/engine/dispatch.ts), the
     * default with REDIS_URL; neo4j: every scheduler searches Neo4j's queue each poll.
     */
    dispatch: 'redis' | 'neo4j';
    /** With dispatch through Redis, how often a scheduler still searches Neo4j's queue. */
    queuePollMs: number;
    stepTimeoutMs: number;
    /** agents: the LangChain agents run steps; echo: a no-op that echoes (tests, benchmarks). */
    executor: 'agents' | 'echo';
    /** Delay of the echo executor. */
    echoDelayMs: number;
    /** The CPU priority (nice, 0 to 19) `npm run worker` lowers itself to (cli/cpu-priority.ts). */
    workerNice: number;
    /** `npm run worker`'s name on its runs; unset: host-pid. */
    workerId?: string;
    /** The tenants `npm run worker` serves; null: all. */
    workerTenants: string[] | null;
  };
}

/** Refused values longer than this are cut in the message: a pasted file made it 5 KB. */
const SHOWN_CHARS = 100;

const quoted = (value: string) =>
  value.length > SHOWN_CHARS
    ? `${JSON.stringify(value.slice(0, SHOWN_CHARS))}… (${value.length} characters)`
    : JSON.stringify(value);

/** Thrown for a bad environment; its message is one line naming the variable. */
export class ConfigError extends Error {}

/** Reads and validates the environment. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, as in most .env tooling.
  const present = tracingEnvToCheck(
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')),
  );
  const refuse = (name: string, contract: string): never => {
    // REDIS_URL: its password. Not every KEY is one (WS_MAX_SUBSCRIPTIONS_PER_KEY).
    const secret = /API_KEY$|PASSWORD|SECRET|TOKEN$|_HEADERS$|REDIS_URL/.test(name);
    const value = present[name];
    // Other URLs are shown without the `user:token@` they may carry (an OTLP endpoint's).
    const shown =
      value !== undefined && /URL|URI|ENDPOINT/.test(name) ? withoutCredentials(value) : value;
    const got = shown === undefined ? 'nothing' : secret ? 'a value' : quoted(shown);
    throw new ConfigError(`Invalid environment: ${name} ${contract}, but got ${got}`);
  };
  // Spaces coerce to the number 0: BUDGET_TENANT_USD=" " was a budget that refused every call.
  const blank = Object.keys(envSchema.shape).find((name) => present[name]?.trim() === '');
  if (blank) refuse(blank, 'must not be only spaces (unset it for the default)');
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return refuse(String(issue.path[0]), issue.message);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.ADMIN_API_KEY) {
    throw new ConfigError(
      'Invalid environment: ADMIN_API_KEY is required in production (the API never runs open); set it to a random secret of 32+ characters',
    );
  }
  if (e.NEO4J_URI && !e.NEO4J_PASSWORD) {
    throw new ConfigError('Invalid environment: NEO4J_PASSWORD is required when NEO4J_URI is set');
  }
  // The local Neo4j is Community, started for the neo4j user: another was silently ignored.
  for (const name of ['NEO4J_USER', 'NEO4J_DATABASE'] as const) {
    if (!e.NEO4J_URI && e[name] !== 'neo4j') {
      refuse(
        name,
        'other than neo4j needs NEO4J_URI (the local Neo4j has one user and one database, both neo4j)',
      );
    }
  }
  if (e.ENGINE_DISPATCH === 'redis' && !e.REDIS_URL) {
    throw new ConfigError(
      'Invalid environment: ENGINE_DISPATCH=redis needs REDIS_URL (or unset ENGINE_DISPATCH: steps are then found in Neo4j)',
    );
  }
  const llmProblem = llmEnvProblem(e);
  if (llmProblem) throw new ConfigError(`Invalid environment: ${llmProblem}`);
  const embeddingsProblem = embeddingsEnvProblem(e);
  if (embeddingsProblem) throw new ConfigError(`Invalid environment: ${embeddingsProblem}`);
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    corsOrigins: e.CORS_ORIGINS ?? [],
    logLevel: e.LOG_LEVEL,
    dataDir: path.resolve(e.DATA_DIR),
    neo4j: {
      uri: e.NEO4J_URI,
      user: e.NEO4J_USER,
      password: e.NEO4J_PASSWORD,
      database: e.NEO4J_DATABASE,
      maxConnections: e.NEO4J_MAX_CONNECTIONS,
    },
    localNeo4j: {
      boltPort: e.LOCAL_NEO4J_BOLT_PORT,
      httpPort: e.LOCAL_NEO4J_HTTP_PORT,
      heap: e.LOCAL_NEO4J_HEAP,
      pageCache: e.LOCAL_NEO4J_PAGECACHE,
    },
    adminApiKey: e.ADMIN_API_KEY,
    cursorSecret: e.CURSOR_SECRET,
    limits: limitsFromEnv(e, e.NEO4J_MAX_CONNECTIONS),
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
    embeddings: embeddingsFromEnv(e, env),
    llm: llmFromEnv(e),
    budgets: budgetsFromEnv(e),
    documents: documentsFromEnv(e),
    ingestion: ingestionFromEnv(e),
    backlog: {
      maxQueuedSteps: e.TENANT_MAX_QUEUED_STEPS,
      maxPendingEpisodes: e.TENANT_MAX_PENDING_EPISODES,
    },
    evolution: evolutionFromEnv(e),
    checkpoints: checkpointRetentionFromEnv(e),
    mcpClient: mcpClientFromEnv(e, e.NODE_ENV === 'production'),
    metrics: metricsFromEnv(e),
    events: {
      redisUrl: e.REDIS_URL,
      redisPrefix: e.REDIS_KEY_PREFIX,
      replayEvents: e.EVENT_REPLAY_EVENTS,
      relayAfterMs: e.EVENT_RELAY_AFTER_MS,
      instanceCheck: e.INSTANCE_CHECK === 'on',
      relay: e.EVENT_RELAY === 'on',
    },
    engine: {
      enabled: e.ENGINE === 'on',
      concurrency: e.ENGINE_CONCURRENCY,
      perAgentLimit: e.ENGINE_AGENT_LIMIT,
      globalLimit: e.ENGINE_GLOBAL_LIMIT,
      leaseMs: e.ENGINE_LEASE_MS,
      pollMs: e.ENGINE_POLL_MS,
      dispatch: e.ENGINE_DISPATCH ?? (e.REDIS_URL ? 'redis' : 'neo4j'),
      queuePollMs: e.ENGINE_QUEUE_POLL_MS,
      stepTimeoutMs: e.ENGINE_STEP_TIMEOUT_MS,
      executor: e.ENGINE_EXECUTOR,
      echoDelayMs: e.ECHO_DELAY_MS,
      workerNice: e.WORKER_NICE,
      workerId: e.WORKER_ID,
      workerTenants: e.WORKER_TENANTS ?? null,
    },
  };
}
