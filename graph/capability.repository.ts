import type { AgentCapability } from '../src/domain/agent.js';
import type { Tx } from './cypher.js';
import { toCapability } from './mappers.js';

/** Replaces the agent's capabilities; the statistics of capabilities it keeps are kept. */
export async function replaceCapabilities(
  tx: Tx,
  tenantId: string,
  agentId: string,
  capabilities: { name: string; proficiency: number }[],
): Promise<void> {
  await tx.run({
    cypher: `
      MATCH (n:Agent {tenantId: $tenantId, id: $agentId}) USING INDEX SEEK n:Agent(id)
      OPTIONAL MATCH (n)-[old:HAS_CAPABILITY]->(c:Capability)
      WHERE NOT c.name IN $names
      DELETE old
      WITH DISTINCT n
      UNWIND $capabilities AS cap
      MERGE (c:Capability {tenantId: $tenantId, name: cap.name})
        ON CREATE SET c.id = randomUUID(), c.createdAt = datetime(), c.updatedAt = datetime()
      MERGE (n)-[r:HAS_CAPABILITY]->(c)
        ON CREATE SET r.runs = 0, r.successes = 0, r.avgLatencyMs = 0.0, r.avgCostUsd = 0.0
      SET r.proficiency = cap.proficiency`,
    params: { tenantId, agentId, capabilities, names: capabilities.map((c) => c.name) },
  });
}

/** What toCapability reads of a HAS_CAPABILITY relationship. */
export const CAPABILITY_COUNTERS = [
  'proficiency',
  'runs',
  'successes',
  'avgLatencyMs',
  'avgCostUsd',
] as const;
export type CapabilityCounter = (typeof CAPABILITY_COUNTERS)[number];

/**
 * Agent `a`'s capabilities by name, each [name, ...the `counters`]: a list, which the driver
 * decodes several times faster than a map (projections.ts). A read of fewer counters is for
 * an answer that selects no more (the others take toCapability's defaults).
 */
export const capabilitiesOf = (a: string, counters: readonly CapabilityCounter[]) => `COLLECT {
        MATCH (${a})-[r:HAS_CAPABILITY]->(c:Capability)
        WITH c, r ORDER BY c.name
        RETURN [c.name${counters.map((k) => `, r.${k}`).join('')}]
      }`;
export type CapabilityRow = [string, ...unknown[]];

export const readCapability = (
  agentId: string,
  [name, ...values]: CapabilityRow,
  counters: readonly CapabilityCounter[],
) => toCapability(agentId, name, Object.fromEntries(counters.map((k, i) => [k, values[i]])));

export async function capabilitiesByAgentIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
  counters: readonly CapabilityCounter[] = CAPABILITY_COUNTERS,
): Promise<AgentCapability[]> {
  const rows = await tx.run<{ agentId: string; capabilities: CapabilityRow[] }>({
    cypher: `
      UNWIND $ids AS agentId
      MATCH (owner:Agent {tenantId: $tenantId, id: agentId}) USING INDEX SEEK owner:Agent(id)
      RETURN agentId, ${capabilitiesOf('owner', counters)} AS capabilities`,
    params: { tenantId, ids },
  });
  return rows.flatMap((r) => r.capabilities.map((c) => readCapability(r.agentId, c, counters)));
}
