import { randomUUID } from 'node:crypto';
import type { Graph } from '../../graph/graph.js';

/**
 * A tenant's skill and spawned agent for the tenancy matrix (issue 12), written as the passes
 * would: a CANDIDATE SKILL of the tenant's family whose step title holds `label`, DERIVED_FROM
 * the root task, and the operator marked spawned by the chief with a reason that holds `label`.
 * Returns the skill's id.
 */
export async function seedSkillAndSpawn(
  graph: Graph,
  tenantId: string,
  label: string,
  rootId: string,
  operatorId: string,
  chiefId: string,
): Promise<string> {
  const id = randomUUID();
  const steps = JSON.stringify([
    {
      key: 'a',
      title: `${label} skill step`,
      capability: 'research',
      instructions: `${label} skill step`,
      dependsOn: [],
      condition: null,
    },
  ]);
  await graph.write((tx) =>
    tx.run({
      cypher: `
        MATCH (root:Task {tenantId: $tenantId, id: $rootId}),
              (a:Agent {tenantId: $tenantId, id: $operatorId}),
              (cos:Agent {tenantId: $tenantId, id: $chiefId})
        CREATE (k:Knowledge {id: $id, tenantId: $tenantId, kind: 'SKILL', status: 'CANDIDATE',
                family: 'tenancy-family', steps: $steps, capabilities: ['research'],
                content: $content, strength: 1, confidence: 0.5, tags: ['skill'],
                createdAt: datetime(), updatedAt: datetime()})-[:DERIVED_FROM]->(root)
        SET a.spawned = true
        CREATE (a)-[:SPAWNED_BY {reason: $reason, at: datetime()}]->(cos)`,
      params: {
        tenantId,
        rootId,
        operatorId,
        chiefId,
        id,
        steps,
        content: `Workflow for "tenancy-family" tasks: 1. ${label} skill step [research]`,
        reason: `${label} spawn reason`,
      },
    }),
  );
  return id;
}
