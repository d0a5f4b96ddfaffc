import neo4j from 'neo4j-driver';
import type { Skill, SkillStatus, SkillStep } from '../src/domain/skill.js';
import type { Tx } from './cypher.js';
import { byTurns, FINISHED, IN_SCOPE, scopedDue, type TenantScope } from './engine-scope.js';
import { effectiveEvaluation } from './evaluation.repository.js';
import { iso } from './mappers.js';
import type { NodeLike } from './page.js';

/*
 * Skills (issue 12): `(:Knowledge {kind: 'SKILL', status, family, steps, shape, strength})`
 * DERIVED_FROM the successful root tasks (and their runs) whose plans it was drawn from.
 */

/** A successful multi-step plan not yet drawn into a skill. */
export interface SkillSource {
  tenantId: string;
  rootId: string;
  family: string;
  steps: SkillStep[];
}

/** What `skillSources` found, and the due roots it looked at in full (for `settleSkillDue`). */
export interface SkillSources {
  sources: SkillSource[];
  settled: DueRoot[];
}

/** A root due for the skills pass, with the `skillDueAt` it was read with. */
export interface DueRoot {
  id: string;
  dueAt: unknown;
  tenantId: string;
  family: string | null;
}

/**
 * Root tasks (no parent) COMPLETED with an effective verdict PASS, planned in at least two steps,
 * whose family has at least `minFamilyTasks` finished roots, and that no skill is derived from
 * yet. Looked for only in the families of roots due (`skillDueAt`, set when a finished root is
 * evaluated: writeEvaluation), `limit` of them, each tenant's oldest first by turns between
 * tenants (engine-scope.ts: byTurns): every root of such a family is looked at, as the family
 * may just have reached the minimum. Reading every COMPLETED task of every tenant each tick
 * grew with the history. At most `limit` sources a family; `settled` are the
 * due roots of the families looked at in full. A step's dependencies are its own plan's steps:
 * not a person's sign-off nor a step of another workflow it was made to wait on.
 */
export async function skillSources(
  tx: Tx,
  tenants: TenantScope,
  minFamilyTasks: number,
  limit: number,
): Promise<SkillSources> {
  const rows = await tx.run<{
    due: DueRoot[];
    sources: SkillSource[];
    full: boolean;
  }>({
    cypher: `
      ${scopedDue('d', 'Task', 'skillDueAt', tenants)}
      ${byTurns('d', 'd.skillDueAt, d.id', '$limit')}
      WITH d.tenantId AS tenantId, d.family AS family, collect({id: d.id, dueAt: d.skillDueAt, tenantId: d.tenantId, family: d.family}) AS due
      CALL (tenantId, family) {
        WITH tenantId, family WHERE family IS NOT NULL
          AND COUNT { (o:Task {tenantId: tenantId, family: family})
                      WHERE o.status IN ${FINISHED} AND NOT EXISTS { (o)-[:SUBTASK_OF]->() } }
              >= $minFamilyTasks
        MATCH (root:Task) USING INDEX SEEK root:Task(tenantId, family)
        WHERE root.tenantId = tenantId AND root.family = family AND root.status = 'COMPLETED'
          AND NOT EXISTS { (root)-[:SUBTASK_OF]->() }
          AND NOT EXISTS { (:Knowledge {kind: 'SKILL'})-[:DERIVED_FROM]->(root) }
          AND COUNT { (s:Task)-[:SUBTASK_OF]->(root) WHERE s.key <> 'synthesis' } >= 2
        CALL (root) { ${effectiveEvaluation('root')} }
        WITH root, verdict WHERE verdict = 'PASS'
        WITH root ORDER BY root.updatedAt, root.id LIMIT $limit + 1
        RETURN collect({tenantId: root.tenantId, rootId: root.id, family: root.family,
          steps: [(s:Task)-[:SUBTASK_OF]->(root) WHERE s.key <> 'synthesis' | {
            key: s.key, title: s.title, instructions: coalesce(s.description, s.title),
            condition: s.condition,
            capability: head([(s)-[:REQUIRES]->(c:Capability) | c.name]),
            dependsOn: [(s)-[:DEPENDS_ON]->(d:Task)-[:SUBTASK_OF]->(root)
                        WHERE d.key <> 'synthesis' | d.key]
          }]}) AS found
      }
      RETURN due, found[0..$limit] AS sources, size(found) <= $limit AS full`,
    params: { tenants, minFamilyTasks: neo4j.int(minFamilyTasks), limit: neo4j.int(limit) },
  });
  return {
    sources: rows.flatMap((r) => r.sources),
    settled: rows.filter((r) => r.full).flatMap((r) => r.due),
  };
}

/**
 * Clears `skillDueAt` of roots `skillSources` settled, unless it was set again since (a newer
 * evaluation): that root is looked at again. Compared under the root's lock (id order), so an
 * evaluation committing meanwhile is seen.
 */
