import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { DynamicStructuredTool } from '@langchain/core/tools';
import { loadMcpTools } from '@langchain/mcp-adapters';
import { grantsForAgent } from '../../graph/tool-server.repository.js';
import { isDestructive, listedTools, type ToolServer } from '../domain/tool-server.js';
import type { StepContext } from '../engine/executor.js';
import type { AgentRuntime } from '../agents/runtime.js';

/** Which server and tool a model-facing name stands for. */
export interface McpToolRef {
  server: ToolServer;
  tool: string;
}

export interface StepMcpTools {
  tools: DynamicStructuredTool[];
  /** Model-facing names of tools that may change the world (held for approval). */
  destructive: Set<string>;
  byName: Map<string, McpToolRef>;
}

export const NO_MCP_TOOLS: StepMcpTools = { tools: [], destructive: new Set(), byName: new Map() };

/**
 * The MCP tools a step's agent may use: its grants (directly or through a capability), listed
 * from each server's snapshot in the graph, so a step sees what GraphQL shows and a resumed
 * loop sees what it saw before. A server is connected only when one of its tools is called.
 */
export async function mcpToolsFor(rt: AgentRuntime, step: StepContext): Promise<StepMcpTools> {
  const pool = rt.mcp;
  if (!pool) return NO_MCP_TOOLS;
  const grants = await rt.uow.read((tx) => grantsForAgent(tx, step.task.tenantId, step.agent.id));
  if (grants.length === 0) return NO_MCP_TOOLS;
  const out: StepMcpTools = { tools: [], destructive: new Set(), byName: new Map() };
  for (const { server, tools: granted } of grants) {
    // A tool no model can call (listedTools says why, as GraphQL shows) is never offered.
    const listed = listedTools(server)
      .filter((t) => t.unusable === null && (granted === null || granted.includes(t.tool.name)))
      .map((t) => t.tool);
    if (listed.length === 0) continue;
    // Duck-typed as the adapter needs: tools from the snapshot, calls through the pool. The
    // call's timeout starts once the session is open: a stdio server starting cold (its own
    // connect timeout) does not eat the time of the call.
    const timeout = Math.min(pool.cfg.callTimeoutMs, server.timeoutMs);
    const lazy = {
      listTools: async () => ({ tools: listed }),
      callTool: async (...[params, schema, options]: Parameters<Client['callTool']>) =>
        pool.callTool(server, params, schema, { ...options, timeout }),
      readResource: async (...args: Parameters<Client['readResource']>) =>
        (await pool.client(server)).readResource(...args),
    } as unknown as Client;
    const made = await loadMcpTools(server.name, lazy, {
      prefixToolNameWithServerName: true,
      throwOnLoadError: false,
    });
    for (const t of made) {
      const tool = t.name.slice(server.name.length + 2);
      out.tools.push(t);
      out.byName.set(t.name, { server, tool });
      if (isDestructive(listed.find((l) => l.name === tool)?.annotations))
        out.destructive.add(t.name);
    }
  }
  return out;
}
