import { randomUUID } from 'node:crypto';
import * as checks from '../../graph/organisation-import.repository.js';
import { engineStateProblem } from '../../graph/engine-state.repository.js';
import * as repo from '../../graph/organisation.repository.js';
import type { Tx } from '../../graph/cypher.js';
import { BadInputError, ConflictError, LimitExceededError } from '../domain/errors.js';
import {
  canonicalDocument,
  isExportLabel,
  isSignedBy,
  organisationSignature,
  parseOrganisationDocument,
  type ExportLabel,
  type OrganisationDocument,
} from '../domain/organisation-export.js';
import {
  checkNodeRules,
  checkRelationshipRule,
  ID_PROPERTIES,
} from '../domain/organisation-rules.js';
import type { UnitOfWork } from './unit-of-work.js';
import { edgesToCheck, refuseGraphCycles } from './import-cycles.js';
import { refuseSelfWaitingAmong } from './workflow-guard.js';
import { namesUnique, NameTakenError, refuseSameNames, takenNameConflict } from './import-names.js';
import { lockTaskEdges } from '../../graph/task-cycles.repository.js';
import { refuseOverQueuedSteps } from './backlog.js';
import type { BacklogLimits } from '../domain/backlog.js';
import { FINISHED_STATUSES } from '../domain/task.js';
import { queuedStepsAdded } from './import-backlog.js';

export interface ImportResult {
  nodesCreated: number;
  nodesUpdated: number;
  relationshipsCreated: number;
  /**
   * The id each node of the document was stored under, in document order. A list by position,
   * not pairs: the answer never repeats the document's ids back (issue 9's tenancy sweep).
   */
  nodeIds: string[];
  /**
   * Positions in the document of tasks that had finished in this organisation (merge only): a
   * merge keeps them as they are, the document's properties for them unapplied.
   */
  finishedTasksKept: number[];
}

/** Export, import and deletion of a whole organisation (one tenant). */
export class OrganisationService {
  private secret: Promise<string> | undefined;

  /** Tenants with an export, import or deletion running in this process. */
  private readonly busy = new Set<string>();

  constructor(
    private readonly uow: UnitOfWork,
    private readonly backlog?: BacklogLimits,
  ) {}

  /**
   * Runs one whole-organisation operation of a tenant at a time, else LIMIT_EXCEEDED: each reads
   * or writes all of it, and a tenant sending several at once held the event loop and Neo4j
   * from every other tenant (a walk: another's query p99 0.8 s -> 3.1 s).
   */
  private async alone<T>(tenantId: string, operation: () => Promise<T>): Promise<T> {
    if (this.busy.has(tenantId)) {
      throw new LimitExceededError(
        'organisationOperationsPerTenant',
        'An export, import or deletion of this organisation is still running (one at a time); ' +
          'wait for it to end, then send it again',
      );
    }
    this.busy.add(tenantId);
    try {
      return await operation();
    } finally {
      this.busy.delete(tenantId);
    }
  }

  /** The graph's signing secret, made once (a write) and then kept for this process. */
  private signingSecret(): Promise<string> {
    this.secret ??= this.uow.write((tx) => checks.organisationSecret(tx));
    this.secret.catch(() => (this.secret = undefined));
    return this.secret;
  }

  /**
   * The tenant's organisation as one document, in canonical order (see organisation-export.ts),
   * signed for this organisation, so that importing it back keeps its ids.
   */
  async export(tenantId: string): Promise<OrganisationDocument> {
    return this.alone(tenantId, async () => {
      const secret = await this.signingSecret();
      return this.uow.read(async (tx) => {
        const nodes = await repo.exportNodes(tx, tenantId);
        // Reads are read-committed: drop edges to nodes created after the first read.
        const ids = new Set(nodes.map((n) => n.id));
        const relationships = (await repo.exportRelationships(tx, tenantId)).filter(
          (r) => ids.has(r.from) && ids.has(r.to),
        );
        const doc = canonicalDocument(nodes, relationships);
        return { ...doc, signature: organisationSignature(secret, tenantId, doc.nodes) };
      });
    });
  }

