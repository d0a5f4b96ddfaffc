import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type HTTPGraphQLResponse } from '@apollo/server';
import { bodyTimeoutError, LimitError, requestTimeoutError, withTimeout } from '../limits/index.js';
import { assertParseableNesting } from '../limits/nesting.js';
import type { Graph } from '../../graph/graph.js';
import type { AppContext } from './context.js';
import type { Logger } from '../logger.js';
import { propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { inSpan, SpanKind } from '../tracing/tracer.js';
import { countGraphqlErrors } from '../metrics/graphql-plugin.js';
import { metrics } from '../metrics/metrics.js';
import { applyCors } from './cors.js';

type Route = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface HttpHandlerOptions {
  apollo: ApolloServer<AppContext>;
  graph: Graph;
  logger: Logger;
  /**
   * The context for a request; `query` is its document text, when it has one. What it hands
   * `onHold` (its tenant's slot) is released when the request's work ends.
   */
  context: (
    req: IncomingMessage,
    query: unknown,
    onHold?: (release: () => void) => void,
  ) => Promise<AppContext>;
  /** Request bodies over this are refused with 413 before parsing. */
  maxBodyBytes: number;
  /**
   * A request still running after this gets a REQUEST_TIMEOUT error (503), and its Neo4j work
   * is ended with it (Graph.withDeadline).
   */
  requestTimeoutMs: number;
  /** A body not fully received this long after the headers gets 408 and the socket closes. */
  bodyTimeoutMs: number;
  /** The query depth limit; documents nested far deeper are refused before parsing. */
  maxDepth: number;
  /**
   * Other routes by exact path (POST /documents), or by prefix when the key ends in `/*`
   * (`/console/*` serves /console and everything under it); each reads its own body.
   */
  routes?: Record<string, Route>;
  /** Origins whose pages may call the API (CORS_ORIGINS, src/server/cors.ts); none when unset. */
  corsOrigins?: ReadonlySet<string>;
}

/**
 * The whole HTTP surface: /graphql through Apollo, /healthz (process up), /readyz (Neo4j
 * answers). A small hand-written adapter instead of Express: it is all the routing we need.
 */
export function createHttpHandler(opts: HttpHandlerOptions) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const run = () =>
      handle(req, res, opts).catch((err: unknown) => {
        opts.logger.error({ err }, 'unhandled HTTP error');
        if (!res.headersSent)
          sendJson(res, 500, graphqlError('Internal server error', 'INTERNAL_SERVER_ERROR'));
        else res.end();
      });
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (UNTRACED.has(path)) return void run();
    // A span per request (issue 17), continuing the caller's trace when it sent a traceparent;
    // the GraphQL plugin names it after the operation (src/tracing/graphql-plugin.ts).
    const known = path === '/graphql' || !!routeFor(opts.routes, path);
    void inSpan(
      known ? `${req.method} ${path}` : (req.method ?? 'GET'),
      {
        kind: SpanKind.SERVER,
        parent: propagation.extract(ROOT_CONTEXT, req.headers),
        attributes: {
          'http.request.method': req.method ?? 'GET',
          ...(known ? { 'url.path': path } : {}),
        },
      },
      async (span) => {
        await run();
        span.setAttribute('http.response.status_code', res.statusCode);
      },
    );
  };
}

/** The route for a path: its exact one, else a `prefix/*` one that covers it. */
function routeFor(routes: Record<string, Route> | undefined, path: string): Route | undefined {
  if (!routes) return undefined;
  const exact = routes[path];
  if (exact) return exact;
  for (const [key, route] of Object.entries(routes)) {
    if (!key.endsWith('/*')) continue;
    const prefix = key.slice(0, -2);
    if (path === prefix || path.startsWith(`${prefix}/`)) return route;
  }
  return undefined;
}

/** Probes and scrapes: frequent, and of no interest in a trace. */
const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

