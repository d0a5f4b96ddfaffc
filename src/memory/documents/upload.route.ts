import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import type { Graph } from '../../../graph/graph.js';
import { auditScope, type AuditScope } from '../../audit-scope.js';
import type { AppContext } from '../../server/context.js';
import { AuditOutcome, Role, roleAllows } from '../../domain/auth.js';
import { AppError } from '../../domain/errors.js';
import type { MemoryDocument } from '../../domain/memory.js';
import { bodyTimeoutError, LimitError } from '../../limits/index.js';
import { inTurn, type InTurn, type Turn } from '../../limits/turn.js';
import { auditCall } from '../../server/call-audit.js';
import { titleFromFilename, type DocumentService } from './document.service.js';
import { ClientGoneError } from './errors.js';
import { readUpload } from './multipart.js';

export interface UploadRouteOptions {
  /** The server's own HTTP context: the same key check, rate limits and refusals as /graphql. */
  context: (req: IncomingMessage, query: unknown) => Promise<AppContext>;
  graph: Graph;
  documents: DocumentService;
  bodyTimeoutMs: number;
  requestTimeoutMs: number;
  /** The ingest and the audit event take one of the tenant's turns each, as /graphql's do. */
  turn: Turn;
}

/** The operation's name in the audit trail and in role refusals. */
const OPERATION = 'uploadDocument';

/** HTTP status per error code; anything else is a 500. */
const STATUS: Record<string, number> = {
  BAD_USER_INPUT: 400,
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  LIMIT_EXCEEDED: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  REQUEST_TIMEOUT: 503,
  SERVICE_UNAVAILABLE: 503,
};

/**
 * `POST /documents`: multipart/form-data with the file in `file` (text, Markdown or PDF) and
 * an optional `title` (else the file name). Authenticated and rate-limited like /graphql, with
 * the OPERATOR role as for every write, and audited as `uploadDocument`. The key is checked
 * before the body is read. Answers 201 `{ document, created: true }`, 200 `{ document, created:
 * false }` when the tenant already has a document of the same text (DocumentService.ingest), or
 * `{ errors: [{ message, extensions: { code } }] }` with 400, 401, 403, 405, 408, 413, 415, 429
 * (also LIMIT_EXCEEDED for a tenant at TENANT_MAX_PENDING_EPISODES) or 503.
 */
export function documentUploadRoute(opts: UploadRouteOptions) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return send(res, 405, errorBody('Upload documents with POST', 'METHOD_NOT_ALLOWED'));
    }
    let ctx: AppContext;
    try {
      ctx = await opts.context(req, null);
    } catch (err) {
      return refuse(req, res, err);
    }
    const principal = ctx.principal;
    if (!principal) {
      return refuse(
        req,
        res,
        new AppError('UNAUTHENTICATED', 'Send an API key as "Authorization: Bearer <key>"'),
      );
    }
    const scope: AuditScope = {
      tenantId: principal.tenantId,
      operation: OPERATION,
      actor: principal.keyName,
      actorKeyId: principal.keyId,
      targetIds: new Set(),
      written: false,
    };
    // In a turn of the tenant's too, waited for even if the client leaves (call-audit.ts).
    const own: InTurn = (work) => inTurn(opts, null, principal.tenantId, work);
    const audit = (outcome: AuditOutcome, code: string | null) =>
      auditCall(ctx, own, { operation: OPERATION, outcome, code, targetIds: [...scope.targetIds] });
    if (!roleAllows(principal.role, Role.OPERATOR)) {
      await audit(AuditOutcome.FORBIDDEN, 'FORBIDDEN');
      return refuse(
        req,
        res,
        new AppError(
          'FORBIDDEN',
          `${OPERATION} needs the ${Role.OPERATOR} role; this key has ${principal.role}`,
        ),
      );
    }

    let document: MemoryDocument;
    try {
      const upload = await readUpload(req, {
        maxFileBytes: opts.documents.limits.maxBytes,
        timeoutMs: opts.bodyTimeoutMs,
      });
      if (upload === 'too-slow') {
        // The client is still sending: answer, then close the socket rather than drain it.
        res.setHeader('connection', 'close');
        res.on('finish', () => req.socket.destroy());
        const err = bodyTimeoutError(opts.bodyTimeoutMs);
        return send(res, 408, errorBody(err.message, err.code, err.details));
      }
      // Parsing and writing are held to the request timeout, as a GraphQL operation is.
      document = await inTurn(opts, req, principal.tenantId, () =>
        auditScope.run(scope, () =>
          opts.documents.ingest(principal.tenantId, {
            title: upload.title?.trim() || titleFromFilename(upload.filename),
            mime: upload.mimeType,
            filename: upload.filename,
            data: upload.data,
          }),
        ),
      );
    } catch (err) {
      if (!scope.written) await audit(AuditOutcome.FAILURE, codeOf(err));
      return refuse(req, res, err, ctx);
    }
    if (!scope.written) await audit(AuditOutcome.SUCCESS, null);
    // Only the upload that made the document sees uploads 1 (MemoryDocument.uploads).
    const created = document.uploads === 1;
    send(res, created ? 201 : 200, { document: toJson(document), created });
  };
}

function toJson(d: MemoryDocument) {
  return {
    id: d.id,
    title: d.title,
    mime: d.mime,
    bytes: d.bytes,
    chunks: d.chunks,
    status: d.status,
    uploads: d.uploads,
    createdAt: d.createdAt,
  };
}

function codeOf(err: unknown): string {
  if (err instanceof AppError) return err.code;
  if (err instanceof GraphQLError && typeof err.extensions.code === 'string')
    return err.extensions.code;
  return 'INTERNAL_SERVER_ERROR';
}

/** Answers an error; a body still arriving is read and dropped (readUpload never keeps it). */
function refuse(req: IncomingMessage, res: ServerResponse, err: unknown, ctx?: AppContext): void {
  // Nobody is left to answer, and the server did not fail: a warning, no stack.
  if (err instanceof ClientGoneError) {
    ctx?.logger.warn('document upload ended: the client went away before the file arrived');
    return;
  }
  if (!req.complete) {
    res.setHeader('connection', 'close');
    req.resume();
  }
  // The server's own refusals (bad key, rate limit, outage) come as GraphQLErrors with a status.
  if (err instanceof GraphQLError) {
    const { http, ...extensions } = err.extensions as {
      http?: { status?: number; headers?: Map<string, string> };
    } & Record<string, unknown>;
    for (const [key, value] of http?.headers ?? []) res.setHeader(key, value);
    return send(
      res,
      http?.status ?? STATUS[codeOf(err)] ?? 400,
      errorBody(err.message, codeOf(err), extensions),
    );
  }
  if (err instanceof AppError) {
    if (err instanceof LimitError || err.code === 'SERVICE_UNAVAILABLE') {
      const retry = err.details.retryAfterSeconds;
      if (typeof retry === 'number')
        res.setHeader('retry-after', String(Math.max(1, Math.ceil(retry))));
    }
    // A full backlog is no fault of the file: the same upload is taken once ingestion catches up.
    const status = err.details.limit === 'TENANT_MAX_PENDING_EPISODES' ? 429 : STATUS[err.code];
    return send(res, status ?? 500, errorBody(err.message, err.code, err.details));
  }
  ctx?.logger.error({ err }, 'document upload failed');
  send(res, 500, errorBody('Internal server error', 'INTERNAL_SERVER_ERROR'));
}

function errorBody(message: string, code: string, details: Record<string, unknown> = {}) {
  return { errors: [{ message, extensions: { ...details, code } }] };
}

function send(res: ServerResponse, status: number, value: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(value));
}
