import neo4j from 'neo4j-driver';
import {
  HeaderSource,
  ToolCallStatus,
  ToolServerTransport,
  type McpToolInfo,
  type ToolCallRecord,
  type ToolGrant,
  type ToolServer,
  type ToolServerHeader,
} from '../src/domain/tool-server.js';
import type { Tx } from './cypher.js';
import { lockAndBump } from './locks.js';
import { Reader, num, str } from './mappers.js';
import type { NodeLike } from './page.js';

/**
 * Outside MCP servers (issue 16): (:ToolServer {tenantId, name}) per tenant, granted by
 * (:Agent|:Capability)-[:MAY_USE {tools}]->(:ToolServer), and every call an agent made as
 * (:Run)-[:CALLED_TOOL]->(:ToolCall). Header values are only ever sealed (headersSealed).
 */

const json = <T>(v: unknown, fallback: T): T => {
  if (typeof v !== 'string') return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
};

function toToolServer(node: NodeLike): ToolServer {
  const r = new Reader('ToolServer', node);
  const headers = json<ToolServerHeader[]>(r.p.headersJson, []).map((h) => ({
    name: h.name,
    source: h.source === HeaderSource.ENV ? HeaderSource.ENV : HeaderSource.ENCRYPTED,
    envVar: h.envVar ?? null,
  }));
  return {
    id: r.text('id'),
    tenantId: r.text('tenantId'),
    name: r.text('name'),
    transport: r.oneOf('transport', ToolServerTransport),
    url: str(r.p.url),
    command: str(r.p.command),
    args: Array.isArray(r.p.args) ? (r.p.args as string[]) : [],
    enabled: r.p.enabled !== false,
    timeoutMs: num(r.p.timeoutMs, 30_000),
    version: num(r.p.version, 1),
    headers,
    headersSealed: str(r.p.headersSealed),
    tools: json<McpToolInfo[]>(r.p.toolsJson, []),
    toolsRefreshedAt: r.p.toolsRefreshedAt == null ? null : r.time('toolsRefreshedAt'),
    lastError: str(r.p.lastError),
    createdAt: r.time('createdAt'),
    updatedAt: r.time('updatedAt'),
  };
}

/** What a server is made of, as written (tools and errors come from refreshes). */
export interface ToolServerProps {
  name: string;
  transport: ToolServerTransport;
  url: string | null;
  command: string | null;
  args: string[];
  enabled: boolean;
  timeoutMs: number;
  headers: ToolServerHeader[];
  headersSealed: string | null;
}

const write = (p: Partial<ToolServerProps>) => {
  const { headers, ...rest } = p;
  return { ...rest, ...(headers ? { headersJson: JSON.stringify(headers) } : {}) };
};

export async function createToolServer(
  tx: Tx,
  tenantId: string,
  id: string,
  props: ToolServerProps,
  actor: string,
): Promise<ToolServer> {
  const [row] = await tx.run<{ s: NodeLike }>({
    cypher: `CREATE (s:ToolServer {id: $id, tenantId: $tenantId})
      SET s += $props, s.version = 1, s.createdAt = datetime(), s.updatedAt = datetime(),
          s.updatedBy = $actor
      RETURN s`,
    params: { id, tenantId, props: write(props), actor },
  });
  return toToolServer(row!.s);
}

/** Applies a change and moves the version on (pooled sessions of the old one close). */
export async function updateToolServer(
  tx: Tx,
  tenantId: string,
  id: string,
  patch: Partial<ToolServerProps>,
  actor: string,
): Promise<ToolServer | null> {
  const [row] = await tx.run<{ s: NodeLike }>({
    cypher: `MATCH (s:ToolServer {tenantId: $tenantId, id: $id})
      SET s += $props, s.version = coalesce(s.version, 1) + 1, s.updatedAt = datetime(),
          s.updatedBy = $actor
      RETURN s`,
    params: { id, tenantId, props: write(patch), actor },
  });
  return row ? toToolServer(row.s) : null;
}

