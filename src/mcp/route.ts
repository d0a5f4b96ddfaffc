import type { IncomingMessage, ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { AuditOutcome } from '../domain/auth.js';
import { openJsonRpc, type JsonRpcRouteOptions } from '../server/json-rpc-route.js';
import { VERSION } from '../version.js';
import { invalidParams } from './params.js';
import { registerResources } from './resources.js';
import { registerTools } from './tools.js';

export interface McpRouteOptions extends JsonRpcRouteOptions {
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
    const opened = await openJsonRpc(req, res, opts, 'This MCP endpoint is stateless: use POST');
    if (!opened) return;
    const { context, message, run, events } = opened;
    const invalid = invalidParams(message);
    if (invalid) {
      const { id } = (Array.isArray(message) ? {} : message) as { id?: unknown };
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(
        JSON.stringify({
          jsonrpc: '2.0',
          id: id ?? null,
          error: { code: -32602, message: invalid },
        }),
      );
      return;
    }
    const server = new McpServer(
      { name: 'agent-platform', version: VERSION },
      { capabilities: { tools: {}, resources: {} }, instructions: INSTRUCTIONS },
    );
    registerTools(server, {
      run,
      events,
      maxWaitSeconds: opts.maxWaitSeconds,
      onUnexpected: (err, tool) => context.logger.error({ err, tool }, 'an MCP tool call failed'),
      audit: (tool, outcome, code, ids) => {
        void opened.audit({
          operation: `mcp.${tool}`,
          outcome: outcome === 'SUCCESS' ? AuditOutcome.SUCCESS : AuditOutcome.FAILURE,
          code,
          targetIds: ids,
        });
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
