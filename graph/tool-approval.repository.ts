import { AgentRole } from '../src/domain/agent.js';
import { TaskPriority, type Task } from '../src/domain/task.js';
import {
  ToolApprovalMode,
  ToolCallRequestStatus,
  type ToolCallRequest,
  type ToolPolicy,
} from '../src/domain/tool-approval.js';
import { stableId } from './agent-work.repository.js';
import type { Tx } from './cypher.js';
import { Reader, iso, toTask } from './mappers.js';
import type { NodeLike } from './page.js';
import { lockAndBump } from './locks.js';

/**
 * Tool-call approval (issue 13): a tenant's (:ToolPolicy {tenantId, tool}) per tool, and the
 * calls that wait for a person as (:ToolCallRequest)-[:FOR]->(:Task), REQUESTED_IN the run that
 * stopped for them. A request's id is fixed by its task and the model's call id, so the same
 * call asked again (a retried hold) is one request.
 */

function toPolicy(node: NodeLike): ToolPolicy {
  const r = new Reader('ToolPolicy', node);
  const roles = Array.isArray(r.p.roles) ? (r.p.roles as string[]) : [];
  return {
    tenantId: r.text('tenantId'),
    tool: r.text('tool'),
    mode: r.oneOf('mode', ToolApprovalMode),
    roles: roles.filter((x): x is AgentRole => x in AgentRole),
    minPriority: r.p.minPriority == null ? null : r.oneOf('minPriority', TaskPriority),
    updatedAt: r.time('updatedAt'),
    updatedBy: typeof r.p.updatedBy === 'string' ? r.p.updatedBy : null,
  };
}

export function toToolCallRequest(node: NodeLike): ToolCallRequest {
  const r = new Reader('ToolCallRequest', node);
  const opt = (f: string) => (typeof r.p[f] === 'string' ? (r.p[f] as string) : null);
  return {
    id: r.text('id'),
    tenantId: r.text('tenantId'),
    taskId: r.text('taskId'),
    runId: r.text('runId'),
    callId: r.text('callId'),
    tool: r.text('tool'),
    args: r.text('args'),
    status: r.oneOf('status', ToolCallRequestStatus),
    editedArgs: opt('editedArgs'),
    reason: opt('reason'),
    decidedBy: opt('decidedBy'),
    decidedAt: r.p.decidedAt == null ? null : iso(r.p.decidedAt),
    requestedAt: r.time('requestedAt'),
  };
}

export async function toolPolicies(tx: Tx, tenantId: string): Promise<ToolPolicy[]> {
  const rows = await tx.run<{ p: NodeLike }>({
    // By the (tenantId, tool) constraint's index: a plain match scanned every tenant's policies.
    cypher: `MATCH (p:ToolPolicy) USING INDEX SEEK p:ToolPolicy(tenantId, tool)
      WHERE p.tenantId = $tenantId AND p.tool IS NOT NULL
      RETURN p ORDER BY p.tool`,
    params: { tenantId },
  });
  return rows.map((r) => toPolicy(r.p));
}

export async function putToolPolicy(tx: Tx, p: Omit<ToolPolicy, 'updatedAt'>): Promise<ToolPolicy> {
  const [row] = await tx.run<{ p: NodeLike }>({
    cypher: `
      MERGE (p:ToolPolicy {tenantId: $tenantId, tool: $tool})
      SET p.mode = $mode, p.roles = $roles, p.minPriority = $minPriority,
          p.updatedBy = $updatedBy, p.updatedAt = datetime()
      RETURN p`,
    params: { ...p },
  });
  return toPolicy(row!.p);
}

export async function deleteToolPolicy(tx: Tx, tenantId: string, tool: string): Promise<boolean> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `
      OPTIONAL MATCH (p:ToolPolicy {tenantId: $tenantId, tool: $tool})
      DETACH DELETE p
      RETURN count(p) AS n`,
    params: { tenantId, tool },
  });
  return Number(row?.n ?? 0) > 0;
}

