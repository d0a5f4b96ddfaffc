import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type {
  CallToolResult,
  ServerNotification,
  ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/** One tools/call the fixture received (HTTP: with the request's auth and `x-*` headers). */
export type FixtureCall = { tool: string; args: unknown; headers?: Record<string, string> };

export interface McpHttpFixture {
  /** e.g. http://127.0.0.1:PORT/mcp */
  url: string;
  calls: FixtureCall[];
  /** Lists one more tool from now on (the server changed its tools). */
  addTool(name: string): void;
  close(): Promise<void>;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

interface Hooks {
  /** Runs before each tool's work, so a call is seen even when the tool never ends. */
  onCall(tool: string, args: unknown): void;
  /** What `die` does: end the process (stdio) or drop the connection (HTTP). */
  die(): void;
  extraTool?: string;
}

const READ_ONLY = { readOnlyHint: true };
const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });

/** The fixture's tools; one server per stdio process or per HTTP request. */
function buildFixtureServer(hooks: Hooks): McpServer {
  const server = new McpServer({ name: 'fixture', version: '1.0.0' });
  const tool = <S extends z.ZodRawShape>(
    name: string,
    description: string,
    inputSchema: S,
    run: (args: z.infer<z.ZodObject<S>>, extra: Extra) => CallToolResult | Promise<CallToolResult>,
    annotations: Record<string, boolean> = READ_ONLY,
  ) =>
    server.registerTool(name, { description, inputSchema, annotations }, ((
      args: z.infer<z.ZodObject<S>>,
      extra: Extra,
    ) => {
      hooks.onCall(name, args);
      return run(args, extra);
    }) as never);

  tool('echo', 'Repeats the text', { text: z.string() }, (a) => text(`echo: ${a.text}`));
  tool(
    'add_note',
    'Adds a note (changes the world)',
    { text: z.string() },
    (a) => text(`noted: ${a.text}`),
    { destructiveHint: true, readOnlyHint: false },
  );
  tool('slow', 'Waits ms milliseconds', { ms: z.number() }, async (a, extra) => {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, a.ms);
      extra.signal.addEventListener('abort', () => (clearTimeout(timer), resolve(null)));
    });
    return text(`slept ${a.ms}`);
  });
  // Never answers, but lets go when the call is cancelled or the server closes (no leak).
  tool('hang', 'Never answers', {}, (_a, extra) => {
    return new Promise<CallToolResult>((_resolve, reject) => {
      if (extra.signal.aborted) reject(new Error('cancelled'));
      extra.signal.addEventListener('abort', () => reject(new Error('cancelled')));
    });
  });
  tool('die', 'Kills the server or its connection', {}, () => {
    hooks.die();
    return new Promise<CallToolResult>(() => {});
  });
  tool('big', 'Answers bytes characters', { bytes: z.number() }, (a) => text('x'.repeat(a.bytes)));
  tool('fail', 'Fails as a tool result', {}, () => ({
    ...text('the fixture failed on purpose'),
    isError: true,
  }));
  if (hooks.extraTool) tool(hooks.extraTool, 'A tool added later', {}, () => text('extra'));
  return server;
}

function refuse(res: ServerResponse, status: number, message: string, code = -32000): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

/** Headers a test may assert on: `authorization` and any `x-*`. */
function recordedHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined && (k === 'authorization' || k.startsWith('x-'))) {
      out[k] = Array.isArray(v) ? v.join(', ') : v;
    }
  }
  return out;
}

/**
 * A stateless Streamable HTTP MCP server on loopback (POST /mcp, JSON responses; with `sse`,
 * an event stream per request, the SDK's default). With `token`, requests without
 * `Authorization: Bearer <token>` get 401.
 */
export async function startMcpHttpFixture(
  opts: { token?: string; extraTool?: string; sse?: boolean } = {},
): Promise<McpHttpFixture> {
  const calls: FixtureCall[] = [];
  const http = createServer(async (req, res) => {
    if (req.url?.split('?')[0] !== '/mcp') return refuse(res, 404, 'Not found.');
    if (req.method !== 'POST') return refuse(res, 405, 'Method not allowed.');
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) {
      res.setHeader('www-authenticate', 'Bearer');
      return refuse(res, 401, 'Unauthorized.');
    }
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // the client reset the connection mid-body ('aborted'): nobody to answer
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return refuse(res, 400, 'Parse error.', -32700);
    }
    const headers = recordedHeaders(req);
    const server = buildFixtureServer({
      onCall: (tool, args) => calls.push({ tool, args, headers }),
      die: () => res.socket?.destroy(),
      extraTool: opts.extraTool,
    });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: !opts.sse,
    });
    // Closing the server aborts its handlers' signals: a `hang` ends when its socket does.
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
    } catch (err) {
      if (!res.headersSent) refuse(res, 500, String(err), -32603);
    }
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    calls,
    addTool: (name) => {
      opts.extraTool = name;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // A `hang` call holds its connection open: drop them all so close() resolves.
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/**
 * Stdio mode: `node --import tsx test/utils/mcp-fixture-server.ts --stdio`; with
 * `--start-delay=MS` it answers only after MS (a server that starts slowly).
 */
async function serveStdio(): Promise<void> {
  const delay = Number(
    process.argv.find((a) => a.startsWith('--start-delay='))?.split('=')[1] ?? 0,
  );
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  const log = process.env.MCP_FIXTURE_LOG;
  const server = buildFixtureServer({
    // Synchronous, so the line is on disk even when the tool then kills the process.
    onCall: (tool, args) => {
      if (log) appendFileSync(log, JSON.stringify({ tool, args }) + '\n');
    },
    die: () => process.exit(1),
    extraTool: process.env.MCP_FIXTURE_EXTRA_TOOL || undefined,
  });
  await server.connect(new StdioServerTransport());
}

const entry = process.argv[1];
if (process.argv.includes('--stdio') && entry && import.meta.url === pathToFileURL(entry).href) {
  await serveStdio();
}
