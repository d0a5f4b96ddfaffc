import type { Server } from 'node:http';
import type { ExecutionArgs, GraphQLError, GraphQLSchema } from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { Principal } from '../src/domain/auth.js';
import { subscribeWithFreshContext } from './per-event.js';
import type { PubSub } from './pubsub.js';
import { TOPICS, type ApiKeyRevokedEvent } from './topics.js';

export interface WsServerOptions<C> {
  httpServer: Server;
  schema: GraphQLSchema;
  pubsub: PubSub;
  /** The principal for connection_init's `authorization` (or `apiKey`); throws to refuse. */
  authenticate(credential: unknown): Promise<Principal>;
  /** A context for one operation (fresh loaders are made per event by `perEvent`). */
  context(principal: Principal): C;
  perEvent(context: C): C;
  /** Parses, validates and limits an operation: its execution args, or the errors to send. */
  checkOperation(
    principal: Principal,
    payload: SubscribePayload,
  ): ExecutionArgs | readonly GraphQLError[];
  onError(err: unknown): void;
}

/** graphql-ws's close code for a refused or revoked credential. */
export const FORBIDDEN_CLOSE = 4403;

/**
 * graphql-ws on the HTTP server's /graphql path. Credentials are checked in onConnect: a
 * missing or bad key closes the socket with 4403, and so does revoking the key later.
 */
export function startWsServer<C>(opts: WsServerOptions<C>): { dispose(): Promise<void> } {
  const wsServer = new WebSocketServer({ server: opts.httpServer, path: '/graphql' });
  const principals = new WeakMap<WebSocket, Principal>();
  const socketsByKey = new Map<string, Set<WebSocket>>();

  const cleanup = useServer(
    {
      schema: opts.schema,
      onConnect: async ({ connectionParams, extra }) => {
        const credential = connectionParams?.authorization ?? connectionParams?.apiKey;
        try {
          const principal = await opts.authenticate(credential);
          principals.set(extra.socket, principal);
          const sockets = socketsByKey.get(principal.keyId) ?? new Set();
          socketsByKey.set(principal.keyId, sockets.add(extra.socket));
          return true;
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
      },
      onClose: ({ extra }) => {
        const principal = principals.get(extra.socket);
        if (principal) socketsByKey.get(principal.keyId)?.delete(extra.socket);
      },
      onSubscribe: ({ extra }, _id, payload) =>
        opts.checkOperation(principals.get(extra.socket)!, payload),
      context: ({ extra }) => opts.context(principals.get(extra.socket)!) as never,
      subscribe: (args) => subscribeWithFreshContext<C>(args, opts.perEvent),
      onError: (_ctx, _id, _payload, errors) => opts.onError(errors),
    },
    wsServer,
  );

  // Revocation reaches every API instance through pub/sub.
  const revocations = opts.pubsub.subscribe(TOPICS.apiKeyRevoked);
  void (async () => {
    for await (const event of revocations) {
      const { keyId } = event as ApiKeyRevokedEvent;
      for (const socket of socketsByKey.get(keyId) ?? []) {
        socket.close(FORBIDDEN_CLOSE, 'Forbidden: API key revoked');
      }
      socketsByKey.delete(keyId);
    }
  })();

  return {
    async dispose() {
      await revocations.return?.();
      await cleanup.dispose();
    },
  };
}