  /**
   * Imports a document into the tenant, all or nothing, in one transaction.
   * - Ids: a node id of this organisation is a CONFLICT without `merge` (with `merge`, that node
   *   gets the document's properties; under another label it is a CONFLICT). Any other id is
   *   kept only when the document is this organisation's own signed export and the id is free;
   *   otherwise it is re-minted (nodeIds says where each node went), so a free id and another
   *   organisation's id give the same answer (issue 9).
   * - BAD_USER_INPUT: the document is malformed, a node or relationship breaks a domain rule
   *   (organisation-rules.ts), the tasks would leave the engine an inconsistent workflow, or a
   *   relationship names an id that is neither in the document nor a node of this organisation.
   * - CONFLICT: an Agent or Capability name that another of the organisation or of the document
   *   has (import-names.ts), naming the document's node and the name.
   * - LIMIT_EXCEEDED: its orchestrated PENDING or READY tasks not queued already would take the
   *   tenant's queued steps past TENANT_MAX_QUEUED_STEPS (queuedAdded).
   * With `merge`, relationships are MERGEd on (type, from, to) and get the document's properties;
   * a task that finished (COMPLETED, FAILED, CANCELLED, SKIPPED) keeps its own: a merge never
   * rewrites a finished task's history (finishedTasksKept names them).
   * A step AWAITING_INPUT with no PENDING tool-call request comes back READY (the export leaves
   * held calls out): it runs its attempt again instead of waiting for good.
   */
  async import(tenantId: string, input: unknown, merge: boolean): Promise<ImportResult> {
    return this.alone(tenantId, async () => {
      const parsed = parseOrganisationDocument(input);
      checkNodeRules(parsed.nodes);
      refuseSameNames(parsed);
      const signed = isSignedBy(await this.signingSecret(), tenantId, parsed);
      const written = this.uow.run(async (tx) => {
        const { doc, labelOf, stored } = await this.resolveIds(tx, tenantId, parsed, merge, signed);
        doc.relationships.forEach((r, i) =>
          checkRelationshipRule(i, r, labelOf.get(r.from)!, labelOf.get(r.to)!),
        );
        const adding = await queuedStepsAdded(tx, tenantId, doc, stored);
        await refuseOverQueuedSteps(tx, tenantId, this.backlog, 'importOrganisation', adding);
        const existing = new Set(stored.keys());
        const cyclesToCheck = edgesToCheck(parsed, doc, existing);
        // Before the writes lock any task, as everyone who takes this lock takes it.
        if (cyclesToCheck.length > 0) await lockTaskEdges(tx, tenantId);

        let nodesCreated = 0;
        let nodesUpdated = 0;
        const kept = new Set<string>();
        for (const [label, nodes] of groupBy(doc.nodes, (n) => n.label)) {
          const fresh = nodes.filter((n) => !existing.has(n.id));
          const known = nodes.filter((n) => existing.has(n.id));
          await namesUnique(label, async () => {
            if (fresh.length) nodesCreated += await repo.createNodes(tx, tenantId, label, fresh);
            if (!known.length) return;
            const keep = label === 'Task' ? FINISHED_STATUSES : [];
            const replaced = await repo.replaceNodes(tx, tenantId, label, known, keep);
            nodesUpdated += replaced.replaced;
            for (const id of replaced.kept) kept.add(id);
          });
        }

        let relationshipsCreated = 0;
        const groups = groupBy(doc.relationships, (r) =>
          JSON.stringify([r.type, labelOf.get(r.from), labelOf.get(r.to)]),
        );
        for (const [key, rels] of groups) {
          const [type, fromLabel, toLabel] = JSON.parse(key) as [string, ExportLabel, ExportLabel];
          // MERGE keys on (type, from, to): the last of several such rows wins, as it would in Cypher.
          const rows = merge
            ? [...new Map(rels.map((r) => [`${r.from}\n${r.to}`, r])).values()]
            : rels;
          relationshipsCreated += await repo.writeRelationships(
            tx,
            tenantId,
            { type, fromLabel, toLabel },
            rows,
            merge,
          );
        }
        await refuseGraphCycles(tx, tenantId, parsed, cyclesToCheck);
        // Roots follow the edges, whatever the document says (lists read it), and a step waiting
        // for held calls the graph lacks comes back READY: before the engine's rules are checked.
        const taskIds = doc.nodes.filter((n) => n.label === 'Task').map((n) => n.id);
        await checks.settleImportedTasks(tx, tenantId, taskIds);
        await this.checkEngineState(tx, tenantId, parsed, doc, existing);
        const nodeIds = doc.nodes.map((n) => n.id);
        const finishedTasksKept = nodeIds.flatMap((id, i) => (kept.has(id) ? [i] : []));
        return { nodesCreated, nodesUpdated, relationshipsCreated, nodeIds, finishedTasksKept };
      });
      // The transaction that met a taken name is gone: a read names the node.
      return written.catch(async (err: unknown) => {
        if (!(err instanceof NameTakenError)) throw err;
        throw await this.uow.read((tx) => takenNameConflict(tx, tenantId, parsed, err));
      });
    });
  }

