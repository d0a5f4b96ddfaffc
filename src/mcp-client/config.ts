import { z } from 'zod';
import { wholeNumber } from '../config/env-number.js';
import { timerMs } from '../config/timer-ms.js';

/** How agents reach outside MCP servers (issue 16): what may run, for how long, how much. */
export interface McpClientConfig {
  /**
   * The stdio servers this deployment may start, exactly as listed (command and args). A
   * tenant names one of them; it never types a command line of its own.
   */
  stdioAllow: { command: string; args: string[] }[];
  /** Hosts HTTP servers may be on; null: any (MCP_HTTP_ALLOW_HOSTS unset). */
  httpAllowHosts: string[] | null;
  /**
   * Whether an HTTP server (or a remote A2A agent) may be on a loopback, private or link-local
   * address that MCP_HTTP_ALLOW_HOSTS does not name: in production, not unless
   * MCP_HTTP_ALLOW_PRIVATE=true, so a tenant's ADMIN cannot reach the deployment's own services
   * (Neo4j, Redis, a cloud's metadata address) through an agent's tools.
   */
  privateHosts: boolean;
  /** Seals header values at rest (AES-256-GCM); null: only headers read from the environment. */
  secretKey: Buffer | null;
  /** The longest a call may take; a server's own timeoutMs may only lower it. */
  callTimeoutMs: number;
  /** The longest connecting and listing tools may take. */
  connectTimeoutMs: number;
  /** What the model (and the checkpoint) sees of a result at most; the rest is cut and said so. */
  resultMaxChars: number;
  /** The largest message read from a server; past it the call fails at once, saying so. */
  maxMessageBytes: number;
  /** Sessions unused this long are closed. */
  idleMs: number;
}

export const DEFAULT_MCP_CLIENT: McpClientConfig = {
  stdioAllow: [],
  httpAllowHosts: null,
  privateHosts: true,
  secretKey: null,
  callTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  resultMaxChars: 16_000,
  maxMessageBytes: 16 * 1024 * 1024,
  idleMs: 300_000,
};

const StdioAllow = z.array(
  z.object({ command: z.string().min(1), args: z.array(z.string()).default([]) }),
);

export const mcpClientEnvSchema = z.object({
  MCP_STDIO_ALLOW: z
    .string()
    .default('[]')
    .refine((s) => {
      try {
        return StdioAllow.safeParse(JSON.parse(s)).success;
      } catch {
        return false;
      }
    }, 'must be a JSON array of {"command": "...", "args": ["..."]}'),
  MCP_HTTP_ALLOW_HOSTS: z.string().optional(),
  MCP_HTTP_ALLOW_PRIVATE: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  MCP_SECRET_KEY: z
    .string()
    .refine(
      (s) => Buffer.from(s, 'base64').length === 32,
      'must be 32 random bytes in base64 (openssl rand -base64 32)',
    )
    .optional(),
  MCP_CALL_TIMEOUT_MS: timerMs(100).default(DEFAULT_MCP_CLIENT.callTimeoutMs),
  MCP_CONNECT_TIMEOUT_MS: timerMs(100).default(DEFAULT_MCP_CLIENT.connectTimeoutMs),
  MCP_RESULT_MAX_CHARS: wholeNumber(
    100,
    undefined,
    'must be a whole number of characters, at least 100',
  ).default(DEFAULT_MCP_CLIENT.resultMaxChars),
  MCP_MAX_MESSAGE_BYTES: wholeNumber(
    1024,
    undefined,
    'must be a whole number of bytes, at least 1024',
  ).default(DEFAULT_MCP_CLIENT.maxMessageBytes),
});

export function mcpClientFromEnv(
  e: z.infer<typeof mcpClientEnvSchema>,
  production: boolean,
): McpClientConfig {
  return {
    ...DEFAULT_MCP_CLIENT,
    privateHosts: e.MCP_HTTP_ALLOW_PRIVATE ? e.MCP_HTTP_ALLOW_PRIVATE === 'true' : !production,
    stdioAllow: StdioAllow.parse(JSON.parse(e.MCP_STDIO_ALLOW)),
    httpAllowHosts: e.MCP_HTTP_ALLOW_HOSTS
      ? e.MCP_HTTP_ALLOW_HOSTS.split(',')
          .map((h) => h.trim().toLowerCase())
          .filter(Boolean)
      : null,
    secretKey: e.MCP_SECRET_KEY ? Buffer.from(e.MCP_SECRET_KEY, 'base64') : null,
    callTimeoutMs: e.MCP_CALL_TIMEOUT_MS,
    connectTimeoutMs: e.MCP_CONNECT_TIMEOUT_MS,
    resultMaxChars: e.MCP_RESULT_MAX_CHARS,
    maxMessageBytes: e.MCP_MAX_MESSAGE_BYTES,
  };
}
