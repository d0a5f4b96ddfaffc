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

/** The name a model calls a server's tool by; OpenAI allows [A-Za-z0-9_-]{1,64}. */
export function mcpToolName(server: string, tool: string): string {
  return `${server}__${tool}`;
}

export const MODEL_TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
