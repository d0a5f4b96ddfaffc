import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { TestServer } from './server.js';

/** An MCP client of the SDK over streamable HTTP to the test server's /mcp, with an API key. */
export async function connect(server: TestServer, key: string): Promise<Client> {
  const client = new Client({ name: 'mcp-test', version: '1.0.0' });
  const url = new URL(server.url.replace(/\/graphql$/, '/mcp'));
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  return client;
}

/** A tool result's text. */
export const text = (r: CallToolResult) =>
  r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

/** Calls a tool, with a request timeout when given. */
export const call = async (
  client: Client,
  name: string,
  args: Record<string, unknown>,
  timeout?: number,
) => (await client.callTool({ name, arguments: args }, undefined, { timeout })) as CallToolResult;
