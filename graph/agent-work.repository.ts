import { createHash } from 'node:crypto';
import type { Tx } from './cypher.js';
import { lockAndBump } from './locks.js';
import { cleanName } from '../src/domain/validate.js';

/**
 * What the agent chains write. Every write is a MERGE on an id derived from what it is about,
 * so a step that runs again (a retry, a worker that died) never duplicates a subtask, a
 * message or a piece of knowledge.
 */
export function stableId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  // Shaped like a UUID (version nibble 5, variant 8): ids elsewhere are UUIDs.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface PlannedStep {
  key: string;
  title: string;
  instructions: string;
  capability: string | null;
  dependsOn: string[];
  condition: string | null;
  /** What the step should produce (the plan's `output`): stored as Task.expectedOutput. */
  output?: string | null;
}

/**
 * Writes a plan under its task: the steps (orchestrated, PENDING) with SUBTASK_OF, DEPENDS_ON,
 * REQUIRES and DELEGATED_BY the Chief of Staff, plus a `synthesis` step assigned to the Chief
 * of Staff that waits for every other step. Returns the ids by key. A task submitted with
 * planApproval then waits (AWAITING_APPROVAL) for approvePlan: no step is promoted under a
 * parent that is not IN_PROGRESS, so none runs (issue 13).
 */
export async function writePlan(
  tx: Tx,
  tenantId: string,
  rootId: string,
  chiefId: string,
  steps: PlannedStep[],
): Promise<Record<string, string>> {
  // A plan written after a rejected one (rejectPlan) gets ids of its own round: the rejected
  // steps keep theirs, and a MERGE must not find them again.
  const [root] = await tx.run<{ round: number }>({
    cypher: `MATCH (root:Task {tenantId: $tenantId, id: $rootId})
      USING INDEX SEEK root:Task(id) RETURN coalesce(root.planRound, 0) AS round`,
    params: { tenantId, rootId },
  });
  const round = root?.round ?? 0;
  const idOf = (key: string) =>
    round === 0 ? stableId(rootId, 'step', key) : stableId(rootId, 'step', key, `round${round}`);
  const ids: Record<string, string> = {};
  for (const s of steps) ids[s.key] = idOf(s.key);
  ids.synthesis = idOf('synthesis');
  const rows = [
    ...steps.map((s) => ({
      ...s,
      id: ids[s.key]!,
      dependsOn: s.dependsOn.map((k) => ids[k]!),
      output: s.output?.trim() || null,
    })),
    {
      key: 'synthesis',
      id: ids.synthesis,
      title: 'Write the final answer',
      instructions: 'Synthesise the reports of the steps into the answer to the task.',
      capability: null,
      dependsOn: steps.map((s) => ids[s.key]!),
      condition: null,
      output: null,
    },
  ];
  await tx.run({
    cypher: `
      MATCH (root:Task {tenantId: $tenantId, id: $rootId}), (cos:Agent {tenantId: $tenantId, id: $chiefId})
      USING INDEX SEEK root:Task(id) USING INDEX SEEK cos:Agent(id)
      UNWIND $rows AS s
      MERGE (t:Task {id: s.id})
        ON CREATE SET t.tenantId = $tenantId, t.key = s.key, t.title = s.title,
                      t.description = s.instructions, t.priority = root.priority,
                      t.status = 'PENDING', t.attempts = 0, t.maxAttempts = 3,
                      t.condition = s.condition, t.requiresApproval = false,
                      t.failurePolicy = 'FAIL_FAST', t.orchestrated = true,
                      t.expectedOutput = s.output,
                      t.createdBy = cos.name, t.version = 1, t.family = root.family,
                      t.createdAt = datetime(), t.updatedAt = datetime(), t.fresh = true
      // A step written before (the plan written again) has its relationships already. Only a
      // new step's are created, with CREATE: a MERGE of a relationship locks both nodes until
      // the commit, and every plan of a tenant links to its chief and its few capabilities.
      WITH root, cos, s, t WHERE t.fresh
      REMOVE t.fresh
      CREATE (t)-[:SUBTASK_OF]->(root), (t)-[:DELEGATED_BY]->(cos)
      FOREACH (_ IN CASE WHEN s.capability IS NULL THEN [] ELSE [1] END |
        MERGE (c:Capability {tenantId: $tenantId, name: s.capability})
          ON CREATE SET c.id = randomUUID(), c.createdAt = datetime(), c.updatedAt = datetime()
        CREATE (t)-[:REQUIRES]->(c))
      FOREACH (_ IN CASE WHEN s.key = 'synthesis' THEN [1] ELSE [] END |
        CREATE (t)-[:ASSIGNED_TO]->(cos))`,
    params: { tenantId, rootId, chiefId, rows },
  });
  await tx.run({
    cypher: `
      UNWIND $rows AS s
      MATCH (t:Task {id: s.id})
      UNWIND s.dependsOn AS depId
      MATCH (d:Task {id: depId})
      MERGE (t)-[:DEPENDS_ON]->(d)`,
    params: { rows },
  });
  await tx.run({
    cypher: `
      MATCH (t:Task {id: $id})-[a:ASSIGNED_TO]->() USING INDEX SEEK t:Task(id)
      SET a.score = coalesce(a.score, 1.0), a.reason = coalesce(a.reason, 'the Chief of Staff writes the answer'), a.at = coalesce(a.at, datetime())`,
    params: { id: ids.synthesis },
  });
  await tx.run({
    cypher: `
      MATCH (root:Task {tenantId: $tenantId, id: $rootId}) USING INDEX SEEK root:Task(id)
      WHERE root.planApproval = true AND root.status = 'IN_PROGRESS'
      SET root.status = 'AWAITING_APPROVAL', root.waitingReason = $reason,
          root.version = root.version + 1, root.updatedAt = datetime()`,
    params: { tenantId, rootId, reason: PLAN_WAITS },
  });
  return ids;
}