/**
 * Keeps what listing the server's tools gave (the tools, or why it failed; the tools stay),
 * if the server is still at `version`, the settings they were listed with. Returns the server.
 */
export async function setToolServerTools(
  tx: Tx,
  tenantId: string,
  id: string,
  version: number,
  listed: { tools: McpToolInfo[] } | { error: string },
): Promise<ToolServer | null> {
  const [row] = await tx.run<{ s: NodeLike }>({
    // Only for the settings they were listed with: an update since lists its own.
    cypher: `MATCH (s:ToolServer {tenantId: $tenantId, id: $id})
      SET s:ToolServer
      WITH s
      CALL (s) {
        WITH s WHERE coalesce(s.version, 1) = $version
        SET s.toolsJson = coalesce($toolsJson, s.toolsJson), s.lastError = $error,
            s.toolsRefreshedAt = CASE WHEN $toolsJson IS NULL THEN s.toolsRefreshedAt ELSE datetime() END
      }
      RETURN s`,
    params: {
      id,
      tenantId,
      version: neo4j.int(version),
      toolsJson: 'tools' in listed ? JSON.stringify(listed.tools) : null,
      error: 'error' in listed ? listed.error : null,
    },
  });
  return row ? toToolServer(row.s) : null;
}

export async function deleteToolServer(tx: Tx, tenantId: string, id: string): Promise<boolean> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `OPTIONAL MATCH (s:ToolServer {tenantId: $tenantId, id: $id})
      DETACH DELETE s RETURN count(s) AS n`,
    params: { tenantId, id },
  });
  return (row?.n ?? 0) > 0;
}

/**
 * The server by id under its write lock, held until the commit: an update writes every setting
 * from what it read, so it reads under the lock, or another update's change is written back.
 */
export async function lockToolServer(
  tx: Tx,
  tenantId: string,
  id: string,
): Promise<ToolServer | null> {
  const [row] = await tx.run<{ s: NodeLike }>({
    cypher: `MATCH (s:ToolServer {tenantId: $tenantId, id: $id})
      ${lockAndBump('s', 'ToolServer')}
      RETURN s`,
    params: { tenantId, id },
  });
  return row ? toToolServer(row.s) : null;
}

/**
 * The server by name under its write lock, its version unchanged (pooled sessions stay open):
 * for a write that must not outlive the server, as a tool policy (removeToolServer locks it).
 */
export async function holdToolServerByName(
  tx: Tx,
  tenantId: string,
  name: string,
): Promise<ToolServer | null> {
  const [row] = await tx.run<{ s: NodeLike }>({
    cypher: `MATCH (s:ToolServer {tenantId: $tenantId, name: $name})
      ${lockAndBump('s', 'ToolServer', 'writeLock')}
      RETURN s`,
    params: { tenantId, name },
  });
  return row ? toToolServer(row.s) : null;
}

export async function toolServerById(
  tx: Tx,
  tenantId: string,
  id: string,
): Promise<ToolServer | null> {
  const [row] = await tx.run<{ s: NodeLike }>({
    cypher: 'MATCH (s:ToolServer {tenantId: $tenantId, id: $id}) RETURN s',
    params: { tenantId, id },
  });
  return row ? toToolServer(row.s) : null;
}

export async function toolServerByName(
  tx: Tx,
  tenantId: string,
  name: string,
): Promise<ToolServer | null> {
  const [row] = await tx.run<{ s: NodeLike }>({
    cypher: 'MATCH (s:ToolServer {tenantId: $tenantId, name: $name}) RETURN s',
    params: { tenantId, name },
  });
  return row ? toToolServer(row.s) : null;
}