  /**
   * Deletes every organisation node of the tenant and their relationships. `confirm` must be
   * the tenant id, else BAD_USER_INPUT. Returns how many nodes were deleted.
   */
  delete(tenantId: string, confirm: string): Promise<number> {
    if (confirm !== tenantId) {
      throw new BadInputError(
        `confirm must be this organisation's id "${tenantId}" to delete it, but got "${confirm.slice(0, 100)}"`,
        { field: 'confirm' },
      );
    }
    return this.alone(tenantId, () =>
      this.uow.run((tx) => repo.deleteOrganisationNodes(tx, tenantId)),
    );
  }

  /**
   * Decides the stored id of every node (kept, updated or re-minted), refuses this
   * organisation's ids where they may not be reused (CONFLICT) and dangling relationship ends
   * (BAD_USER_INPUT). Returns the document with its ids rewritten, the label of every id the
   * relationships use, and the nodes of the document that exist already, by id.
   */
  private async resolveIds(
    tx: Tx,
    tenantId: string,
    doc: OrganisationDocument,
    merge: boolean,
    signed: boolean,
  ) {
    const inDocument = new Set(doc.nodes.map((n) => n.id));
    const outside = new Set<string>();
    for (const r of doc.relationships) {
      if (!inDocument.has(r.from)) outside.add(r.from);
      if (!inDocument.has(r.to)) outside.add(r.to);
    }
    const found = await repo.nodesByIds(tx, [...inDocument, ...outside]);
    const byId = new Map(found.map((n) => [n.id, n]));
    const ours = (id: string) => byId.get(id)?.tenantId === tenantId;

    // Only this organisation's own nodes may conflict: nothing here depends on other tenants.
    const conflicts = doc.nodes.filter(
      (node) => ours(node.id) && (!merge || !byId.get(node.id)!.labels.includes(node.label)),
    );
    if (conflicts.length) {
      const first = conflicts[0]!;
      const index = doc.nodes.indexOf(first);
      const hint = merge
        ? 'they carry another label in this organisation'
        : 'import into an empty organisation, or pass merge: true to update them';
      throw new ConflictError(
        `${conflicts.length} node id(s) of the document are already nodes of this organisation, the first being "${first.id}" (nodes[${index}]): ${hint}`,
        { count: conflicts.length, firstId: first.id },
      );
    }

    const idOf = new Map<string, string>();
    for (const node of doc.nodes) {
      const keep = ours(node.id) || (signed && !byId.has(node.id));
      idOf.set(node.id, keep ? node.id : randomUUID());
    }

    const labelOf = new Map<string, ExportLabel>(doc.nodes.map((n) => [idOf.get(n.id)!, n.label]));
    for (const id of outside) {
      const label = ours(id) ? byId.get(id)!.labels.find(isExportLabel) : undefined;
      if (label) labelOf.set(id, label);
    }
    doc.relationships.forEach((r, i) => {
      for (const end of ['from', 'to'] as const) {
        if (!labelOf.has(idOf.get(r[end]) ?? r[end])) {
          throw new BadInputError(
            `relationships[${i}].${end} "${r[end]}" is neither a node of the document nor a node of this organisation`,
            { field: `relationships[${i}].${end}` },
          );
        }
      }
    });
    const rewritten: OrganisationDocument = {
      ...doc,
      nodes: doc.nodes.map((n) => ({
        ...n,
        id: idOf.get(n.id)!,
        properties: withIdsRewritten(n.properties, ID_PROPERTIES[n.label], idOf),
      })),
      relationships: doc.relationships.map((r) => ({
        ...r,
        from: idOf.get(r.from) ?? r.from,
        to: idOf.get(r.to) ?? r.to,
      })),
    };
    const stored = new Map(
      doc.nodes.filter((n) => ours(n.id)).map((n) => [n.id, byId.get(n.id)!] as const),
    );
    return { doc: rewritten, labelOf, stored };
  }

