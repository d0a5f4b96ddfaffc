import type { PubSub } from '../../subscriptions/pubsub.js';
import type { RateLimit } from '../../src/limits/shared-rate-limiter.js';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { print, type ExecutionResult } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { connectGraph, type Graph } from '../../graph/graph.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { generateApiKey } from '../../src/auth/keys.js';
import type { Role } from '../../src/domain/auth.js';
import { DEFAULT_LIMITS, type LimitsConfig } from '../../src/limits/index.js';
import type { LlmConfig } from '../../src/llm/config.js';
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from '../../src/memory/documents/config.js';
import type { McpToolPool } from '../../src/mcp-client/pool.js';
import { DEFAULT_BACKLOG_LIMITS, type BacklogLimits } from '../../src/domain/backlog.js';
import type { MetricsConfig } from '../../src/metrics/config.js';
import type { CompiledExecutionOptions } from '../../src/server/compiled-execution.js';

export interface TestServer extends RunningServer {
  graph: Graph;
  tenantId: string;
  /** An ADMIN key of this server's tenant; gql() sends it unless told otherwise. */
  adminKey: string;
  /** A new key of this tenant with the role. */
  keyFor(role: Role): Promise<string>;
  logger: Logger;
  /** POSTs an operation (as the admin key, unless headers say otherwise) and returns the body. */
  gql<TData, TVars>(
    doc: TypedDocumentNode<TData, TVars> | string,
    variables?: TVars,
    headers?: Record<string, string>,
  ): Promise<ExecutionResult<TData> & { status: number }>;
  /** Closes the server and its graph connection. */
  stop(): Promise<void>;
}

/**
 * Starts the real server on a free port against the test Neo4j, in a tenant of its own so
 * suites never see each other's data; stop() deletes that tenant's nodes and nothing else.
 */
export async function startTestServer(
  tenantId = `test-${randomUUID()}`,
  limits: Partial<LimitsConfig> = {},
  /** The models of the server's own services (chat); the offline model when unset. */
  llm?: LlmConfig,
  /** Document limits (DOCUMENT_MAX_BYTES, ...) over the defaults. */
  documents: Partial<DocumentLimits> = {},
  /** The event bus (a Redis one shared by several servers); in-process when unset. */
  options: {
    pubsub?: PubSub;
    rateLimit?: RateLimit;
    tenantRateLimit?: RateLimit;
    relay?: { afterMs: number };
    /** Sessions to outside MCP servers, with the suite's allow-list and key (issue 16). */
    mcp?: McpToolPool;
    /** Where /metrics is served (issue 17); on the API's port without a token when unset. */
    metrics?: MetricsConfig;
    /** NODE_ENV=production's behaviour (no introspection, /metrics only with a token). */
    production?: boolean;
    /**
     * When queries are compiled (src/server/compiled-execution.ts); the server's default when
     * unset.
     */
    compiledExecution?: CompiledExecutionOptions;
    /** The server's logger (a test reading its lines: captureLogger); silent when unset. */
    logger?: Logger;
    /** A tenant's backlog caps (TENANT_MAX_*) over the defaults. */
    backlog?: Partial<BacklogLimits>;
    /** Origins whose pages may call the API (CORS_ORIGINS). */
    corsOrigins?: string[];
  } = {},
): Promise<TestServer> {
  const logger = options.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const graph = await connectGraph(inject('neo4j'), { log: () => {}, attempts: 3 });
  const server = await startServer({
    config: {
      env: options.production ? 'production' : 'test',
      host: '127.0.0.1',
      port: 0,
      // Suites send hundreds of requests a minute; limits suites set their own rates. They test
      // behaviour, not latency (the benches measure that): two suite copies on 2 cores had a
      // submitTask run past the 15 s request limit, so suites get 60 s unless they set one.
      limits: {
        ...DEFAULT_LIMITS,
        rateLimitPerMinute: 1_000_000,
        tenantRateLimitPerMinute: 1_000_000,
        requestTimeoutMs: 60_000,
        ...limits,
      },
      documents: { ...DEFAULT_DOCUMENT_LIMITS, ...documents },
      backlog: { ...DEFAULT_BACKLOG_LIMITS, ...options.backlog },
      corsOrigins: options.corsOrigins,
    },
    graph,
    logger,
    llm,
    pubsub: options.pubsub,
    rateLimit: options.rateLimit,
    tenantRateLimit: options.tenantRateLimit,
    retentionSweep: false,
    relay: options.relay !== undefined,
    relayAfterMs: options.relay?.afterMs,
    relayTenants: [tenantId],
    mcp: options.mcp,
    metrics: options.metrics,
    compiledExecution: options.compiledExecution,
  });
  const adminKey = generateApiKey();
  await server.services.auth.ensureAdminKey(tenantId, adminKey, 'test admin');
  return {
    ...server,
    graph,
    logger,
    tenantId,
    adminKey,
    keyFor: async (role) =>
      (await server.services.auth.createKey(tenantId, `test ${role}`, role)).secret,
    async gql(doc, variables, headers = {}) {
      const res = await fetch(server.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${adminKey}`,
          ...headers,
        },
        body: JSON.stringify({ query: typeof doc === 'string' ? doc : print(doc), variables }),
      });
      return { status: res.status, ...((await res.json()) as ExecutionResult<never>) };
    },
    async stop() {
      await server.close();
      await deleteTenant(graph, tenantId);
      await graph.write((tx) =>
        tx.run({ cypher: 'MATCH (t:Tenant {id: $tenantId}) DELETE t', params: { tenantId } }),
      );
      await graph.close();
    },
  };
}

/** Deletes one tenant's nodes. Refuses an empty tenant id: never an unscoped delete. */
export async function deleteTenant(graph: Graph, tenantId: string): Promise<void> {
  if (!tenantId) throw new Error('deleteTenant needs a tenant id');
  await graph.write((tx) =>
    tx.run({ cypher: 'MATCH (n {tenantId: $tenantId}) DETACH DELETE n', params: { tenantId } }),
  );
}
