import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Graph } from '../../graph/graph.js';
import { ensureCursorSecret } from '../../graph/secret.repository.js';
import { reportMalformedNodes } from '../../graph/mappers.js';
import { createInProcessPubSub, type PubSub } from '../../subscriptions/pubsub.js';
import { localRateLimit, type RateLimit } from '../limits/shared-rate-limiter.js';
import { drainWsPlugin, startWsServer } from '../../subscriptions/ws-server.js';
import type { SharedExecutions } from '../../subscriptions/per-event.js';
import type { Config } from '../config/config.js';
import type { LlmConfig } from '../llm/config.js';
import type { BudgetDefaults } from '../domain/budget.js';
import type { Embedder } from '../memory/embeddings/embedder.js';
import type { AppContext } from './context.js';
import type { Principal } from '../domain/auth.js';
import { AppError, UnavailableError } from '../domain/errors.js';
import { useCursorSecret } from '../domain/page.js';
import { formatError, withoutSuggestions } from './format-error.js';
import { createHttpHandler } from './http-handler.js';
import { consoleRoute } from '../console/route.js';
import { documentUploadRoute } from '../memory/documents/upload.route.js';
import { mcpRoute } from '../mcp/route.js';
import { a2aRoutes } from '../a2a/route.js';
import { errorStatusPlugin, keyRefusal } from './error-status.js';
import { isPublicOnly } from './public-operation.js';
import {
  checkOperation,
  complexityPlugin,
  formatTokenLimitError,
  limitValidationRules,
  tokenLimitParseOptions,
} from '../limits/index.js';
import { createLoaders } from '../loaders/loaders.js';
import { requestBudgets } from './request-budgets.js';
import type { TenantSlots } from '../limits/tenant-slots.js';
import type { Logger } from '../logger.js';
import { buildAppSchema } from './schema.js';
import { startMaintenance } from './maintenance.js';
import type { MetricsConfig } from '../metrics/config.js';
import { metricsRoute, startMetricsServer } from '../metrics/endpoint.js';
import { metricsPlugin } from '../metrics/graphql-plugin.js';
import { tracingPlugin } from '../tracing/graphql-plugin.js';
import { addSource, subscriberSources } from '../metrics/metrics.js';
import { TOPICS } from '../../subscriptions/topics.js';
import { createServices, type Services } from '../services/index.js';
import { Outbox } from '../../subscriptions/outbox.js';
import type { McpToolPool } from '../mcp-client/pool.js';
import { compiledExecution, type CompiledExecutionOptions } from './compiled-execution.js';
import { listenOn } from '../cli/startup-error.js';
import { keyView } from '../memory/view.js';

export interface ServerDeps {
  config: Pick<Config, 'env' | 'host' | 'port' | 'limits'> & { cursorSecret?: string } & Partial<
      Pick<
        Config,
        'auditRetentionDays' | 'documents' | 'evolution' | 'checkpoints' | 'backlog' | 'corsOrigins'
      >
    >;
  graph: Graph;
  logger: Logger;
  /** Defaults to in-process pub/sub. */
  pubsub?: PubSub;
  /** When queries are compiled (src/server/compiled-execution.ts); defaults to their second run. */
  compiledExecution?: CompiledExecutionOptions;
  /** Requests per minute per key; defaults to this process's own buckets (RATE_LIMIT_PER_MINUTE). */
  rateLimit?: RateLimit;
  /** Requests per minute per tenant; this process's own by default (TENANT_RATE_LIMIT_PER_MINUTE). */
  tenantRateLimit?: RateLimit;
  /** The models for chat; defaults to the offline model. */
  llm?: LlmConfig;
  /** Default spending limits (BUDGET_*); none when unset. */
  budgets?: BudgetDefaults;
  /** Embeds memory (built once per process, createEmbedder); the offline embedder when unset. */
  embedder?: Embedder;
  /**
   * Apply the tenants' episode retention rules at start and hourly (default true). Test
   * servers turn it off: a sweep's read at an unforeseen moment would count in their
   * statement counts (memory-api.int.test.ts runs the sweep itself).
   */
  retentionSweep?: boolean;
  /**
   * Run the outbox relay (subscriptions/outbox.ts): publish events handed off by workers
   * without a shared bus, and events a crashed process left (default true). Test servers turn
   * it off for their statement counts; tests of the relay turn it on.
   */
  relay?: boolean;
  /** The relay serves only these tenants (test servers: their own); unset, every tenant. */
  relayTenants?: string[];
  /**
   * Execute each event once per group of equal subscriptions (default true); the
   * subscriptions benchmark turns it off for its baseline.
   */
  shareEventExecution?: boolean;
  /** How long this process holds its events before a relay may publish them (EVENT_RELAY_AFTER_MS). */
  relayAfterMs?: number;
  /** Sessions to outside MCP servers, shared with the engine (issue 16); its owner closes it. */
  mcp?: McpToolPool;
  /** Where /metrics is served (issue 17); default: on the API's port, without a token. */
  metrics?: MetricsConfig;
  /** The console's build output, served at /console (default console/dist). */
  consoleDir?: string;
}

