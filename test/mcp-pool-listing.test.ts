import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ToolServerTransport, type ToolServer } from '../src/domain/tool-server.js';
import { DEFAULT_MCP_CLIENT } from '../src/mcp-client/config.js';
import { McpToolPool } from '../src/mcp-client/pool.js';
import { startEndlessListing, type PagingServer } from './utils/mcp-paging-server.js';

// Listing a server's tools is bounded as a whole, not page by page: a server whose cursor never
// ends once kept a loop of requests (and a growing list) running after the request gave up, and
// one that answered at once kept the API's event loop busy until then.

const server = (url: string): ToolServer => ({
  id: 'endless',
  tenantId: 't',
  name: 'endless',
  transport: ToolServerTransport.HTTP,
  url,
  command: null,
  args: [],
  enabled: true,
  timeoutMs: 30_000,
  version: 1,
  headers: [],
  headersSealed: null,
  tools: [],
  toolsRefreshedAt: null,
  lastError: null,
  createdAt: '',
  updatedAt: '',
});

describe('listing the tools of a server whose pages never end', () => {
  let endless: PagingServer;
  let quick: PagingServer;
  const pool = new McpToolPool({ ...DEFAULT_MCP_CLIENT, connectTimeoutMs: 1_000 }, { debug() {} });
  beforeAll(async () => {
    endless = await startEndlessListing(20); // a slow server: 50 pages a second at most
    quick = await startEndlessListing();
  });
  afterAll(async () => {
    await pool.closeAll();
    await endless?.close();
    await quick?.close();
  });

  it('stops at 100 pages, saying so, when they come faster than the time allowed', async () => {
    await expect(pool.list(server(quick.url))).rejects.toThrow(
      'the server lists more than 100 pages; the platform takes at most 1000 tools in 100 pages from one server',
    );
    expect(quick.pages()).toBe(100);
    await sleep(300);
    expect(quick.pages()).toBe(100);
  });

  it('stops past 1000 tools, saying so', async () => {
    const large = await startEndlessListing(0, 600);
    try {
      await expect(pool.list(server(large.url))).rejects.toThrow(
        'the server lists more than 1000 tools; the platform takes at most 1000 tools in 100 pages from one server',
      );
      expect(large.pages()).toBe(2);
    } finally {
      await large.close();
    }
  });

  it('gives up after connectTimeoutMs in all, saying so, and asks for no more pages', async () => {
    const started = performance.now();
    await expect(pool.list(server(endless.url))).rejects.toThrow(
      /listing the tools took over 1000 ms \(MCP_CONNECT_TIMEOUT_MS\)/,
    );
    expect(performance.now() - started).toBeLessThan(5_000);
    const pages = endless.pages();
    await sleep(1_000);
    expect(endless.pages() - pages).toBeLessThanOrEqual(1); // one in flight at most
  });

  it('stops when the caller gives up first', async () => {
    const caller = new AbortController();
    const listing = pool.list(server(endless.url), caller.signal);
    await sleep(300);
    caller.abort(new Error('the request gave up'));
    await expect(listing).rejects.toThrow(/the request gave up/);
    const pages = endless.pages();
    await sleep(1_000);
    expect(endless.pages() - pages).toBeLessThanOrEqual(1);
  });
});