/**
 * Deletes the policies of a server's tools (`server__tool`): removed with their server, so that
 * none applies to a later server given its name. A server's name holds no "__", so the prefix
 * names its tools only. Returns the tools whose policies went, by name.
 */
export async function deleteToolPoliciesOfServer(
  tx: Tx,
  tenantId: string,
  server: string,
): Promise<string[]> {
  const rows = await tx.run<{ tool: string }>({
    cypher: `
      MATCH (p:ToolPolicy) USING INDEX SEEK p:ToolPolicy(tenantId, tool)
      WHERE p.tenantId = $tenantId AND p.tool STARTS WITH $prefix
      WITH p, p.tool AS tool
      DETACH DELETE p
      RETURN tool ORDER BY tool`,
    params: { tenantId, prefix: `${server}__` },
  });
  return rows.map((r) => r.tool);
}

export const requestId = (taskId: string, callId: string) => stableId(taskId, 'tool-call', callId);

/**
 * Records the calls a run stopped for, PENDING, in the transaction that ends the run as
 * AWAITING_INPUT; that attempt is not counted (nothing failed: a person is to decide). Throws,
 * so that transaction commits nothing, unless every call got its request: a step held with no
 * request to decide would wait for ever.
 */
export async function holdForInput(
  tx: Tx,
  o: {
    tenantId: string;
    taskId: string;
    runId: string;
    calls: readonly { callId: string; tool: string; args: string }[];
  },
): Promise<void> {
  const [row] = await tx.run<{ n: number }>({
    cypher: `
      MATCH (t:Task {tenantId: $tenantId, id: $taskId}), (r:Run {tenantId: $tenantId, id: $runId})
      USING INDEX SEEK t:Task(id) USING INDEX SEEK r:Run(id)
      SET t.attempts = CASE WHEN t.attempts > 0 THEN t.attempts - 1 ELSE 0 END
      WITH t, r
      UNWIND $calls AS c
      MERGE (q:ToolCallRequest {id: c.id})
        ON CREATE SET q.tenantId = $tenantId, q.taskId = $taskId, q.callId = c.callId,
                      q.tool = c.tool, q.args = c.args, q.status = 'PENDING',
                      q.requestedAt = datetime()
      SET q.runId = $runId
      MERGE (q)-[:FOR]->(t)
      MERGE (q)-[:REQUESTED_IN]->(r)
      RETURN count(DISTINCT q) AS n`,
    params: {
      tenantId: o.tenantId,
      taskId: o.taskId,
      runId: o.runId,
      calls: o.calls.map((c) => ({ ...c, id: requestId(o.taskId, c.callId) })),
    },
  });
  const wanted = new Set(o.calls.map((c) => c.callId)).size;
  const written = Number(row?.n ?? 0);
  if (written !== wanted) {
    throw new Error(
      `holding task ${o.taskId} for ${wanted} tool call(s) recorded ${written} request(s) (run ${o.runId}); nothing of this attempt's end is committed`,
    );
  }
}

/** The requests of a task's calls with these ids (the model's), by call id. */
export async function requestsOfCalls(
  tx: Tx,
  tenantId: string,
  taskId: string,
  callIds: readonly string[],
): Promise<Map<string, ToolCallRequest>> {
  const rows = await tx.run<{ q: NodeLike }>({
    cypher: `
      UNWIND $ids AS id
      MATCH (q:ToolCallRequest {id: id})
      USING INDEX SEEK q:ToolCallRequest(id) WHERE q.tenantId = $tenantId
      RETURN q`,
    params: { tenantId, ids: callIds.map((c) => requestId(taskId, c)) },
  });
  return new Map(rows.map((r) => [String(r.q.properties.callId), toToolCallRequest(r.q)]));
}

