import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApolloServerPlugin } from '@apollo/server';
import {
  execute,
  getOperationAST,
  GraphQLError,
  type DocumentNode,
  type ExecutionResult,
  type ExecutionArgs,
  type GraphQLSchema,
} from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { Principal } from '../src/domain/auth.js';
import type { Logger } from '../src/logger.js';
import { AppError, UnauthenticatedError } from '../src/domain/errors.js';
import { tooManySubscriptions } from './errors.js';
import { SharedExecutions, subscribeWithFreshContext } from './per-event.js';
import type { PubSub } from './pubsub.js';
import { TOPICS, type ApiKeyRevokedEvent } from './topics.js';
import { keepWatching } from './watch.js';
import { publishedAtOf } from './event-id.js';
import { metrics } from '../src/metrics/metrics.js';
import { countGraphqlErrors } from '../src/metrics/graphql-plugin.js';

export interface WsServerOptions<C> {
  httpServer: Server;
  schema: GraphQLSchema;
  pubsub: PubSub;
  /** The principal for connection_init's `authorization` (or `apiKey`); throws to refuse. */
  /**
   * The principal for connection_init's `authorization` (or `apiKey`) from the client's
   * `address`; throws UnauthenticatedError to refuse, anything else for a server-side failure.
   */
  authenticate(credential: unknown, address: string | undefined): Promise<Principal>;
  /** A context for one operation (fresh loaders are made per event by `perEvent`). */
  context(principal: Principal): C;
  perEvent(context: C): C;
  /**
   * Besides the operation, what a subscription's result depends on (tenant and role):
   * subscriptions with equal operations and audiences share one execution per event
   * (per-event.ts). Unset: every subscription executes each event itself.
   */
  audience?(context: C): string;
  /** Parses, validates and limits an operation: its execution args, or the errors to send. */
  checkOperation(
    principal: Principal,
    payload: SubscribePayload,
  ): Promise<ExecutionArgs | readonly GraphQLError[]>;
  /**
   * Runs a query or mutation (not a subscription): where it may wait its turn. `signal` aborts
   * when its socket closes or the client completes it (its wait is then given up); `work` runs
   * nothing once the client completed it.
   */
  runOperation?(
    context: C,
    work: () => Promise<ExecutionResult>,
    signal: AbortSignal,
  ): Promise<ExecutionResult>;
  onError(err: unknown): void;
  logger: Pick<Logger, 'warn' | 'info'>;
  /** A key was revoked on some instance (after its sockets here are closed): forget it here. */
  onKeyRevoked?(keyId: string): void;
  /** Live subscriptions per socket, key and tenant (on this instance); one more is refused. */
  limits: {
    maxSubscriptionsPerSocket: number;
    maxSubscriptionsPerKey: number;
    maxSubscriptionsPerTenant: number;
  };
}

/** graphql-ws's close code for a refused or revoked credential. */
export const FORBIDDEN_CLOSE = 4403;

/**
 * The close code when the server cannot check a credential now (Neo4j down, too many failed
 * attempts from the address): RFC 6455's "Try Again Later". graphql-ws clients retry it;
 * they treat 4500 and 1011 as fatal (client.ts, isFatalInternalCloseCode).
 */
export const TRY_AGAIN_LATER_CLOSE = 1013;

/** An Apollo Server plugin that closes the graphql-ws server `ws` when Apollo drains. */
export function drainWsPlugin(ws: { dispose(): Promise<void> }): ApolloServerPlugin {
  return { serverWillStart: async () => ({ drainServer: () => ws.dispose() }) };
}

/**
 * graphql-ws on the HTTP server's /graphql path. Credentials are checked in onConnect: a
 * missing or bad key closes the socket with 4403, and so does revoking the key later; a
 * failure on the server's side closes it with 1013, which clients retry.
 */
