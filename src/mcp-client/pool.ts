import { BlockList, isIP } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import { ToolServerTransport, type McpToolInfo, type ToolServer } from '../domain/tool-server.js';
import { LIMITS } from '../domain/validate.js';
import type { Logger } from '../logger.js';
import { VERSION } from '../version.js';
import type { McpClientConfig } from './config.js';
import { capBody, tooLargeMessage, TooLargeError } from './limit.js';
import { resolveHeaders } from './secrets.js';

/** Why this deployment may not connect to the server; null when it may. */
export function connectProblem(
  s: Pick<ToolServer, 'transport' | 'url' | 'command' | 'args'>,
  cfg: Pick<McpClientConfig, 'stdioAllow' | 'httpAllowHosts' | 'privateHosts'>,
): string | null {
  if (s.transport === ToolServerTransport.STDIO) {
    const allowed = cfg.stdioAllow.some(
      (a) =>
        a.command === s.command &&
        a.args.length === s.args.length &&
        a.args.every((arg, i) => arg === s.args[i]),
    );
    return allowed
      ? null
      : 'this command and its args are not on the deployment\'s allow-list of stdio servers (MCP_STDIO_ALLOW); an operator of the deployment adds them there, e.g. [{"command":"npx","args":["-y","@modelcontextprotocol/server-everything"]}]';
  }
  const text = s.url ?? '';
  if (text.length > LIMITS.url)
    return `url must be at most ${LIMITS.url} characters, but got ${text.length}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'url must be an http:// or https:// URL, e.g. https://mcp.example.com/mcp';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return 'url must be an http:// or https:// URL, e.g. https://mcp.example.com/mcp';
  // Every key that reads toolServers sees the url; fetch refuses such a URL anyway.
  if (url.username || url.password)
    return 'url must not carry a user name or password: send them as a header instead, e.g. headers: [{ name: "Authorization", value: "Basic …" }] (sealed, never shown)';
  const host = url.hostname.toLowerCase();
  if (cfg.httpAllowHosts) {
    return cfg.httpAllowHosts.includes(host)
      ? null
      : `the host ${url.hostname} is not on the deployment's allow-list of MCP hosts (MCP_HTTP_ALLOW_HOSTS)`;
  }
  if (!cfg.privateHosts && isPrivateHost(host))
    return `the host ${url.hostname} is a loopback, private or link-local address, which agents may not reach here unless the deployment lists it in MCP_HTTP_ALLOW_HOSTS (or sets MCP_HTTP_ALLOW_PRIVATE=true)`;
  return null;
}

/** Loopback, private, shared and link-local ranges (and "this network"), IPv4 and IPv6. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

/**
 * Whether a URL's host names this machine or a private network by itself: `localhost` and its
 * subdomains, or an address in a private range (IPv4-mapped IPv6 included). A name that
 * resolves to such an address is not caught here: list hosts (MCP_HTTP_ALLOW_HOSTS) to be sure.
 */
export function isPrivateHost(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const bare = host.replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  if (mapped) return PRIVATE.check(mapped, 'ipv4');
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(bare);
  if (hex) {
    const n = (parseInt(hex[1]!, 16) << 16) | parseInt(hex[2]!, 16);
    return PRIVATE.check([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), 'ipv4');
  }
  const family = isIP(bare);
  if (family === 4) return PRIVATE.check(bare, 'ipv4');
  if (family === 6) return PRIVATE.check(bare, 'ipv6');
  return false;
}

/**
 * What one server's listing may hold: more tools than a model can choose among (OpenAI takes
 * 128 in a request), or a cursor that never ends, whose pages answered at once kept the event
 * loop busy until the listing's time ran out.
 */
const MAX_TOOLS = 1000;
const MAX_PAGES = 100;

/** The SDK's stdio transport says so when a message outgrows its buffer (maxBufferSize). */
const STDIO_OVERFLOW = /ReadBuffer exceeded maximum size/;

interface Session {
  version: number;
  client: Promise<Client>;
  lastUsed: number;
}