/** A run's request for the call `callId`, if the run and the request are the tenant's. */
export async function requestOfRun(
  tx: Tx,
  tenantId: string,
  runId: string,
  callId: string,
): Promise<{ request: ToolCallRequest; task: Task } | null> {
  const [row] = await tx.run<{ q: NodeLike; t: NodeLike }>({
    cypher: `
      MATCH (r:Run {tenantId: $tenantId, id: $runId})<-[:REQUESTED_IN]-(q:ToolCallRequest)-[:FOR]->(t:Task)
      USING INDEX SEEK r:Run(id)
      WHERE q.callId = $callId
      RETURN q, t`,
    params: { tenantId, runId, callId },
  });
  return row ? { request: toToolCallRequest(row.q), task: toTask(row.t) } : null;
}

/**
 * Records a person's decision on a PENDING request of a task AWAITING_INPUT (under the task's
 * lock), and when none of the task's requests is PENDING any more, makes the task READY to
 * resume. Returns the request and the task as they are after it (`decided` false: nothing was
 * written, they are as read under the lock), or null when there is no such request.
 */
export async function decideRequest(
  tx: Tx,
  o: {
    tenantId: string;
    id: string;
    status: ToolCallRequestStatus;
    editedArgs: string | null;
    reason: string | null;
    by: string;
  },
): Promise<{ request: ToolCallRequest; task: Task; decided: boolean; resumed: boolean } | null> {
  const [row] = await tx.run<{ q: NodeLike; t: NodeLike; decided: boolean; resumed: boolean }>({
    cypher: `
      MATCH (q:ToolCallRequest {id: $id})-[:FOR]->(t:Task) USING INDEX SEEK q:ToolCallRequest(id)
      WHERE q.tenantId = $tenantId
      ${lockAndBump('t', 'Task')}
      // A step that no longer waits (cancelled, ended) has no run to apply the decision to.
      WITH q, t, q.status = 'PENDING' AND t.status = 'AWAITING_INPUT' AS decided
      FOREACH (_ IN CASE WHEN decided THEN [1] ELSE [] END |
        SET q.status = $status, q.editedArgs = $editedArgs, q.reason = $reason,
            q.decidedBy = $by, q.decidedAt = datetime())
      WITH q, t, decided
      CALL (t) {
        OPTIONAL MATCH (p:ToolCallRequest {status: 'PENDING'})-[:FOR]->(t)
        RETURN count(p) = 0 AS none
      }
      WITH q, t, decided, decided AND none AS resumed
      FOREACH (_ IN CASE WHEN resumed THEN [1] ELSE [] END |
        SET t.status = 'READY', t.waitingReason = null, t.error = null, t.updatedAt = datetime())
      RETURN q, t, decided, resumed`,
    params: { ...o },
  });
  return row
    ? {
        request: toToolCallRequest(row.q),
        task: toTask(row.t),
        decided: row.decided,
        resumed: row.resumed,
      }
    : null;
}

/**
 * For Task.toolCallRequests: each task's requests, PENDING first, then newest first. Read from
 * the task (FOR), not by their (tenantId, taskId) index: a reader that sees the task
 * AWAITING_INPUT then sees the requests its commit wrote (index entries are applied after
 * records: docs/architecture.md).
 */
export async function requestsByTaskIds(
  tx: Tx,
  tenantId: string,
  taskIds: readonly string[],
): Promise<ToolCallRequest[]> {
  const rows = await tx.run<{ q: NodeLike }>({
    cypher: `
      UNWIND $taskIds AS taskId
      MATCH (t:Task {tenantId: $tenantId, id: taskId}) USING INDEX SEEK t:Task(id)
      MATCH (t)<-[:FOR]-(q:ToolCallRequest)
      RETURN q ORDER BY CASE q.status WHEN 'PENDING' THEN 0 ELSE 1 END, q.requestedAt DESC, q.id`,
    params: { tenantId, taskIds },
  });
  return rows.map((r) => toToolCallRequest(r.q));
}