/** How often an API process's relay looks for handed-off events: their added latency. */
const RELAY_INTERVAL_MS = 250;

/** The longest an MCP tool call may wait for a task or a reply (`waitSeconds`). */
const MCP_MAX_WAIT_SECONDS = 600;

export interface RunningServer {
  /** e.g. http://127.0.0.1:4000/graphql */
  url: string;
  wsUrl: string;
  port: number;
  services: Services;
  pubsub: PubSub;
  /** Executions of events for subscribers (shared by equal subscriptions). */
  eventExecutions: SharedExecutions;
  /** Each tenant's requests running and waiting for a turn on this instance. */
  tenantSlots: Pick<TenantSlots, 'inFlight' | 'waiting'>;
  /** Where Prometheus scrapes this process; null when /metrics is not served. */
  metricsUrl: string | null;
  /** Closes subscriptions, drains HTTP requests; the graph stays open (its owner closes it). */
  close(): Promise<void>;
}

/**
 * Starts Apollo Server and graphql-ws on one HTTP server, both at /graphql. Every operation
 * is authenticated by API key, rate-limited per key and per tenant, waits for one of its
 * tenant's slots (request-budgets.ts) and is held to the query limits.
 */
export async function startServer(deps: ServerDeps): Promise<RunningServer> {
  const { config, graph, logger } = deps;
  const { limits } = config;
  const production = config.env === 'production';
  const pubsub =
    deps.pubsub ?? createInProcessPubSub({ maxBufferedEvents: limits.maxBufferedEvents });
  const schema = await buildAppSchema(pubsub);
  // With a shared bus, events are written in their transactions; in-process, subscribers die
  // with their process, so there is nothing an outbox could give them back.
  const outbox = new Outbox({
    graph,
    bus: pubsub,
    logger,
    mode: 'publish',
    holdMs: deps.relayAfterMs,
  });
  const services = createServices(graph, pubsub, {
    outbox: pubsub.shared ? outbox : undefined,
    llm: deps.llm,
    logger,
    budgets: deps.budgets,
    embedder: deps.embedder,
    documents: config.documents,
    backlog: config.backlog,
    evolution: config.evolution,
    mcp: deps.mcp,
  });
  reportMalformedNodes((err) => logger.warn({ err }, 'left an unreadable node out of a list'));
  // Cursors signed here are accepted by every instance that shares the secret (README).
  useCursorSecret(config.cursorSecret ?? (await graph.write(ensureCursorSecret)));
  const budgets = requestBudgets({
    limits,
    auth: services.auth,
    keyRate: deps.rateLimit ?? localRateLimit(limits.rateLimitPerMinute),
    tenantRate: deps.tenantRateLimit ?? localRateLimit(limits.tenantRateLimitPerMinute),
  });
  const httpServer: Server = createServer({
    // Slow clients (slowloris): Node answers 408 to headers or a whole request that arrive
    // too slowly; the handler's own body timer answers sooner for a trickling body.
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.headersTimeoutMs + limits.bodyTimeoutMs,
    connectionsCheckingInterval: Math.min(30_000, Math.max(100, limits.headersTimeoutMs / 4)),
  });

  const contextFor = (principal: Principal | null): AppContext => ({
    graph,
    logger,
    services,
    principal,
    tenantId: principal?.tenantId ?? '',
    actor: principal?.keyName ?? 'anonymous',
    loaders: createLoaders(graph, principal?.tenantId ?? '', keyView(principal)),
  });

  /** A turn of the tenant's, given up if the client leaves while it waits (no request: never). */
  const holdWhileConnected = async (req: IncomingMessage | null, tenantId: string) => {
    if (!req) return budgets.hold(tenantId);
    const gone = new AbortController();
    const giveUp = () => gone.abort(new UnavailableError('the client went away while waiting'));
    req.socket.once('close', giveUp);
    try {
      return await budgets.hold(tenantId, gone.signal);
    } finally {
      req.socket.off('close', giveUp);
    }
  };

  /**
   * The context of an HTTP request. With `onHold` (/graphql), the request also waits for one
   * of its tenant's slots, whose release `onHold` gets to call when the request's work ends.
   */
  const httpContext = async (
    req: IncomingMessage,
    query: unknown,
    onHold?: (release: () => void) => void,
  ): Promise<AppContext> => {
    const header = req.headers.authorization;
    const address = req.socket.remoteAddress ?? '?';
    // Public fields need no key, so none is looked up: health answers during an outage.
    if (!header || isPublicOnly(query, limits.maxTokens)) {
      await budgets.takeRate(`address:${address}`, 429);
      return contextFor(null);
    }
    let principal: Principal;
    try {
      principal = await budgets.authenticate(header, 'http', address);
    } catch (err) {
      throw err instanceof AppError ? keyRefusal(err) : err;
    }
    await budgets.spend(principal);
    if (onHold) onHold(await holdWhileConnected(req, principal.tenantId));
    return contextFor(principal);
  };

  const ws = startWsServer<AppContext>({
    httpServer,
    schema,
    pubsub,
    authenticate: (credential, address) =>
      budgets.authenticate(credential, 'websocket', address ?? '?'),
    context: contextFor,
    perEvent: (ctx) => ({
      ...ctx,
      loaders: createLoaders(graph, ctx.tenantId, keyView(ctx.principal)),
    }),
    // Resolvers read the tenant and the role (auth checks) of the context, nothing else of the key.
    audience:
      (deps.shareEventExecution ?? true)
        ? (ctx) => `${ctx.tenantId}\n${ctx.principal?.role ?? ''}`
        : undefined,
    checkOperation: async (principal, payload) => {
      const refused = await budgets.spendOnSocket(principal);
      if (refused) return [refused];
      const checked = checkOperation(
        schema,
        payload,
        limits,
        production ? [NoSchemaIntrospectionCustomRule] : [],
      );
      return production && Array.isArray(checked) ? checked.map(withoutSuggestions) : checked;
    },
    // Queries and mutations over a socket wait for their tenant's turn as over HTTP.
    runOperation: (ctx, work, signal) => budgets.run(ctx.tenantId, work, signal),
    onError: (errors) => logger.debug({ errors }, 'subscription operation failed'),
    logger,
    // With the Redis bus this hears revocations made on every instance.
    onKeyRevoked: (keyId) => services.auth.forgetKey(keyId),
    limits,
  });

  const apollo = new ApolloServer<AppContext>({
    gateway: compiledExecution(schema, deps.compiledExecution),
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    introspection: !production,
    // No "Did you mean ...?" in production: it would enumerate the schema (issue 9).
    hideSchemaDetailsFromClientErrors: production,
    parseOptions: tokenLimitParseOptions(limits.maxTokens),
    validationRules: limitValidationRules(limits),
    formatError: (formatted, error) =>
      formatTokenLimitError(formatted) ?? formatError(formatted, error, logger),
    stringifyResult: JSON.stringify, // Apollo's default indents: twice the bytes (issue 15)
    // The process's shutdown (src/cli/entry.ts onShutdown) stops Apollo in its order. Apollo's own
    // signal handlers (on unless NODE_ENV=test) stopped it first, and the second stop() waited
    // for good on Apollo's barrier: `npm start` took the 15 s grace and exited 1 on SIGTERM.
    stopOnTerminationSignals: false,
    plugins: [
      metricsPlugin<AppContext>(),
      tracingPlugin<AppContext>(),
      complexityPlugin<AppContext>(schema, limits.maxComplexity),
      errorStatusPlugin<AppContext>(),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // No cache hints are set; the default cache-control plugin would still wrap every
      // field's resolver to look for them (issue 15: per-field cost on nested lists).
      ApolloServerPluginCacheControlDisabled(),
      production
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
      drainWsPlugin(ws),
    ],
  });
  await apollo.start();
  const metricsConfig = deps.metrics ?? { enabled: true, token: null, port: null, host: '' };
  // In production an API port is public: its /metrics needs a token (or a port of its own).
  const metricsOnApiPort =
    metricsConfig.enabled &&
    metricsConfig.port === null &&
    (!production || metricsConfig.token !== null);
  if (metricsConfig.enabled && !metricsOnApiPort && metricsConfig.port === null) {
    logger.info(
      'No /metrics: in production set METRICS_TOKEN, or METRICS_PORT for a port of its own',
    );
  }
  // /mcp and /a2a: JSON-RPC with the API's keys and limits (src/server/json-rpc-route.ts).
  const jsonRpc = {
    apollo,
    context: httpContext,
    graph,
    maxBodyBytes: limits.maxBodyBytes,
    bodyTimeoutMs: limits.bodyTimeoutMs,
    requestTimeoutMs: limits.requestTimeoutMs,
    turn: holdWhileConnected,
    pubsub,
  };
  httpServer.on(
    'request',
    createHttpHandler({
      apollo,
      graph,
      logger,
      context: httpContext,
      maxBodyBytes: limits.maxBodyBytes,
      requestTimeoutMs: limits.requestTimeoutMs,
      bodyTimeoutMs: limits.bodyTimeoutMs,
      maxDepth: limits.maxDepth,
      corsOrigins: new Set(config.corsOrigins ?? []),
      routes: {
        '/documents': documentUploadRoute({
          context: httpContext,
          graph,
          documents: services.documents,
          bodyTimeoutMs: limits.bodyTimeoutMs,
          requestTimeoutMs: limits.requestTimeoutMs,
          turn: holdWhileConnected,
        }),
        '/console/*': consoleRoute(deps.consoleDir),
        '/mcp': mcpRoute({ ...jsonRpc, maxWaitSeconds: MCP_MAX_WAIT_SECONDS }),
        ...a2aRoutes({ ...jsonRpc, uow: services.uow }),
        ...(metricsOnApiPort ? { '/metrics': metricsRoute(metricsConfig.token, logger) } : {}),
      },
    }),
  );

  await listenOn(httpServer, config.port, config.host, 'PORT');
  const { port } = httpServer.address() as AddressInfo;
  const metricsPort =
    metricsConfig.enabled && metricsConfig.port !== null
      ? await startMetricsServer({ ...metricsConfig, port: metricsConfig.port }, logger)
      : null;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const unmeter = addSource(subscriberSources, {
    topics: Object.values(TOPICS),
    count: (topic: string) => pubsub.subscriberCount(topic),
  });
  const stopMaintenance = startMaintenance(services, logger, {
    auditRetentionDays: config.auditRetentionDays,
    checkpointRetentionHours: config.checkpoints?.retentionHours,
    episodeRetention: deps.retentionSweep ?? true,
  });
  if (deps.relay ?? true) {
    outbox.startRelay({
      handoffs: true,
      intervalMs: RELAY_INTERVAL_MS,
      tenantIds: deps.relayTenants,
    });
  }
  return {
    url: `http://${host}:${port}/graphql`,
    wsUrl: `ws://${host}:${port}/graphql`,
    port,
    services,
    pubsub,
    eventExecutions: ws.executions,
    tenantSlots: budgets.slots,
    metricsUrl: metricsPort
      ? `http://${metricsConfig.host.includes(':') ? `[${metricsConfig.host}]` : metricsConfig.host}:${metricsPort.port}/metrics`
      : metricsOnApiPort
        ? `http://${host}:${port}/metrics`
        : null,
    close: async () => {
      stopMaintenance();
      unmeter();
      await metricsPort?.close();
      // Chat replies run past their request: abort them before the sockets close.
      await services.chat.close();
      await apollo.stop();
      await outbox.stop();
    },
  };
}
