import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolRequest,
  type CallToolResult,
  type ListToolsResult,
} from '@modelcontextprotocol/sdk/types.js';

export interface PagingServer {
  url: string;
  /** tools/list requests answered so far. */
  pages(): number;
  close(): Promise<void>;
}

/**
 * A stateless MCP server on loopback that answers its `n`th tools/list (from 1) with
 * `page(n)`, after `pageDelayMs`. Nothing checks what it lists, as nothing checks an outside
 * server's listing: names no model can call, the same name twice. With `call`, it answers
 * tools/call with it (a low-level SDK server: what `call` throws is a JSON-RPC error).
 */
export async function startListingServer(
  page: (n: number) => ListToolsResult,
  pageDelayMs = 0,
  call?: (req: CallToolRequest) => CallToolResult | Promise<CallToolResult>,
): Promise<PagingServer> {
  let pages = 0;
  const http = createServer(async (req, res) => {
    if (req.method !== 'POST') return void res.writeHead(405).end();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const server = new Server(
      { name: 'listing', version: '1.0.0' },
      { capabilities: { tools: {} } },
    );
    server.setRequestHandler(ListToolsRequestSchema, async () => {
      if (pageDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, pageDelayMs));
      pages += 1;
      return page(pages);
    });
    if (call) server.setRequestHandler(CallToolRequestSchema, (req) => call(req));
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, JSON.parse(Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    pages: () => pages,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/**
 * A server whose tools/list never ends: every page lists `toolsPerPage` tools and gives a next
 * cursor (a broken or hostile server), after `pageDelayMs` (a slow one).
 */
export const startEndlessListing = (pageDelayMs = 0, toolsPerPage = 1): Promise<PagingServer> =>
  startListingServer(
    (n) => ({
      tools: Array.from({ length: toolsPerPage }, (_, i) => ({
        name: `t${n}_${i}`,
        inputSchema: { type: 'object' as const },
      })),
      nextCursor: 'more',
    }),
    pageDelayMs,
  );

/** A server of one read-only tool, `lookup`, whose every call fails with `message` (-32602). */
export function startFailingLookupServer(message: string): Promise<PagingServer> {
  const tools = [
    {
      name: 'lookup',
      inputSchema: { type: 'object' as const },
      annotations: { readOnlyHint: true },
    },
  ];
  return startListingServer(
    () => ({ tools }),
    0,
    () => {
      throw new McpError(ErrorCode.InvalidParams, message);
    },
  );
}
