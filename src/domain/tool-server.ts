import { echoedId } from './errors.js';

/** Outside MCP servers whose tools agents may use (issue 16): the graph's records of them. */

export enum ToolServerTransport {
  STDIO = 'STDIO',
  HTTP = 'HTTP',
}

/** Where a header's value comes from: sealed in the graph, or a variable of the environment. */
export enum HeaderSource {
  ENCRYPTED = 'ENCRYPTED',
  ENV = 'ENV',
}

export enum ToolCallStatus {
  OK = 'OK',
  ERROR = 'ERROR',
  TIMEOUT = 'TIMEOUT',
}

/** MCP's tool annotations: hints from the server, not guarantees. */
export interface McpToolAnnotations {
  title?: string | null;
  readOnlyHint?: boolean | null;
  destructiveHint?: boolean | null;
  idempotentHint?: boolean | null;
  openWorldHint?: boolean | null;
}

/** One tool as the server listed it (the snapshot kept on its ToolServer node). */
export interface McpToolInfo {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  annotations?: McpToolAnnotations;
}

export interface ToolServerHeader {
  name: string;
  source: HeaderSource;
  /** ENV: the variable that holds the value. */
  envVar: string | null;
}

export interface ToolServer {
  id: string;
  tenantId: string;
  name: string;
  transport: ToolServerTransport;
  url: string | null;
  command: string | null;
  args: string[];
  enabled: boolean;
  timeoutMs: number;
  /** Changes with every update: pooled sessions of an older version are closed on sight. */
  version: number;
  headers: ToolServerHeader[];
  /** AES-256-GCM of the ENCRYPTED headers' values (src/mcp-client/secrets.ts); never returned. */
  headersSealed: string | null;
  tools: McpToolInfo[];
  toolsRefreshedAt: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A grant: all of a server's tools (`tools` empty) or the ones named. */
export interface ToolGrant {
  server: ToolServer;
  /** The union of the grants that reach the agent; null: every tool. */
  tools: string[] | null;
}

export interface ToolCallRecord {
  id: string;
  tenantId: string;
  runId: string;
  taskId: string;
  agentId: string;
  serverId: string;
  server: string;
  tool: string;
  callId: string;
  /** JSON, with secrets redacted and clipped. */
  args: string;
  resultSummary: string | null;
  resultChars: number;
  truncated: boolean;
  durationMs: number;
  status: ToolCallStatus;
  error: string | null;
  startedAt: string;
}

/**
 * Whether a call may change the world, by MCP's defaults: a tool that does not say it is
 * read-only, or that it is not destructive, is taken to be destructive.
 */
export function isDestructive(a: McpToolAnnotations | undefined | null): boolean {
  return a?.readOnlyHint !== true && a?.destructiveHint !== false;
}

/** A server's name: what prefixes its tools' names for the model (`fixture__echo`). */
const SERVER_NAME = /^[a-z][a-z0-9_-]{0,29}$/;

/**
 * Why a server's name cannot prefix its tools' names, or null. "__" separates the two, so a name
 * holding it (or ending in "_") makes names that clash: "a__b" with tool "c" and "a" with tool
 * "b__c" would both be a__b__c, sharing policies and held calls.
 */
export function serverNameProblem(name: string): string | null {
  if (!SERVER_NAME.test(name))
    return 'name must be 1 to 30 lower-case letters, digits, "_" or "-", starting with a letter (e.g. github); it prefixes the tools\' names';
  if (name.includes('__') || name.endsWith('_'))
    return `name must not contain "__" or end with "_", but got ${JSON.stringify(name)}: "__" separates a server's name from its tools' names (server__tool, e.g. docs__search)`;
  return null;
}

/** The name a model calls a server's tool by (its qualified name): `server__tool`. */
export function mcpToolName(server: string, tool: string): string {
  return `${server}__${tool}`;
}

/** OpenAI's rule for the names of functions a model may call. */
const MODEL_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** A tool as its server listed it, with the name a model calls it by. */
export interface ListedTool {
  tool: McpToolInfo;
  qualifiedName: string;
  /** Why no model is offered it (no agent can use it, whatever it is granted); null: one is. */
  unusable: string | null;
}

/**
 * A server's tools as it lists them, each with why no model can be offered it: no name, a
 * qualified name that breaks OpenAI's rule for function names, or a name listed twice (a
 * call names the tool, so which of them runs would be the server's guess). Servers list what
 * they like; this is the one place that decides which of their tools agents can use.
 */
export function listedTools(server: Pick<ToolServer, 'name' | 'tools'>): ListedTool[] {
  const times = new Map<string, number>();
  for (const t of server.tools) times.set(t.name, (times.get(t.name) ?? 0) + 1);
  return server.tools.map((tool) => {
    const qualifiedName = mcpToolName(server.name, tool.name);
    const listed = times.get(tool.name)!;
    let unusable: string | null = null;
    // "docs__" would do for OpenAI, but MCP's tool names have 1 to 128 characters.
    if (tool.name === '') unusable = `${server.name} lists a tool with no name`;
    else if (!MODEL_TOOL_NAME.test(qualifiedName))
      unusable =
        `a model would call it ${JSON.stringify(echoedId(qualifiedName))}, but a model's ` +
        `tools are named by ${MODEL_TOOL_NAME.source} (OpenAI's rule for function names)`;
    else if (listed > 1)
      unusable =
        `${server.name} lists ${listed} tools named ${JSON.stringify(tool.name)}, ` +
        'and a model calls a tool by its name';
    return { tool, qualifiedName, unusable };
  });
}

/**
 * Why `names` cannot be granted or given a policy on `server` (a name it does not list, or a
 * tool no model is offered), or null. What to give instead is in the message.
 */
export function toolNamesProblem(
  server: Pick<ToolServer, 'name' | 'tools'>,
  names: string[],
): { message: string; tools: string[] } | null {
  const listed = listedTools(server);
  const usable = listed.filter((t) => t.unusable === null).map((t) => t.tool.name);
  const choose = usable.length
    ? `its tools agents can use are ${usable.join(', ')}`
    : server.tools.length
      ? 'none of its tools can be used by agents'
      : 'its tools are not listed yet (refreshToolServer)';
  const unknown = names.filter((n) => !listed.some((t) => t.tool.name === n));
  if (unknown.length > 0)
    return {
      message: `${server.name} has no tool named ${unknown.join(', ')}; ${choose}`,
      tools: unknown,
    };
  const refused = listed.filter((t) => t.unusable !== null && names.includes(t.tool.name));
  if (refused.length === 0) return null;
  const why = [...new Set(refused.map((t) => t.unusable))].join('; ');
  const these = refused.length > 1 ? 'these tools' : 'this tool';
  return {
    message: `no agent can use ${these} of ${server.name}: ${why}; ${choose}`,
    tools: [...new Set(refused.map((t) => t.tool.name))],
  };
}
