import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Graph } from '../graph/graph.js';
import { ensureCursorSecret } from '../graph/secret.repository.js';
import { reportMalformedNodes } from '../graph/mappers.js';
import { createInProcessPubSub, type PubSub } from '../subscriptions/pubsub.js';
import { startWsServer } from '../subscriptions/ws-server.js';
import type { Config } from './config.js';
import type { LlmConfig } from './llm/config.js';
import type { AppContext } from './context.js';
import type { Principal } from './domain/auth.js';
import { AppError } from './domain/errors.js';
import { useCursorSecret } from './domain/page.js';
import { formatError } from './format-error.js';
import { createHttpHandler } from './http-handler.js';
import {
  checkOperation,
  complexityPlugin,
  formatTokenLimitError,
  limitGraphQLError,
  limitValidationRules,
  rateLimitedError,
  RateLimiter,
  tokenLimitParseOptions,
} from './limits/index.js';
import { createLoaders } from './loaders.js';
import type { Logger } from './logger.js';
import { buildAppSchema } from './schema.js';
import { createServices, type Services } from './services/index.js';

export interface ServerDeps {
  config: Pick<Config, 'env' | 'host' | 'port' | 'limits'> & { cursorSecret?: string };
  graph: Graph;
  logger: Logger;
  /** Defaults to in-process pub/sub. */
  pubsub?: PubSub;
  /** The models for chat; defaults to the offline model. */
  llm?: LlmConfig;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:4000/graphql */
  url: string;
  wsUrl: string;
  port: number;
  services: Services;
  pubsub: PubSub;
  /** Closes subscriptions, drains HTTP requests; the graph stays open (its owner closes it). */
  close(): Promise<void>;
}

/**
 * Starts Apollo Server and graphql-ws on one HTTP server, both at /graphql. Every operation
 * is authenticated by API key, rate-limited per key and held to the query limits.
 */
export async function startServer(deps: ServerDeps): Promise<RunningServer> {
  const { config, graph, logger } = deps;
  const { limits } = config;
  const production = config.env === 'production';
  const pubsub = deps.pubsub ?? createInProcessPubSub();
  const schema = await buildAppSchema(pubsub);
  const services = createServices(graph, pubsub, { llm: deps.llm, logger });
  reportMalformedNodes((err) => logger.warn({ err }, 'left an unreadable node out of a list'));
  // Cursors signed here are accepted by every instance that shares the secret (README).
  useCursorSecret(config.cursorSecret ?? (await graph.write(ensureCursorSecret)));
  const limiter = new RateLimiter(limits.rateLimitPerMinute);
  const httpServer: Server = createServer();

  const contextFor = (principal: Principal | null): AppContext => ({
    graph,
    logger,
    services,
    principal,
    tenantId: principal?.tenantId ?? '',
    actor: principal?.keyName ?? 'anonymous',
    loaders: createLoaders(graph, principal?.tenantId ?? ''),
  });

  /** Refuses with a typed error once the key (or, without one, the address) is over its rate. */
  const takeRate = (key: string, status: number) => {
    const { allowed, retryAfterSeconds } = limiter.take(key);
    if (allowed) return;
    const err = rateLimitedError(limits.rateLimitPerMinute, retryAfterSeconds);
    throw new GraphQLError(err.message, {
      extensions: { ...err.details, code: err.code, http: { status } },
    });
  };

  const httpContext = async (req: IncomingMessage): Promise<AppContext> => {
    const header = req.headers.authorization;
    if (!header) {
      takeRate(`address:${req.socket.remoteAddress ?? '?'}`, 429);
      return contextFor(null);
    }
    let principal: Principal;
    try {
      principal = await services.auth.authenticate(header, 'http');
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      throw new GraphQLError(err.message, {
        extensions: { code: err.code, http: { status: 401 } },
      });
    }
    takeRate(`key:${principal.keyId}`, 429);
    return contextFor(principal);
  };

  const ws = startWsServer<AppContext>({
    httpServer,
    schema,
    pubsub,
    authenticate: (credential) => services.auth.authenticate(credential, 'websocket'),
    context: contextFor,
    perEvent: (ctx) => ({ ...ctx, loaders: createLoaders(graph, ctx.tenantId) }),
    checkOperation: (principal, payload) => {
      const { allowed, retryAfterSeconds } = limiter.take(`key:${principal.keyId}`);
      if (!allowed) {
        return [limitGraphQLError(rateLimitedError(limits.rateLimitPerMinute, retryAfterSeconds))];
      }
      return checkOperation(
        schema,
        payload,
        limits,
        production ? [NoSchemaIntrospectionCustomRule] : [],
      );
    },
    onError: (errors) => logger.debug({ errors }, 'subscription operation failed'),
  });

  const apollo = new ApolloServer<AppContext>({
    schema,
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    introspection: !production,
    parseOptions: tokenLimitParseOptions(limits.maxTokens),
    validationRules: limitValidationRules(limits),
    formatError: (formatted, error) =>
      formatTokenLimitError(formatted) ?? formatError(formatted, error, logger),
    plugins: [
      complexityPlugin<AppContext>(schema, limits.maxComplexity),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      production
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await ws.dispose();
            },
          };
        },
      },
    ],
  });
  await apollo.start();
  httpServer.on(
    'request',
    createHttpHandler({
      apollo,
      graph,
      logger,
      context: httpContext,
      maxBodyBytes: limits.maxBodyBytes,
      requestTimeoutMs: limits.requestTimeoutMs,
      maxDepth: limits.maxDepth,
    }),
  );

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${port}/graphql`,
    wsUrl: `ws://${host}:${port}/graphql`,
    port,
    services,
    pubsub,
    close: () => apollo.stop(),
  };
}