export async function settleSkillDue(tx: Tx, settled: DueRoot[]): Promise<void> {
  if (settled.length === 0) return;
  await tx.run({
    cypher: `
      UNWIND $settled AS x
      WITH x ORDER BY x.id
      MATCH (t:Task {id: x.id}) USING INDEX SEEK t:Task(id)
      SET t:Task
      WITH t, x WHERE t.skillDueAt = x.dueAt
      REMOVE t.skillDueAt`,
    params: { settled: settled.map(({ id, dueAt }) => ({ id, dueAt })) },
  });
}

/** What recordSkill did: made a new skill, strengthened one, or nothing (already derived). */
export type SkillWrite = { skill: Skill; created: boolean } | null;

/**
 * Draws a root task's plan into the skill `id` (one per family and step shape): a new CANDIDATE
 * skill, or one more successful plan for the existing one (strength + 1). DERIVED_FROM the root
 * and its runs. Conditional under the skill's lock: a root is counted once, whatever process
 * gets there first; null when it already was (or the root is not the tenant's).
 */
export async function recordSkill(
  tx: Tx,
  s: {
    id: string;
    tenantId: string;
    rootId: string;
    family: string;
    shape: string;
    /** JSON of the steps. */
    steps: string;
    capabilities: string[];
    content: string;
  },
): Promise<SkillWrite> {
  const [row] = await tx.run<{ k: NodeLike; created: boolean }>({
    cypher: `
      MATCH (root:Task {id: $rootId}) USING INDEX SEEK root:Task(id) WHERE root.tenantId = $tenantId
      MERGE (k:Knowledge {id: $id})
        ON CREATE SET k.tenantId = $tenantId, k.kind = 'SKILL', k.status = 'CANDIDATE',
                      k.family = $family, k.shape = $shape, k.steps = $steps, k.content = $content,
                      k.capabilities = $capabilities,
                      k.confidence = 0.5, k.tags = ['skill'], k.strength = 0,
                      k.createdAt = datetime()
      // Takes the skill's write lock before the check below reads its links.
      SET k.updatedAt = datetime()
      WITH root, k, k.strength = 0 AS created
      WHERE k.tenantId = $tenantId AND NOT EXISTS { (k)-[:DERIVED_FROM]->(root) }
      SET k.strength = k.strength + 1
      MERGE (k)-[:DERIVED_FROM]->(root)
      WITH root, k, created
      CALL (root, k) {
        MATCH (r:Run)-[:OF]->(root) WHERE r.tenantId = $tenantId
        MERGE (k)-[:DERIVED_FROM]->(r)
      }
      RETURN k, created`,
    params: s,
  });
  return row ? { skill: toSkill(row.k), created: row.created } : null;
}

/**
 * The skill to offer when planning the task: of the task's family, ACTIVE before CANDIDATE,
 * then the strongest; RETIRED never. Null when the task has no family or it has no skill.
 */
export async function bestSkillForTask(
  tx: Tx,
  tenantId: string,
  taskId: string,
): Promise<Skill | null> {
  const [row] = await tx.run<{ k: NodeLike }>({
    cypher: `
      MATCH (t:Task {id: $taskId})
      USING INDEX SEEK t:Task(id) WHERE t.tenantId = $tenantId AND t.family IS NOT NULL
      MATCH (k:Knowledge {tenantId: $tenantId, kind: 'SKILL', family: t.family})
      WHERE k.status IN ['ACTIVE', 'CANDIDATE']
      RETURN k ORDER BY CASE k.status WHEN 'ACTIVE' THEN 0 ELSE 1 END, k.strength DESC,
                        k.createdAt, k.id
      LIMIT 1`,
    params: { tenantId, taskId },
  });
  return row ? toSkill(row.k) : null;
}

/** The tenant's skills (of one family when given): ACTIVE first, then the strongest. */
export async function listSkills(
  tx: Tx,
  tenantId: string,
  filter: { family?: string | null; status?: SkillStatus | null; capability?: string | null },
  limit: number,
): Promise<Skill[]> {
  const rows = await tx.run<{ k: NodeLike }>({
    cypher: `
      MATCH (k:Knowledge {tenantId: $tenantId, kind: 'SKILL'})
      WHERE ($family IS NULL OR k.family = $family) AND ($status IS NULL OR k.status = $status)
        AND ($capability IS NULL OR $capability IN k.capabilities)
      RETURN k ORDER BY CASE k.status WHEN 'ACTIVE' THEN 0 WHEN 'CANDIDATE' THEN 1 ELSE 2 END,
                        k.strength DESC, k.createdAt, k.id
      LIMIT $limit`,
    params: {
      tenantId,
      family: filter.family ?? null,
      status: filter.status ?? null,
      capability: filter.capability ?? null,
      limit: neo4j.int(limit),
    },
  });
  return rows.map((r) => toSkill(r.k));
}