export async function toolServers(tx: Tx, tenantId: string): Promise<ToolServer[]> {
  // By the (tenantId, name) index, in its order: by tenantId alone it scanned every tenant's.
  const rows = await tx.run<{ s: NodeLike }>({
    cypher: `MATCH (s:ToolServer {tenantId: $tenantId})
      USING INDEX SEEK s:ToolServer(tenantId, name) WHERE s.name IS NOT NULL
      RETURN s ORDER BY s.name`,
    params: { tenantId },
  });
  return rows.map((r) => toToolServer(r.s));
}

/** Who may use a server's tools: an agent, or every agent with a capability. */
export interface ToolGrantRow {
  agentId: string | null;
  capability: string | null;
  /** Empty: all of the server's tools. */
  tools: string[];
}

/**
 * Grants an agent (by id) or a capability (by name, made if new) the server's tools; replaces
 * an earlier grant of the same pair. False when the server or agent is not the tenant's.
 */
export async function putGrant(
  tx: Tx,
  g: {
    tenantId: string;
    serverId: string;
    agentId: string | null;
    capability: string | null;
    tools: string[];
  },
): Promise<boolean> {
  const [row] = await tx.run<{ ok: boolean }>({
    cypher: g.agentId
      ? `MATCH (s:ToolServer {tenantId: $tenantId, id: $serverId})
         MATCH (a:Agent {tenantId: $tenantId, id: $agentId}) USING INDEX SEEK a:Agent(id)
         MERGE (a)-[m:MAY_USE]->(s) SET m.tools = $tools RETURN true AS ok`
      : `MATCH (s:ToolServer {tenantId: $tenantId, id: $serverId})
         MERGE (c:Capability {tenantId: $tenantId, name: $capability})
         ON CREATE SET c.id = randomUUID(), c.createdAt = datetime()
         MERGE (c)-[m:MAY_USE]->(s) SET m.tools = $tools RETURN true AS ok`,
    params: g,
  });
  return row?.ok === true;
}

/**
 * Takes a grant back: 'deleted', 'none' (there was no such grant), or which of the server and
 * the agent is not the tenant's.
 */
export async function deleteGrant(
  tx: Tx,
  g: { tenantId: string; serverId: string; agentId: string | null; capability: string | null },
): Promise<'deleted' | 'none' | 'no-server' | 'no-agent'> {
  const [row] = await tx.run<{ server: boolean; agent: boolean; n: number }>({
    cypher: `OPTIONAL MATCH (s:ToolServer {tenantId: $tenantId, id: $serverId})
      OPTIONAL MATCH (a:Agent {tenantId: $tenantId, id: $agentId}) USING INDEX SEEK a:Agent(id)
      OPTIONAL MATCH (x)-[m:MAY_USE]->(s)
      WHERE (x:Agent AND x.id = $agentId) OR (x:Capability AND x.name = $capability)
      DELETE m
      RETURN s IS NOT NULL AS server, a IS NOT NULL AS agent, count(m) AS n`,
    params: g,
  });
  if (!row?.server) return 'no-server';
  if (g.agentId !== null && !row.agent) return 'no-agent';
  return row.n > 0 ? 'deleted' : 'none';
}

export async function grantsOfServers(
  tx: Tx,
  tenantId: string,
  serverIds: readonly string[],
): Promise<Map<string, ToolGrantRow[]>> {
  const rows = await tx.run<{ serverId: string; grants: ToolGrantRow[] }>({
    cypher: `UNWIND $serverIds AS serverId
      MATCH (s:ToolServer {tenantId: $tenantId, id: serverId})
      OPTIONAL MATCH (x)-[m:MAY_USE]->(s)
      WITH serverId, x, m ORDER BY x.name
      RETURN serverId, [g IN collect(CASE WHEN m IS NULL THEN null ELSE {
        agentId: CASE WHEN x:Agent THEN x.id END,
        capability: CASE WHEN x:Capability THEN x.name END,
        tools: m.tools } END) WHERE g IS NOT NULL] AS grants`,
    params: { tenantId, serverIds },
  });
  return new Map(rows.map((r) => [r.serverId, r.grants]));
}

