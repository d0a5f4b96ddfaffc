import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Graph } from '../../graph/graph.js';
import type { AppContext } from './context.js';
import { KEY_CHALLENGE } from './error-status.js';
import { readBody } from './http-handler.js';
import { bodyTimeoutError } from '../limits/index.js';
import { OperationError, operationsFor, type Operation } from '../mcp/operations.js';
import { workflowEvents, type WorkflowEvents } from '../mcp/workflow-events.js';
import type { PubSub } from '../../subscriptions/pubsub.js';
import { inTurn, type InTurn, type Turn } from '../limits/turn.js';
import { auditCall, type CallAudit } from './call-audit.js';

/** What a JSON-RPC route over the API's HTTP server needs (/mcp, /a2a). */
export interface JsonRpcRouteOptions {
  apollo: ApolloServer<AppContext>;
  /** The server's own HTTP context: the same key check, rate limits and refusals as /graphql. */
  context: (req: IncomingMessage, query: unknown) => Promise<AppContext>;
  graph: Graph;
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  /** Each GraphQL operation the route runs is held to this, as a request to /graphql is. */
  requestTimeoutMs: number;
  /**
   * Each operation takes one of the tenant's turns, as a request to /graphql does, and gives
   * it back when it ends, so a stream or a tool that waits for a task holds none between them.
   */
  turn: Turn;
  /** Where the workflows a route follows are heard changing. */
  pubsub: PubSub;
}

/** An authenticated JSON-RPC request: its context, its parsed body, and its operations. */
export interface JsonRpcRequest {
  context: AppContext;
  principal: NonNullable<AppContext['principal']>;
  message: unknown;
  /** GraphQL operations with the caller's key, each held to the request limits. */
  run: Operation;
  /** The events of a workflow of the caller's tenant, for following it (close it after). */
  events: (rootId: string) => WorkflowEvents;
  /**
   * Work of the call's own besides its operations (the A2A task store), in one of its tenant's
   * turns as they are: waited for even after the client left; refused as an OperationError.
   */
  inTurn: InTurn;
  /** Writes the call's audit event in one of its tenant's turns (call-audit.ts); never throws. */
  audit: (call: CallAudit) => Promise<void>;
}

/**
 * Opens a POSTed JSON-RPC request: the API key is checked (and the rate limit spent) before
 * the body is read, and the body is held to the size and time limits. Null when it was
 * refused, with the HTTP status GraphQL would give (401, 405, 408, 413, 429, 503) and a
 * JSON-RPC error that says what to do.
 */
export async function openJsonRpc(
  req: IncomingMessage,
  res: ServerResponse,
  opts: JsonRpcRouteOptions,
  postOnly: string,
): Promise<JsonRpcRequest | null> {
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    refuse(res, 405, 'METHOD_NOT_ALLOWED', postOnly);
    return null;
  }
  let context: AppContext;
  try {
    context = await opts.context(req, null);
  } catch (err) {
    if (!(err instanceof GraphQLError)) throw err;
    const http = err.extensions.http as
      { status?: number; headers?: Map<string, string> } | undefined;
    // What GraphQL would send with it: WWW-Authenticate for a bad key, Retry-After for a limit.
    for (const [name, value] of http?.headers ?? []) res.setHeader(name, value);
    refuse(res, http?.status ?? 401, String(err.extensions.code), err.message);
    return null;
  }
  const principal = context.principal;
  if (!principal) {
    res.setHeader('www-authenticate', KEY_CHALLENGE);
    refuse(res, 401, 'UNAUTHENTICATED', 'Send an API key as "Authorization: Bearer <key>"');
    return null;
  }
  const body = await readBody(req, opts.maxBodyBytes, opts.bodyTimeoutMs);
  if (body === 'too-slow') {
    res.setHeader('connection', 'close');
    res.on('finish', () => req.socket.destroy());
    const err = bodyTimeoutError(opts.bodyTimeoutMs);
    refuse(res, 408, err.code, err.message);
    return null;
  }
  if (body === 'too-large') {
    refuse(res, 413, 'PAYLOAD_TOO_LARGE', `The body is over ${opts.maxBodyBytes} bytes`);
    return null;
  }
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    refuse(res, 400, 'BAD_REQUEST', 'The body is not JSON: send a JSON-RPC message', -32700);
    return null;
  }
  const base = operationsFor(opts.apollo, context);
  const turn: Turn = (...args) => opts.turn(...args).catch(asOperationError);
  const run: Operation = (query, variables) =>
    inTurn({ ...opts, turn }, req, principal.tenantId, () => base(query, variables));
  const own: InTurn = (work) => inTurn({ ...opts, turn }, null, principal.tenantId, work);
  const events = (rootId: string) => workflowEvents(opts.pubsub, principal.tenantId, rootId);
  const audit = (call: CallAudit) => auditCall(context, own, call);
  return { context, principal, message, run, events, inTurn: own, audit };
}

/** A refused turn (LIMIT_EXCEEDED, ...) as the operation's own refusal, as tools report them. */
function asOperationError(err: unknown): never {
  if (!(err instanceof GraphQLError)) throw err;
  throw new OperationError(String(err.extensions.code), err.message);
}

/** A refusal before JSON-RPC starts: the HTTP status GraphQL would give, as a JSON-RPC error. */
export function refuse(
  res: ServerResponse,
  status: number,
  code: string,
  text: string,
  rpc = -32000,
) {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(
    JSON.stringify({
      jsonrpc: '2.0',
      id: null,
      error: { code: rpc, message: `${code}: ${text}`, data: { code } },
    }),
  );
}