/** The one place a SKILL node becomes a Skill. */
export function toSkill({ properties: p }: NodeLike): Skill {
  let steps: SkillStep[] = [];
  try {
    steps = JSON.parse(String(p.steps ?? '[]')) as SkillStep[];
  } catch {
    steps = []; // written by hand and broken: shown without steps rather than failing a page
  }
  return {
    id: String(p.id),
    tenantId: String(p.tenantId),
    family: String(p.family ?? ''),
    status: (p.status as SkillStatus | undefined) ?? 'CANDIDATE',
    strength: Number(p.strength ?? 0),
    steps,
    content: String(p.content ?? ''),
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

/** A skill's two arms: roots of its family planned with it offered, and without. */
export interface SkillArms {
  applied: number;
  appliedSuccesses: number;
  notApplied: number;
  notAppliedSuccesses: number;
}

/**
 * The evidence on a skill: the family's finished roots since the skill was made (the roots it
 * was first drawn from are older), each counted by its effective verdict (PASS or not; roots
 * with no evaluation are left out), split by whether the skill was APPLIED_IN one of its runs
 * (its planning). A later root that strengthened it still counts: only PASSes are drawn, so
 * leaving those out would keep each arm's failures alone.
 */
export async function skillArms(tx: Tx, tenantId: string, id: string): Promise<SkillArms> {
  const [row] = await tx.run<SkillArms & Record<string, unknown>>({
    cypher: `
      MATCH (k:Knowledge {id: $id})
      USING INDEX SEEK k:Knowledge(id) WHERE k.tenantId = $tenantId AND k.kind = 'SKILL'
      OPTIONAL MATCH (root:Task {tenantId: $tenantId, family: k.family})
      WHERE root.status IN ${FINISHED} AND root.createdAt >= k.createdAt
        AND NOT EXISTS { (root)-[:SUBTASK_OF]->() }
      CALL (root) { ${effectiveEvaluation('root')} }
      WITH k, verdict, EXISTS { (k)-[:APPLIED_IN]->(:Run)-[:OF]->(root) } AS applied
      WHERE verdict IS NOT NULL
      RETURN count(CASE WHEN applied THEN 1 END) AS applied,
             count(CASE WHEN applied AND verdict = 'PASS' THEN 1 END) AS appliedSuccesses,
             count(CASE WHEN NOT applied THEN 1 END) AS notApplied,
             count(CASE WHEN NOT applied AND verdict = 'PASS' THEN 1 END) AS notAppliedSuccesses`,
    params: { tenantId, id },
  });
  return row ?? { applied: 0, appliedSuccesses: 0, notApplied: 0, notAppliedSuccesses: 0 };
}

/**
 * CANDIDATE and ACTIVE skills for the lifecycle, least recently reviewed first, at most
 * `limit`; each is stamped `reviewedAt` so the next tick takes the next ones. By hint, as
 * `lessonsToReview`.
 */
export async function skillsToReview(
  tx: Tx,
  tenants: TenantScope,
  limit: number,
): Promise<Skill[]> {
  const rows = await tx.run<{ k: NodeLike }>({
    cypher: `
      MATCH (k:Knowledge) USING INDEX SEEK k:Knowledge(kind, status)
      WHERE k.kind = 'SKILL' AND k.status IN ['CANDIDATE', 'ACTIVE'] AND ${IN_SCOPE('k')}
      WITH k ORDER BY k.reviewedAt IS NOT NULL, k.reviewedAt, k.id LIMIT $limit
      SET k.reviewedAt = datetime()
      RETURN k`,
    params: { tenants, limit: neo4j.int(limit) },
  });
  return rows.map((r) => toSkill(r.k));
}

/**
 * Moves a skill to `to` only if it is still in one of `from` (two processes cannot both move
 * it), keeping its last measured delta; null when it was not.
 */
export async function moveSkill(
  tx: Tx,
  tenantId: string,
  id: string,
  from: readonly SkillStatus[],
  to: SkillStatus,
): Promise<{ skill: Skill; from: SkillStatus } | null> {
  const [row] = await tx.run<{ k: NodeLike; was: SkillStatus }>({
    cypher: `
      MATCH (k:Knowledge {id: $id})
      USING INDEX SEEK k:Knowledge(id) WHERE k.tenantId = $tenantId AND k.kind = 'SKILL'
      SET k.lockedAt = datetime()
      WITH k, k.status AS was WHERE was IN $from
      SET k.status = $to, k.updatedAt = datetime()
      RETURN k, was`,
    params: { tenantId, id, from, to },
  });
  return row ? { skill: toSkill(row.k), from: row.was } : null;
}

/** Keeps the efficacy's delta last measured (null while an arm is empty). */
export async function storeSkillDelta(
  tx: Tx,
  tenantId: string,
  id: string,
  delta: number | null,
): Promise<void> {
  await tx.run({
    cypher: `MATCH (k:Knowledge {id: $id})
      USING INDEX SEEK k:Knowledge(id) WHERE k.tenantId = $tenantId AND k.kind = 'SKILL'
             SET k.efficacyDelta = $delta`,
    params: { tenantId, id, delta },
  });
}