/**
 * One MCP session per tool server and process, opened on first use and shared by every step
 * that calls the server's tools (sessions are pooled, not opened per call).
 *
 * Contract:
 * - **Ordering**: calls on one session run concurrently, as MCP allows; nothing orders them.
 * - **Aborts**: a call's signal and timeout cancel it (the SDK sends notifications/cancelled);
 *   the session stays. A session whose transport closed (the process died, the stream broke)
 *   is dropped at once and the next call opens a new one.
 * - **Versions**: a server changed in the graph (its version) gets a new session on next use;
 *   the old one is closed.
 * - **Limits**: connecting, and listing all pages, give up after connectTimeoutMs each; a
 *   listing past MAX_PAGES pages or MAX_TOOLS tools fails saying so; a message larger than
 *   maxMessageBytes fails its call at once with tooLargeMessage (not at its timeout); a stdio
 *   session, whose stream it broke, is renewed, and its other calls in flight fail so too.
 * - **Idle**: sessions unused for idleMs are closed; closeAll() ends them all (process stop).
 */
export class McpToolPool {
  private readonly sessions = new Map<string, Session>();
  /** Clients whose transport closed on a message past the limit: their calls fail saying so. */
  private readonly overflowed = new WeakSet<Client>();
  private readonly idleTimer: NodeJS.Timeout;

  constructor(
    readonly cfg: McpClientConfig,
    private readonly logger: Pick<Logger, 'debug'>,
  ) {
    this.idleTimer = setInterval(() => this.closeIdle(), Math.max(1_000, cfg.idleMs / 4));
    this.idleTimer.unref();
  }

  /** The server's connected client, opened once per version. */
  client(server: ToolServer): Promise<Client> {
    const open = this.sessions.get(server.id);
    if (open && open.version === server.version) {
      open.lastUsed = performance.now();
      return open.client;
    }
    if (open) this.evict(server.id);
    const session: Session = {
      version: server.version,
      lastUsed: performance.now(),
      client: null!,
    };
    session.client = this.connect(server, () => {
      if (this.sessions.get(server.id) === session) this.sessions.delete(server.id);
    });
    session.client.catch(() => {
      if (this.sessions.get(server.id) === session) this.sessions.delete(server.id);
    });
    this.sessions.set(server.id, session);
    return session.client;
  }

  /**
   * Calls a tool on the server's session. A reply past maxMessageBytes fails the call at once
   * with tooLargeMessage (not at its timeout); on stdio it also renews the session.
   */
  async callTool(
    server: ToolServer,
    ...[params, schema, options]: Parameters<Client['callTool']>
  ): ReturnType<Client['callTool']> {
    const client = await this.client(server);
    try {
      return await client.callTool(params, schema, options);
    } catch (err) {
      // The SDK fails every call of a closed stdio session with "Connection closed".
      if (this.overflowed.has(client)) throw new Error(tooLargeMessage(this.cfg.maxMessageBytes));
      throw err;
    }
  }

  /**
   * Lists the server's tools on a session of its own (adding or refreshing a server). Once
   * connected (connecting has a timeout of its own), all its pages together get
   * connectTimeoutMs, and `signal` (the caller gave up) ends it too: a server whose cursor never
   * ends would otherwise be asked for pages forever.
   */
  async list(server: ToolServer, signal?: AbortSignal): Promise<McpToolInfo[]> {
    const client = await this.connect(server, () => {});
    const ms = this.cfg.connectTimeoutMs;
    const deadline = new AbortController();
    const timer = setTimeout(
      () =>
        deadline.abort(new Error(`listing the tools took over ${ms} ms (MCP_CONNECT_TIMEOUT_MS)`)),
      ms,
    );
    const stop = signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
    try {
      const tools: McpToolInfo[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        stop.throwIfAborted();
        const page = await client.listTools(cursor ? { cursor } : {}, {
          timeout: ms,
          signal: stop,
        });
        for (const t of page.tools)
          tools.push({
            name: t.name,
            description: t.description,
            inputSchema: t.inputSchema as Record<string, unknown>,
            annotations: t.annotations,
          });
        cursor = page.nextCursor;
        pages++;
        if (tools.length > MAX_TOOLS || (cursor && pages >= MAX_PAGES)) {
          const over = tools.length > MAX_TOOLS ? `${MAX_TOOLS} tools` : `${MAX_PAGES} pages`;
          throw new Error(
            `the server lists more than ${over}; the platform takes at most ${MAX_TOOLS} tools in ${MAX_PAGES} pages from one server`,
          );
        }
      } while (cursor);
      return tools;
    } finally {
      clearTimeout(timer);
      await client.close().catch(() => {});
    }
  }