/** The waitingReason of a task whose plan waits for approvePlan. */
export const PLAN_WAITS = 'the plan waits for approval';

export interface MessageDraft {
  id: string;
  tenantId: string;
  conversationId: string;
  conversationTitle: string;
  kind: string;
  content: string;
  fromAgentId: string | null;
  /** A person who sent it (chat); null when an agent did. */
  senderUser?: string | null;
  toAgentIds: string[];
  broadcast: boolean;
  aboutTaskId: string | null;
}

/**
 * Writes a message once (MERGE by id), taking the next place in its conversation. Returns its id.
 * Its relationships are created only with the message itself: a MERGE of a relationship locks
 * both of its nodes until the commit, and every report of a plan goes to its Chief of Staff,
 * so every step's end queued on the chief's lock (test/message-locks.int.test.ts).
 */
export async function writeMessage(tx: Tx, m: MessageDraft): Promise<string> {
  await tx.run({
    cypher: `
      MERGE (c:Conversation {id: $conversationId})
        ON CREATE SET c.tenantId = $tenantId, c.title = $conversationTitle, c.messageCount = 0,
                      c.createdAt = datetime(), c.updatedAt = datetime()
      MERGE (m:Message {id: $id})
        ON CREATE SET m.tenantId = $tenantId, m.kind = $kind, m.content = $content,
                      m.broadcast = $broadcast, m.conversationId = $conversationId,
                      m.senderUser = $senderUser, m.createdAt = datetime(), m.fresh = true
      WITH c, m
      CALL (c, m) {
        WITH c, m WHERE m.fresh
        ${lockAndBump('c', 'Conversation', 'messageCount')}
        SET c.updatedAt = datetime(), m.seq = c.messageCount
        REMOVE m.fresh
        CREATE (m)-[:IN]->(c)
        WITH m
        OPTIONAL MATCH (from:Agent {tenantId: $tenantId, id: $fromAgentId})
        USING INDEX SEEK from:Agent(id)
        FOREACH (_ IN CASE WHEN from IS NULL THEN [] ELSE [1] END | CREATE (from)-[:SENT]->(m))
        WITH m
        OPTIONAL MATCH (about:Task {tenantId: $tenantId, id: $aboutTaskId})
        USING INDEX SEEK about:Task(id)
        FOREACH (_ IN CASE WHEN about IS NULL THEN [] ELSE [1] END | CREATE (m)-[:ABOUT]->(about))
        WITH m
        UNWIND $toAgentIds AS toId
        MATCH (to:Agent {tenantId: $tenantId, id: toId}) USING INDEX SEEK to:Agent(id)
        CREATE (m)-[:TO]->(to)
      }`,
    params: { senderUser: null, ...m, toAgentIds: [...new Set(m.toAgentIds)] },
  });
  return m.id;
}

