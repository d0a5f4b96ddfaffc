import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Graph } from '../graph/graph.js';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { formatError } from './format-error.js';
import { createHttpHandler } from './http-handler.js';
import type { Logger } from './logger.js';
import { buildAppSchema } from './schema.js';
import { createLoaders } from './loaders.js';
import { createServices } from './services/index.js';
import { subscribeWithFreshContext } from '../subscriptions/per-event.js';
import { createInProcessPubSub, type PubSub } from '../subscriptions/pubsub.js';

export const DEFAULT_TENANT = 'default';

export interface ServerDeps {
  config: Pick<Config, 'env' | 'host' | 'port'>;
  graph: Graph;
  logger: Logger;
  /** Defaults to in-process pub/sub. */
  pubsub?: PubSub;
  /** The tenant every request works in, until API keys name one. */
  tenantId?: string;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:4000/graphql */
  url: string;
  wsUrl: string;
  port: number;
  /** Closes subscriptions, drains HTTP requests; the graph stays open (its owner closes it). */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 10_000_000;

/** Starts Apollo Server and graphql-ws on one HTTP server, both at /graphql. */
export async function startServer(deps: ServerDeps): Promise<RunningServer> {
  const { config, graph, logger } = deps;
  const pubsub = deps.pubsub ?? createInProcessPubSub();
  const tenantId = deps.tenantId ?? DEFAULT_TENANT;
  const schema = await buildAppSchema(pubsub);
  const services = createServices(graph, pubsub);
  const httpServer: Server = createServer();
  const context = async (): Promise<AppContext> => ({
    graph,
    logger,
    services,
    tenantId,
    actor: 'user',
    loaders: createLoaders(graph, tenantId),
  });

  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const wsCleanup = useServer(
    {
      schema,
      context,
      subscribe: (args) =>
        subscribeWithFreshContext<AppContext>(args, (ctx) => ({
          ...ctx,
          loaders: createLoaders(graph, ctx.tenantId),
        })),
      onError: (_ctx, _id, _payload, errors) => {
        logger.debug({ errors }, 'subscription operation failed');
      },
    },
    wsServer,
  );

  const production = config.env === 'production';
  const apollo = new ApolloServer<AppContext>({
    schema,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    introspection: !production,
    formatError: (formatted, error) => formatError(formatted, error, logger),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      production
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
    ],
  });
  await apollo.start();
  httpServer.on(
    'request',
    createHttpHandler({ apollo, graph, logger, context, maxBodyBytes: MAX_BODY_BYTES }),
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
    close: () => apollo.stop(),
  };
}
