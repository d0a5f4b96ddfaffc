import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { GraphQLError } from 'graphql';
import type { Graph } from '../../graph/graph.js';
import type { AppContext } from '../context.js';
import { AuditOutcome } from '../domain/auth.js';
import { readBody } from '../http-handler.js';
import { bodyTimeoutError, requestTimeoutError, withTimeout } from '../limits/index.js';
import { VERSION } from '../version.js';
import { operationsFor, type Operation } from './operations.js';
import { registerResources } from './resources.js';
import { registerTools } from './tools.js';

export interface McpRouteOptions {
  apollo: ApolloServer<AppContext>;
  /** The server's own HTTP context: the same key check, rate limits and refusals as /graphql. */
  context: (req: IncomingMessage, query: unknown) => Promise<AppContext>;
  graph: Graph;
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  /** Each GraphQL operation a tool runs is held to this, as a request to /graphql is. */
  requestTimeoutMs: number;
  /** The longest `waitSeconds` a tool call may ask for. */
  maxWaitSeconds: number;
}

const INSTRUCTIONS =
  'An organisation of AI agents: submit_task gives it work (a Chief of Staff plans, Master Operators run the steps), task_status follows it, approve/reject decide what waits for a person, rate_task says how good a result was.';

/**
 * `POST /mcp`: the platform as an MCP server (Streamable HTTP, stateless: one server and
 * transport per request, so a request's key, tenant and loaders are its own and any instance
 * can answer). Authenticated with the API's keys (`Authorization: Bearer <key>`) and rate
 * limits before the body is read; tools and resources run GraphQL operations with that key
 * (operations.ts), so roles, tenants, validation and errors are GraphQL's. Every tool call is
 * audited as `mcp.<tool>`. Refusals before MCP starts are JSON-RPC errors with the HTTP
 * status GraphQL would give (401, 405, 408, 413, 429, 503).
 */
export function mcpRoute(opts: McpRouteOptions) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return refuse(res, 405, 'METHOD_NOT_ALLOWED', 'This MCP endpoint is stateless: use POST');
    }
    let context: AppContext;
    try {
      context = await opts.context(req, null);
    } catch (err) {
      if (!(err instanceof GraphQLError)) throw err;
      const http = err.extensions.http as { status?: number } | undefined;
      return refuse(res, http?.status ?? 401, String(err.extensions.code), err.message);
    }
    const principal = context.principal;
    if (!principal) {
      res.setHeader('www-authenticate', 'Bearer');
      return refuse(
        res,
        401,
        'UNAUTHENTICATED',
        'Send an API key as "Authorization: Bearer <key>"',
      );
    }
    const body = await readBody(req, opts.maxBodyBytes, opts.bodyTimeoutMs);
    if (body === 'too-slow') {
      res.setHeader('connection', 'close');
      res.on('finish', () => req.socket.destroy());
      const err = bodyTimeoutError(opts.bodyTimeoutMs);
      return refuse(res, 408, err.code, err.message);
    }
    if (body === 'too-large') {
      return refuse(res, 413, 'PAYLOAD_TOO_LARGE', `The body is over ${opts.maxBodyBytes} bytes`);
    }
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch {
      return refuse(
        res,
        400,
        'BAD_REQUEST',
        'The body is not JSON: send a JSON-RPC message',
        -32700,
      );
    }

    const base = operationsFor(opts.apollo, context);
    const run: Operation = (query, variables) =>
      withTimeout(
        opts.graph.withDeadline(opts.requestTimeoutMs, () => base(query, variables)),
        opts.requestTimeoutMs,
        () => requestTimeoutError(opts.requestTimeoutMs),
      );
    const server = new McpServer(
      { name: 'agent-platform', version: VERSION },
      { capabilities: { tools: {}, resources: {} }, instructions: INSTRUCTIONS },
    );
    registerTools(server, {
      run,
      maxWaitSeconds: opts.maxWaitSeconds,
      onUnexpected: (err, tool) => context.logger.error({ err, tool }, 'an MCP tool call failed'),
      audit: (tool, outcome, code, ids) => {
        context.services.audit
          .record({
            tenantId: principal.tenantId,
            operation: `mcp.${tool}`,
            actor: principal.keyName,
            actorKeyId: principal.keyId,
            targetIds: ids,
            outcome: outcome === 'SUCCESS' ? AuditOutcome.SUCCESS : AuditOutcome.FAILURE,
            code,
          })
          .catch((err: unknown) =>
            context.logger.error({ err, tool }, 'could not audit an MCP tool call'),
          );
      },
    });
    registerResources(server, run);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, message);
  };
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