export function startWsServer<C>(opts: WsServerOptions<C>): {
  executions: SharedExecutions;
  dispose(): Promise<void>;
} {
  // Upgrades handed over by hand, not with `server`: ws re-emits the HTTP server's own errors (a
  // taken PORT) on the WebSocket server, where graphql-ws printed them with their stack before
  // start-up could say it in one line (startup-error.ts).
  const wsServer = new WebSocketServer({ noServer: true, path: '/graphql' });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    wsServer.handleUpgrade(req, socket, head, (ws) => wsServer.emit('connection', ws, req));
  opts.httpServer.on('upgrade', onUpgrade);
  const executions = new SharedExecutions();
  const principals = new WeakMap<WebSocket, Principal>();
  const socketsByKey = new Map<string, Set<WebSocket>>();
  const socketsByTenant = new Map<string, Set<WebSocket>>();
  // Ids of each socket's live subscriptions: a closed socket takes its count with it.
  const live = new WeakMap<WebSocket, Set<string>>();
  // Aborted when the socket closes: its operations waiting for a turn give up their places.
  const closed = new WeakMap<WebSocket, AbortController>();
  // Each operation's context: whether the client still wants its answer, and its socket's end.
  const asked = new WeakMap<
    object,
    { id: string; socket: WebSocket; wanted: () => boolean; signal: AbortSignal }
  >();
  // Queries and mutations of each socket that wait for (or hold) a turn, by id: a `complete`
  // ends the wait, as a closed socket does (graphql-ws tells of no `complete` of a query).
  const pending = new WeakMap<WebSocket, Map<string, AbortController>>();
  const onMessage = (socket: WebSocket, data: unknown) => {
    const waiting = pending.get(socket);
    if (!waiting?.size) return; // only then is a message parsed a second time
    let message: { type?: unknown; id?: unknown };
    try {
      message = JSON.parse(String(data)) as typeof message;
    } catch {
      return; // graphql-ws closes the socket for it
    }
    if (message?.type !== 'complete' || typeof message.id !== 'string') return;
    waiting.get(message.id)?.abort(new Error('the client completed the operation'));
  };
  const liveOf = (sockets: Set<WebSocket> | undefined) =>
    [...(sockets ?? [])].reduce((n, s) => n + (live.get(s)?.size ?? 0), 0);
  const join = (map: Map<string, Set<WebSocket>>, id: string, socket: WebSocket) =>
    map.set(id, (map.get(id) ?? new Set()).add(socket));
  const leave = (map: Map<string, Set<WebSocket>>, id: string, socket: WebSocket) => {
    const sockets = map.get(id);
    sockets?.delete(socket);
    if (sockets?.size === 0) map.delete(id);
  };

  /** Counts a subscription in, or the error that refuses it. */
  const reserve = (socket: WebSocket, principal: Principal, id: string) => {
    const { maxSubscriptionsPerSocket, maxSubscriptionsPerKey, maxSubscriptionsPerTenant } =
      opts.limits;
    const ids = live.get(socket) ?? new Set<string>();
    let refused;
    if (ids.size >= maxSubscriptionsPerSocket) {
      refused = tooManySubscriptions('socket', maxSubscriptionsPerSocket);
    } else if (liveOf(socketsByKey.get(principal.keyId)) >= maxSubscriptionsPerKey) {
      refused = tooManySubscriptions('key', maxSubscriptionsPerKey);
    } else if (liveOf(socketsByTenant.get(principal.tenantId)) >= maxSubscriptionsPerTenant) {
      refused = tooManySubscriptions('tenant', maxSubscriptionsPerTenant);
    }
    if (refused) {
      return new GraphQLError(refused.message, {
        originalError: refused,
        extensions: refused.extensions,
      });
    }
    live.set(socket, ids.add(id));
    return null;
  };

  const cleanup = useServer(
    {
      schema: opts.schema,
      onConnect: async ({ connectionParams, extra }) => {
        const credential = credentialOf(connectionParams);
        try {
          const address = extra.request.socket.remoteAddress;
          const principal = await opts.authenticate(credential, address);
          principals.set(extra.socket, principal);
          closed.set(extra.socket, new AbortController());
          pending.set(extra.socket, new Map());
          extra.socket.on('message', (data) => onMessage(extra.socket, data));
          join(socketsByKey, principal.keyId, extra.socket);
          join(socketsByTenant, principal.tenantId, extra.socket);
          metrics.subscriptions.sockets.inc();
          return true;
        } catch (err) {
          // Refused before any operation, counted as over HTTP (by the code it would have had).
          countGraphqlErrors([err instanceof AppError ? { extensions: { code: err.code } } : {}]);
          if (err instanceof UnauthenticatedError) return false; // graphql-ws closes with 4403
          // Not the client's fault (issue 9: an outage closed with 4403, which ends retries).
          if (!(err instanceof AppError)) opts.onError(err);
          const reason = err instanceof AppError ? err.message : 'Internal server error';
          extra.socket.close(TRY_AGAIN_LATER_CLOSE, reason.slice(0, 120));
          return false; // graphql-ws's own 4403 close is then a no-op: the socket is closing
        }
      },
      onClose: ({ extra }) => {
        const principal = principals.get(extra.socket);
        if (principal) {
          leave(socketsByKey, principal.keyId, extra.socket);
          leave(socketsByTenant, principal.tenantId, extra.socket);
          metrics.subscriptions.sockets.dec();
        }
        live.delete(extra.socket);
        closed.get(extra.socket)?.abort(new Error('the socket closed'));
      },
      onSubscribe: async ({ extra }, id, payload) => {
        const principal = principals.get(extra.socket)!;
        const checked = await opts.checkOperation(principal, payload);
        if (Array.isArray(checked)) return checked;
        const args = checked as ExecutionArgs;
        const operation = getOperationAST(args.document, args.operationName)?.operation;
        if (operation !== 'subscription') return args;
        const refused = reserve(extra.socket, principal, id);
        return refused ? [refused] : args;
      },
      // Called when a subscription ends for any reason (complete, error, socket close).
      onComplete: ({ extra }, id) => {
        live.get(extra.socket)?.delete(id);
      },
      context: (ctx, id) => {
        const value = opts.context(principals.get(ctx.extra.socket)!) as object;
        const signal = closed.get(ctx.extra.socket)?.signal ?? AbortSignal.abort();
        // graphql-ws forgets an id the client completed, and all of them once the socket closed.
        const wanted = () => id in ctx.subscriptions;
        asked.set(value, { id, socket: ctx.extra.socket, wanted, signal });
        return value as never;
      },
      execute: async (args) => {
        const op = asked.get(args.contextValue as object);
        if (!opts.runOperation || !op) return execute(args);
        // An answer nobody waits for any more is not worked out when its turn comes.
        if (!op.wanted()) return { data: null };
        const work = async () => (op.wanted() ? execute(args) : { data: null });
        const completed = new AbortController();
        const waiting = pending.get(op.socket);
        waiting?.set(op.id, completed);
        try {
          const signal = AbortSignal.any([op.signal, completed.signal]);
          return await opts.runOperation(args.contextValue as C, work, signal);
        } finally {
          // The id may be the client's next operation's already (ids are free once completed).
          if (waiting?.get(op.id) === completed) waiting.delete(op.id);
        }
      },
      subscribe: (args) =>
        subscribeWithFreshContext<C>(args, opts.perEvent, {
          executions,
          audience: opts.audience?.(args.contextValue as C) ?? null,
        }),
      onError: (_ctx, _id, _payload, errors) => {
        countGraphqlErrors(errors);
        opts.onError(errors);
      },
      onNext: (_ctx, _id, _payload, args, result) => {
        if (result.errors) countGraphqlErrors(result.errors);
        observeLag(args, result);
      },
    },
    wsServer,
  );

  // Revocation reaches every API instance through pub/sub (and survives a Redis outage).
  const revocations = keepWatching(
    opts.pubsub,
    TOPICS.apiKeyRevoked,
    {},
    (event) => {
      const { keyId } = event as ApiKeyRevokedEvent;
      for (const socket of socketsByKey.get(keyId) ?? []) {
        socket.close(FORBIDDEN_CLOSE, 'Forbidden: API key revoked');
      }
      socketsByKey.delete(keyId);
      opts.onKeyRevoked?.(keyId);
    },
    opts.logger,
  );

  return {
    executions,
    async dispose() {
      opts.httpServer.off('upgrade', onUpgrade);
      await revocations.stop();
      await cleanup.dispose();
    },
  };
}

/** A subscription document's field, read once per document (this runs per result sent). */
const fieldOf = new WeakMap<DocumentNode, string>();

/**
 * Delivery lag: from the event's publication (stamped on the result, event-id.ts) to the
 * result's sending, by subscription field.
 */
function observeLag(args: ExecutionArgs, result: object): void {
  const published = publishedAtOf(result);
  if (published === undefined) return;
  let field = fieldOf.get(args.document);
  if (field === undefined) {
    const first = getOperationAST(args.document, args.operationName)?.selectionSet.selections[0];
    field = first?.kind === 'Field' ? first.name.value : 'unknown';
    fieldOf.set(args.document, field);
  }
  metrics.subscriptions.lag.observe(
    { subscription: field },
    Math.max(0, Date.now() - published) / 1000,
  );
}

/**
 * The key of a connection_init payload: `authorization` in any letter case, as an HTTP header
 * is (Sandbox and people write "Authorization"), else `apiKey`.
 */
function credentialOf(params: Readonly<Record<string, unknown>> | undefined): unknown {
  if (!params) return undefined;
  const name = Object.keys(params).find((k) => k.toLowerCase() === 'authorization');
  return (name === undefined ? undefined : params[name]) ?? params.apiKey;
}
