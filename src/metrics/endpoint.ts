import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { MetricsConfig } from './config.js';
import { registry } from './metrics.js';
import { listenOn } from '../cli/startup-error.js';

/** The token's comparison takes as long whatever the guess. */
function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * GET /metrics in Prometheus's text format, behind the token when one is configured. A scrape
 * reads a few gauges from Neo4j (READY steps); one that fails answers 500 with the reason.
 */
export function metricsRoute(token: string | null, logger: Logger) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end('Use GET\n');
      return;
    }
    if (token && !tokenMatches(req.headers.authorization, token)) {
      res
        .writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' })
        .end('Send the metrics token as "Authorization: Bearer <METRICS_TOKEN>"\n');
      return;
    }
    try {
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType }).end(text);
    } catch (err) {
      logger.warn({ err }, 'a metrics scrape failed');
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`Scrape failed: ${String(err)}\n`);
    }
  };
}

/**
 * /metrics on a port of its own (METRICS_PORT): how a worker, which has no HTTP server, is
 * scraped, and how an API keeps its metrics off its public port. Resolves with the port.
 */
export async function startMetricsServer(
  config: Pick<MetricsConfig, 'host' | 'token'> & { port: number },
  logger: Logger,
): Promise<{ port: number; close(): Promise<void> }> {
  const route = metricsRoute(config.token, logger);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/metrics') return void route(req, res);
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Metrics are at /metrics\n');
  });
  await listenOn(server, config.port, config.host, 'METRICS_PORT');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