  /**
   * Refuses (BAD_USER_INPUT, rolling the import back) tasks the engine could not run
   * consistently: an import never hands the shared engine a step it cannot claim safely.
   * Looks only where the import can have changed a workflow: orchestrated tasks of the
   * document, tasks that existed before, and the ends of SUBTASK_OF and DEPENDS_ON edges; then
   * at the unfinished workflows these are in, for a step that waits for itself
   * (refuseSelfWaitingAmong).
   */
  private async checkEngineState(
    tx: Tx,
    tenantId: string,
    original: OrganisationDocument,
    doc: OrganisationDocument,
    existing: Set<string>,
  ): Promise<void> {
    const plain = new Set(
      doc.nodes
        .filter(
          (n) => n.label === 'Task' && n.properties.orchestrated !== true && !existing.has(n.id),
        )
        .map((n) => n.id),
    );
    const ids = new Set(
      doc.nodes.filter((n) => n.label === 'Task' && !plain.has(n.id)).map((n) => n.id),
    );
    for (const r of doc.relationships) {
      if (r.type !== 'SUBTASK_OF' && r.type !== 'DEPENDS_ON') continue;
      for (const end of [r.from, r.to]) if (!plain.has(end)) ids.add(end);
    }
    // Stored ids follow document order, so the position names the node as the caller sent it.
    const documentIdOf = (id: string) => {
      const index = doc.nodes.findIndex((n) => n.id === id);
      return index >= 0 ? original.nodes[index]!.id : id;
    };
    const found = await engineStateProblem(tx, tenantId, [...ids]);
    if (found) {
      const index = doc.nodes.findIndex((n) => n.id === found.id);
      const documentId = documentIdOf(found.id);
      const where = index >= 0 ? `nodes[${index}] (Task "${documentId}")` : `Task "${documentId}"`;
      throw new BadInputError(
        `The organisation document would give the engine an inconsistent workflow at ${where}: it ${found.problem}. Import such a task PENDING (or not orchestrated) and start it with startWorkflow`,
        { field: index >= 0 ? `nodes[${index}]` : 'nodes', id: documentId },
      );
    }
    // As startWorkflow and addTaskDependency: no step the engine runs may wait for itself.
    await refuseSelfWaitingAmong(tx, tenantId, 'importOrganisation', [...ids], documentIdOf);
  }
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** The node's id-holding properties pointed at the ids the import gave their nodes. */
function withIdsRewritten<P extends Record<string, unknown>>(
  properties: P,
  names: readonly string[] | undefined,
  idOf: ReadonlyMap<string, string>,
): P {
  if (!names) return properties;
  const out: Record<string, unknown> = { ...properties };
  for (const name of names) {
    const value = out[name];
    if (typeof value === 'string' && idOf.has(value)) out[name] = idOf.get(value);
  }
  return out as P;
}