/**
 * The enabled servers an agent may use, directly or through a capability, each with the union
 * of its grants (null when one of them grants every tool).
 */
export async function grantsForAgent(
  tx: Tx,
  tenantId: string,
  agentId: string,
): Promise<ToolGrant[]> {
  const rows = await tx.run<{ s: NodeLike; grants: string[][] }>({
    cypher: `MATCH (a:Agent {tenantId: $tenantId, id: $agentId}) USING INDEX SEEK a:Agent(id)
      CALL (a) {
        MATCH (a)-[m:MAY_USE]->(s:ToolServer) RETURN s, m
        UNION
        MATCH (a)-[:HAS_CAPABILITY]->(:Capability)-[m:MAY_USE]->(s:ToolServer) RETURN s, m
      }
      WITH s, collect(m.tools) AS grants WHERE s.enabled
      RETURN s, grants ORDER BY s.name`,
    params: { tenantId, agentId },
  });
  return rows.map((r) => ({
    server: toToolServer(r.s),
    tools: r.grants.some((t) => t.length === 0) ? null : [...new Set(r.grants.flat())],
  }));
}

/** Writes a call as it happened (not with the step's outcome: the world saw it). MERGE on id. */
export async function recordToolCall(tx: Tx, c: ToolCallRecord): Promise<void> {
  await tx.run({
    cypher: `MERGE (c:ToolCall {id: $id})
      ON CREATE SET c += $props, c.startedAt = datetime($startedAt)
      WITH c
      OPTIONAL MATCH (r:Run {tenantId: $tenantId, id: $runId}) USING INDEX SEEK r:Run(id)
      FOREACH (_ IN CASE WHEN r IS NULL THEN [] ELSE [1] END | MERGE (r)-[:CALLED_TOOL]->(c))`,
    params: {
      id: c.id,
      tenantId: c.tenantId,
      runId: c.runId,
      startedAt: c.startedAt,
      props: {
        tenantId: c.tenantId,
        runId: c.runId,
        taskId: c.taskId,
        agentId: c.agentId,
        serverId: c.serverId,
        server: c.server,
        tool: c.tool,
        callId: c.callId,
        args: c.args,
        resultSummary: c.resultSummary,
        resultChars: neo4j.int(c.resultChars),
        truncated: c.truncated,
        durationMs: neo4j.int(c.durationMs),
        status: c.status,
        error: c.error,
      },
    },
  });
}

function toToolCall(node: NodeLike): ToolCallRecord {
  const r = new Reader('ToolCall', node);
  return {
    id: r.text('id'),
    tenantId: r.text('tenantId'),
    runId: r.text('runId'),
    taskId: r.text('taskId'),
    agentId: r.text('agentId'),
    serverId: r.text('serverId'),
    server: r.text('server'),
    tool: r.text('tool'),
    callId: r.text('callId'),
    args: r.text('args'),
    resultSummary: str(r.p.resultSummary),
    resultChars: num(r.p.resultChars),
    truncated: r.p.truncated === true,
    durationMs: num(r.p.durationMs),
    status: r.oneOf('status', ToolCallStatus),
    error: str(r.p.error),
    startedAt: r.time('startedAt'),
  };
}

/** The tool calls of each run, in the order they started. */
export async function toolCallsByRunIds(
  tx: Tx,
  tenantId: string,
  runIds: readonly string[],
): Promise<ToolCallRecord[]> {
  const rows = await tx.run<{ c: NodeLike }>({
    cypher: `UNWIND $runIds AS runId
      MATCH (c:ToolCall {tenantId: $tenantId, runId: runId})
      RETURN c ORDER BY c.startedAt, c.id`,
    params: { tenantId, runIds },
  });
  return rows.map((r) => toToolCall(r.c));
}
