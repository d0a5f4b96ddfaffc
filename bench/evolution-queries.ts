import type { Graph } from '../graph/graph.js';

/*
 * The benchmark's own reads of what learning left in the graph, all scoped by its tenant. They
 * read the contract's model (docs: evolution-contract): Knowledge {kind LESSON|SKILL, status},
 * AgentVersion {status, origin}, (:Transition {from, to})-[:OF]->(subject), Agent.spawned,
 * (:Knowledge)-[:APPLIED_IN]->(:Run). Labels or properties that do not exist yet count 0.
 */

export type Lifecycle = {
  /** Nodes that exist (lessons, skills: all; versions: made by the platform). */
  created: number;
  /** Moved to ACTIVE (lessons, skills) or LIVE (versions) at least once. */
  promoted: number;
  /** Moved to RETIRED (or ROLLED_BACK for versions) at least once. */
  retired: number;
  /** Now ACTIVE / LIVE. */
  active: number;
  /** Now CANDIDATE. */
  candidate: number;
};

export interface EvolutionCounts {
  lessons: Lifecycle;
  skills: Lifecycle;
  versions: Lifecycle;
  /** Agents the Chief of Staff spawned. */
  spawned: number;
  /** APPLIED_IN edges from lessons and skills to runs. */
  applied: number;
  /** Evaluations by source, e.g. { OBJECTIVE: 40, JUDGE: 80, PERSON: 16 }. */
  evaluations: Record<string, number>;
}

const KNOWLEDGE = `
  MATCH (k:Knowledge {tenantId: $tenantId, kind: $kind})
  OPTIONAL MATCH (t:Transition)-[:OF]->(k)
  WITH k, collect(t.to) AS tos
  RETURN count(k) AS created,
         count(CASE WHEN 'ACTIVE' IN tos OR k.status = 'ACTIVE' THEN 1 END) AS promoted,
         count(CASE WHEN 'RETIRED' IN tos OR k.status = 'RETIRED' THEN 1 END) AS retired,
         count(CASE WHEN k.status = 'ACTIVE' THEN 1 END) AS active,
         count(CASE WHEN k.status = 'CANDIDATE' THEN 1 END) AS candidate`;

const VERSIONS = `
  MATCH (v:AgentVersion {tenantId: $tenantId})
  WHERE v.origin = 'PLATFORM'
  OPTIONAL MATCH (t:Transition)-[:OF]->(v)
  WITH v, collect(t.to) AS tos
  RETURN count(v) AS created,
         count(CASE WHEN 'LIVE' IN tos OR v.status = 'LIVE' THEN 1 END) AS promoted,
         count(CASE WHEN any(s IN tos WHERE s IN ['RETIRED', 'ROLLED_BACK'])
                     OR v.status IN ['RETIRED', 'ROLLED_BACK'] THEN 1 END) AS retired,
         count(CASE WHEN v.status = 'LIVE' THEN 1 END) AS active,
         count(CASE WHEN v.status = 'CANDIDATE' THEN 1 END) AS candidate`;

export async function evolutionCounts(graph: Graph, tenantId: string): Promise<EvolutionCounts> {
  return graph.read(async (tx) => {
    const lifecycle = async (cypher: string, kind?: string) => {
      const [row] = await tx.run<Lifecycle>({ cypher, params: { tenantId, kind: kind ?? null } });
      return row ?? { created: 0, promoted: 0, retired: 0, active: 0, candidate: 0 };
    };
    const lessons = await lifecycle(KNOWLEDGE, 'LESSON');
    const skills = await lifecycle(KNOWLEDGE, 'SKILL');
    const versions = await lifecycle(VERSIONS);
    const [other] = await tx.run<{ spawned: number; applied: number }>({
      cypher: `
        CALL { MATCH (a:Agent {tenantId: $tenantId}) WHERE a.spawned = true RETURN count(a) AS spawned }
        CALL { MATCH (k:Knowledge {tenantId: $tenantId})-[e:APPLIED_IN]->(:Run)
               WHERE k.kind IN ['LESSON', 'SKILL'] RETURN count(e) AS applied }
        RETURN spawned, applied`,
      params: { tenantId },
    });
    const sources = await tx.run<{ source: string; n: number }>({
      cypher: `
        MATCH (e:Evaluation {tenantId: $tenantId})
        RETURN e.source AS source, count(e) AS n ORDER BY source`,
      params: { tenantId },
    });
    return {
      lessons,
      skills,
      versions,
      spawned: other?.spawned ?? 0,
      applied: other?.applied ?? 0,
      evaluations: Object.fromEntries(sources.map((s) => [s.source, s.n])),
    };
  });
}

export type LessonRow = {
  status: string;
  family: string | null;
  capability: string | null;
  content: string;
  /** Runs whose prompts carried it. */
  applied: number;
};

/** The lessons of the tenant now, for the output: status, scope, content (first 100). */
export async function lessonList(graph: Graph, tenantId: string): Promise<LessonRow[]> {
  return graph.read((tx) =>
    tx.run<LessonRow>({
      cypher: `
        MATCH (k:Knowledge {tenantId: $tenantId, kind: 'LESSON'})
        RETURN coalesce(k.status, '?') AS status, k.family AS family, k.capability AS capability,
               left(coalesce(k.content, ''), 100) AS content,
               COUNT { (k)-[:APPLIED_IN]->(:Run) } AS applied
        ORDER BY status, family, capability LIMIT 50`,
      params: { tenantId },
    }),
  );
}

/** Deletes one tenant's nodes (and the Tenant node). Refuses an empty id: never unscoped. */
export async function deleteBenchTenant(graph: Graph, tenantId: string): Promise<number> {
  if (!tenantId) throw new Error('deleteBenchTenant needs a tenant id');
  let total = 0;
  // In batches: a tenant of a long run holds tens of thousands of nodes.
  for (;;) {
    const [row] = await graph.write((tx) =>
      tx.run<{ n: number }>({
        cypher: `
          MATCH (n {tenantId: $tenantId}) WITH n LIMIT 5000
          DETACH DELETE n RETURN count(*) AS n`,
        params: { tenantId },
      }),
    );
    total += row?.n ?? 0;
    if (!row || row.n === 0) break;
  }
  await graph.write((tx) =>
    tx.run({ cypher: 'MATCH (t:Tenant {id: $tenantId}) DETACH DELETE t', params: { tenantId } }),
  );
  return total;
}