  /** Closes the server's session (it changed, or was removed). */
  evict(serverId: string): void {
    const s = this.sessions.get(serverId);
    this.sessions.delete(serverId);
    void s?.client.then((c) => c.close()).catch(() => {});
  }

  async closeAll(): Promise<void> {
    clearInterval(this.idleTimer);
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.client.then((c) => c.close()).catch(() => {})));
  }

  private closeIdle(): void {
    const before = performance.now() - this.cfg.idleMs;
    for (const [id, s] of this.sessions) if (s.lastUsed < before) this.evict(id);
  }

  private async connect(server: ToolServer, onClose: () => void): Promise<Client> {
    const problem = connectProblem(server, this.cfg);
    if (problem) throw new Error(problem);
    const transport = this.transport(server);
    const client = new Client({ name: 'agent-platform', version: VERSION });
    client.onclose = onClose;
    client.onerror = (err) => {
      if (STDIO_OVERFLOW.test(err.message)) this.overflowed.add(client);
    };
    try {
      await client.connect(transport, { timeout: this.cfg.connectTimeoutMs });
    } catch (err) {
      await client.close().catch(() => {});
      throw err;
    }
    return client;
  }

  private transport(server: ToolServer): Transport {
    if (server.transport === ToolServerTransport.STDIO) {
      const t = new StdioClientTransport({
        command: server.command!,
        args: server.args,
        // Only the SDK's safe defaults (PATH, HOME...): the platform's secrets stay here.
        stderr: 'pipe',
        maxBufferSize: this.cfg.maxMessageBytes,
      });
      // Read so a chatty server never blocks on a full pipe; what it says goes to the debug log.
      t.stderr?.on('data', (chunk: Buffer) =>
        this.logger.debug(
          { server: server.name },
          `MCP server says: ${chunk.toString().slice(0, 500)}`,
        ),
      );
      return t;
    }
    const max = this.cfg.maxMessageBytes;
    const t: StreamableHTTPClientTransport = new StreamableHTTPClientTransport(
      new URL(server.url!),
      {
        requestInit: { headers: resolveHeaders(server, this.cfg) },
        // A streamed reply's error only reaches onerror, leaving its call to time out: answer
        // the call with the error instead.
        fetch: limitedFetch(max, (id) =>
          t.onmessage?.({
            jsonrpc: '2.0',
            id,
            error: { code: ErrorCode.InternalError, message: tooLargeMessage(max) },
          }),
        ),
        reconnectionOptions: {
          maxRetries: 0,
          initialReconnectionDelay: 1_000,
          maxReconnectionDelay: 1_000,
          reconnectionDelayGrowFactor: 1,
        },
      },
    );
    return t;
  }
}

/**
 * fetch that fails a response larger than `max` bytes instead of reading it all into memory.
 * A JSON reply fails the request's send (and so its call); for an event stream, which the SDK
 * reads apart from the send, `onStreamTooLarge` gets the id of the request it answered.
 */
function limitedFetch(max: number, onStreamTooLarge: (id: RequestId) => void): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const streamed = res.headers.get('content-type')?.startsWith('text/event-stream') ?? false;
    return capBody(
      res,
      max,
      () => new TooLargeError(tooLargeMessage(max)),
      () => {
        const id = streamed ? requestIdOf(init?.body) : undefined;
        if (id !== undefined) onStreamTooLarge(id);
      },
    );
  };
}

/** The id of the JSON-RPC request a POST body holds; undefined for a notification or a batch. */
function requestIdOf(body: unknown): RequestId | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const id = (JSON.parse(body) as { id?: unknown }).id;
    return typeof id === 'string' || typeof id === 'number' ? id : undefined;
  } catch {
    return undefined;
  }
}