async function handle(req: IncomingMessage, res: ServerResponse, opts: HttpHandlerOptions) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (opts.corsOrigins && applyCors(req, res, url.pathname, opts.corsOrigins)) return;
  if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
  if (url.pathname === '/readyz') {
    const version = await opts.graph.serverVersion().catch(() => null);
    return sendJson(res, version ? 200 : 503, { status: version ? 'ready' : 'neo4j unreachable' });
  }
  const route = routeFor(opts.routes, url.pathname);
  if (route) return route(req, res);
  if (url.pathname !== '/graphql') {
    return sendJson(res, 404, { error: `Nothing at ${url.pathname}: the API is at /graphql` });
  }
  res.on('finish', () => metrics.graphql.requests.inc({ status: String(res.statusCode) }));

  const body = await readBody(req, opts.maxBodyBytes, opts.bodyTimeoutMs);
  if (body === 'too-slow') {
    // The client is still sending: answer, then close the socket rather than drain it.
    res.setHeader('connection', 'close');
    sendJson(res, 408, limitBody(bodyTimeoutError(opts.bodyTimeoutMs)));
    res.on('finish', () => req.socket.destroy());
    return;
  }
  if (body === 'too-large') {
    return sendJson(
      res,
      413,
      graphqlError(
        `Request body is over the limit of ${opts.maxBodyBytes} bytes`,
        'PAYLOAD_TOO_LARGE',
      ),
    );
  }
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  let parsed: unknown = body;
  if (body.length > 0 && (headers.get('content-type') ?? '').includes('application/json')) {
    try {
      parsed = JSON.parse(body);
    } catch (err) {
      const reason = (err as Error).message;
      return sendJson(res, 400, graphqlError(`Malformed JSON body: ${reason}`, 'BAD_REQUEST'));
    }
  }

  const query = (parsed as { query?: unknown } | null)?.query ?? url.searchParams.get('query');
  try {
    assertParseableNesting(query, opts.maxDepth);
  } catch (err) {
    if (!(err instanceof LimitError)) throw err;
    return sendJson(res, 400, limitBody(err));
  }

  const held: (() => void)[] = [];
  const work = opts.graph.withDeadline(opts.requestTimeoutMs, () =>
    opts.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        method: req.method ?? 'GET',
        headers,
        search: url.search,
        body: parsed,
      },
      context: () => opts.context(req, query, (release) => held.push(release)),
    }),
  );
  // The tenant's slot is held while the work runs, even past a timeout's answer.
  const release = () => held.splice(0).forEach((r) => r());
  work.then(release, release);
  let response: HTTPGraphQLResponse;
  try {
    response = await withTimeout(work, opts.requestTimeoutMs, () =>
      requestTimeoutError(opts.requestTimeoutMs),
    );
  } catch (err) {
    if (!(err instanceof LimitError)) throw err;
    return sendJson(res, 503, limitBody(err));
  }
  for (const [key, value] of response.headers) {
    // Apollo's Vary joins the one CORS set (Origin), rather than replacing it.
    if (key === 'vary' && res.hasHeader('vary')) res.appendHeader('vary', value);
    else res.setHeader(key, value);
  }
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

/**
 * The body as text; 'too-large' past `limit` bytes; 'too-slow' when it is not all in within
 * `timeoutMs` (a trickling body was held for Node's 300 s default: issue 9).
 */
export function readBody(
  req: IncomingMessage,
  limit: number,
  timeoutMs: number,
): Promise<string | 'too-large' | 'too-slow'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      req.removeAllListeners('data');
      resolve('too-slow');
    }, timeoutMs);
    const done = (value: string | 'too-large') => {
      clearTimeout(timer);
      resolve(value);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done('too-large');
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** A GraphQL error body this handler sends itself, counted as the plugin counts Apollo's. */
function errorBody(body: { errors: { message: string; extensions: Record<string, unknown> }[] }) {
  countGraphqlErrors(body.errors);
  return body;
}

function limitBody(err: LimitError) {
  return errorBody({
    errors: [{ message: err.message, extensions: { ...err.details, code: err.code } }],
  });
}

function graphqlError(message: string, code: string) {
  return errorBody({ errors: [{ message, extensions: { code } }] });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(value));
}
