import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  A2A_VERSION_HEADER,
  AgentCard,
  SSE_HEADERS,
  formatSSEErrorEvent,
  formatSSEEvent,
} from '@a2a-js/sdk';
import { JsonRpcTransportHandler, ServerCallContext, validateVersion } from '@a2a-js/sdk/server';
import { AuditOutcome } from '../domain/auth.js';
import { openJsonRpc, refuse, type JsonRpcRouteOptions } from '../server/json-rpc-route.js';
import type { UnitOfWork } from '../services/unit-of-work.js';
import { A2A_PATH, CARD_PATH, agentCard } from './card.js';
import { withCaller } from './caller.js';
import { PlatformRequestHandler } from './handler.js';
import { badRequest } from './params.js';

export interface A2ARouteOptions extends JsonRpcRouteOptions {
  uow: UnitOfWork;
}

/** The base URL a request reached this server by (the cards' URLs). */
const baseUrlOf = (req: IncomingMessage) =>
  `${req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http'}://${req.headers.host ?? '127.0.0.1'}`;

/**
 * A2A (issue 16): `GET /.well-known/agent-card.json`, the public card (no tenant's data), and
 * `POST /a2a`, JSON-RPC with the SDK's handler (SendMessage, SendStreamingMessage over SSE,
 * GetTask, CancelTask, GetExtendedAgentCard: the tenant's capabilities as skills). Callers
 * authenticate with the API's keys, like /graphql and /mcp; what a call does runs as GraphQL
 * operations with that key, so roles and tenants are GraphQL's. Every call is audited as
 * `a2a.<method>`.
 */
export function a2aRoutes(opts: A2ARouteOptions) {
  // One handler: its event buses (running tasks) are shared by every request. Its own card's
  // URL only serves version checks; the cards callers get are built from the URL they used.
  const handler = new PlatformRequestHandler(opts.uow, 'http://127.0.0.1');

  const card = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET') return refuse(res, 405, 'METHOD_NOT_ALLOWED', 'Use GET');
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(AgentCard.toJSON(agentCard(baseUrlOf(req)))));
  };

  const rpc = async (req: IncomingMessage, res: ServerResponse) => {
    const opened = await openJsonRpc(req, res, opts, 'A2A JSON-RPC takes POST');
    if (!opened) return;
    const { context, principal, run, events, inTurn } = opened;
    const message = (opened.message ?? {}) as { method?: unknown; id?: unknown };
    const baseUrl = baseUrlOf(req);
    const user = { isAuthenticated: true, userName: principal.keyId };
    const version = req.headers[A2A_VERSION_HEADER.toLowerCase()];
    const call = withCaller(
      new ServerCallContext({
        user,
        tenant: principal.tenantId,
        requestedVersion: typeof version === 'string' ? version : undefined,
      }),
      { tenantId: principal.tenantId, run, inTurn, events, baseUrl },
    );
    const method = typeof message.method === 'string' ? message.method : 'unknown';
    const audit = (outcome: AuditOutcome, code: string | null) =>
      opened.audit({ operation: `a2a.${method}`, outcome, code });
    try {
      validateVersion(call.requestedVersion, await handler.getAgentCard(), 'JSONRPC');
      const error = badRequest(opened.message);
      if (error) {
        void audit(AuditOutcome.FAILURE, 'BAD_USER_INPUT');
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id ?? null, error }));
        return;
      }
      const out = await new JsonRpcTransportHandler(handler).handle(
        message as Record<string, unknown>,
        call,
      );
      if (typeof (out as AsyncGenerator)[Symbol.asyncIterator] !== 'function') {
        const single = out as { error?: { message?: string } };
        void audit(
          single.error ? AuditOutcome.FAILURE : AuditOutcome.SUCCESS,
          single.error ? 'A2A_ERROR' : null,
        );
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(JSON.stringify(out));
        return;
      }
      void audit(AuditOutcome.SUCCESS, null);
      for (const [k, v] of Object.entries(SSE_HEADERS)) res.setHeader(k, v);
      res.flushHeaders();
      try {
        for await (const event of out as AsyncGenerator) {
          if (res.destroyed) break;
          res.write(formatSSEEvent(event));
        }
      } catch (err) {
        context.logger.warn({ err, method }, 'an A2A stream failed');
        if (!res.writableEnded)
          res.write(
            formatSSEErrorEvent({
              jsonrpc: '2.0',
              id: (message.id as string | number | null) ?? null,
              error: JsonRpcTransportHandler.mapToJSONRPCError(err),
            }),
          );
      } finally {
        if (!res.writableEnded) res.end();
      }
    } catch (err) {
      void audit(AuditOutcome.FAILURE, 'A2A_ERROR');
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(
        JSON.stringify({
          jsonrpc: '2.0',
          id: message.id ?? null,
          error: JsonRpcTransportHandler.mapToJSONRPCError(err),
        }),
      );
    }
  };

  return { [CARD_PATH]: card, [A2A_PATH]: rpc };
}