/** The tenant a conversation belongs to, or null when there is none with that id. */
export async function conversationTenant(tx: Tx, id: string): Promise<string | null> {
  const [row] = await tx.run<{ tenantId: string }>({
    cypher: 'MATCH (c:Conversation {id: $id}) RETURN c.tenantId AS tenantId',
    params: { id },
  });
  return row?.tenantId ?? null;
}

export interface KnowledgeDraft {
  tenantId: string;
  kind: string;
  content: string;
  confidence: number;
  tags: string[];
  runId: string;
  taskId: string;
  agentId: string;
}

/** Writes a piece of knowledge once per task and content, with where it came from. */
export async function writeKnowledge(tx: Tx, k: KnowledgeDraft): Promise<string> {
  const id = stableId(k.taskId, 'knowledge', k.content);
  // A model's tags are names people read: what names refuse becomes a space (validate.ts).
  const tags = [...new Set(k.tags.map(cleanName).filter((t) => t !== ''))];
  await tx.run({
    cypher: `
      MATCH (t:Task {tenantId: $tenantId, id: $taskId}), (a:Agent {tenantId: $tenantId, id: $agentId})
      USING INDEX SEEK t:Task(id) USING INDEX SEEK a:Agent(id)
      MERGE (k:Knowledge {id: $id})
        ON CREATE SET k.tenantId = $tenantId, k.kind = $kind, k.content = $content,
                      k.confidence = $confidence, k.tags = $tags, k.tagText = $tagText,
                      k.createdAt = datetime(), k.updatedAt = datetime()
      MERGE (k)-[:LEARNED_FROM]->(t)
      MERGE (k)-[:CONTRIBUTED_BY]->(a)
      WITH k
      OPTIONAL MATCH (r:Run {id: $runId})
      FOREACH (_ IN CASE WHEN r IS NULL THEN [] ELSE [1] END | MERGE (k)-[:LEARNED_FROM]->(r))`,
    params: { ...k, id, tags, tagText: tags.join(' ') },
  });
  return id;
}

/** The reports written about the steps of a plan, oldest first. */
export async function reportsOfPlan(
  tx: Tx,
  tenantId: string,
  rootId: string,
): Promise<{ step: string; content: string }[]> {
  return tx.run({
    cypher: `
      MATCH (root:Task {tenantId: $tenantId, id: $rootId}) USING INDEX SEEK root:Task(id)
      MATCH (s:Task)-[:SUBTASK_OF]->(root)
      MATCH (m:Message {kind: 'REPORT'})-[:ABOUT]->(s)
      RETURN s.title AS step, m.content AS content ORDER BY m.createdAt, m.seq`,
    params: { tenantId, rootId },
  });
}

/** Whether a plan was already written under the task (a repeated planning step skips it). */
export async function hasPlan(tx: Tx, tenantId: string, rootId: string): Promise<boolean> {
  const rows = await tx.run({
    cypher: `MATCH (:Task)-[:SUBTASK_OF]->(root:Task {tenantId: $tenantId, id: $rootId})
      USING INDEX SEEK root:Task(id) RETURN 1 AS x LIMIT 1`,
    params: { tenantId, rootId },
  });
  return rows.length > 0;
}
