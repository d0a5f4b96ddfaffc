import * as repo from '../../graph/organisation.repository.js';
import type { Tx } from '../../graph/cypher.js';
import { BadInputError, ConflictError } from '../domain/errors.js';
import {
  canonicalDocument,
  isExportLabel,
  parseOrganisationDocument,
  type ExportLabel,
  type OrganisationDocument,
} from '../domain/organisation-export.js';
import type { UnitOfWork } from './unit-of-work.js';

export interface ImportResult {
  nodesCreated: number;
  nodesUpdated: number;
  relationshipsCreated: number;
}

/** Export, import and deletion of a whole organisation (one tenant). */
export class OrganisationService {
  constructor(private readonly uow: UnitOfWork) {}

  /** The tenant's organisation as one document, in canonical order (see organisation-export.ts). */
  export(tenantId: string): Promise<OrganisationDocument> {
    return this.uow.read(async (tx) => {
      const nodes = await repo.exportNodes(tx, tenantId);
      // Reads are read-committed: drop edges to nodes created after the first read.
      const ids = new Set(nodes.map((n) => n.id));
      const relationships = (await repo.exportRelationships(tx, tenantId)).filter(
        (r) => ids.has(r.from) && ids.has(r.to),
      );
      return canonicalDocument(nodes, relationships);
    });
  }

  /**
   * Imports a document into the tenant, all or nothing, in one transaction.
   * - BAD_USER_INPUT: the document is malformed, or a relationship names an id that is neither
   *   in the document nor a node of this organisation.
   * - CONFLICT: without `merge`, an id of the document already exists (in any tenant); with
   *   `merge`, an id exists in another tenant or under another label. With `merge`, this
   *   tenant's existing nodes get the document's properties, relationships are MERGEd on
   *   (type, from, to) and get the document's properties.
   */
  import(tenantId: string, input: unknown, merge: boolean): Promise<ImportResult> {
    const doc = parseOrganisationDocument(input);
    return this.uow.run(async (tx) => {
      const labelOf = await this.checkIds(tx, tenantId, doc, merge);
      const existing = labelOf.existing;

      let nodesCreated = 0;
      let nodesUpdated = 0;
      for (const [label, nodes] of groupBy(doc.nodes, (n) => n.label)) {
        const fresh = nodes.filter((n) => !existing.has(n.id));
        const known = nodes.filter((n) => existing.has(n.id));
        if (fresh.length) nodesCreated += await repo.createNodes(tx, tenantId, label, fresh);
        if (known.length) nodesUpdated += await repo.replaceNodes(tx, tenantId, label, known);
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
      return { nodesCreated, nodesUpdated, relationshipsCreated };
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
    return this.uow.run((tx) => repo.deleteOrganisationNodes(tx, tenantId));
  }

  /**
   * Refuses ids taken elsewhere (CONFLICT) and dangling relationship ends (BAD_USER_INPUT).
   * Returns the label of every id the relationships use, and the ids that exist already.
   */
  private async checkIds(tx: Tx, tenantId: string, doc: OrganisationDocument, merge: boolean) {
    const labels = new Map<string, ExportLabel>(doc.nodes.map((n) => [n.id, n.label]));
    const outside = new Set<string>();
    for (const r of doc.relationships) {
      if (!labels.has(r.from)) outside.add(r.from);
      if (!labels.has(r.to)) outside.add(r.to);
    }
    const found = await repo.nodesByIds(tx, [...labels.keys(), ...outside]);
    const byId = new Map(found.map((n) => [n.id, n]));

    const conflicts = doc.nodes.filter((node) => {
      const there = byId.get(node.id);
      if (!there) return false;
      return !merge || there.tenantId !== tenantId || !there.labels.includes(node.label);
    });
    if (conflicts.length) {
      const first = conflicts[0]!;
      const index = doc.nodes.indexOf(first);
      const hint = merge
        ? 'they belong to another organisation or carry another label, and are never touched'
        : 'import into an empty organisation, or pass merge: true to update the ones of this organisation';
      throw new ConflictError(
        `${conflicts.length} node id(s) of the document already exist, the first being "${first.id}" (nodes[${index}]): ${hint}`,
        { count: conflicts.length, firstId: first.id },
      );
    }

    for (const id of outside) {
      const there = byId.get(id);
      const label = there?.tenantId === tenantId ? there.labels.find(isExportLabel) : undefined;
      if (label) labels.set(id, label);
    }
    doc.relationships.forEach((r, i) => {
      for (const end of ['from', 'to'] as const) {
        if (!labels.has(r[end])) {
          throw new BadInputError(
            `relationships[${i}].${end} "${r[end]}" is neither a node of the document nor a node of this organisation`,
            { field: `relationships[${i}].${end}` },
          );
        }
      }
    });
    return {
      get: (id: string) => labels.get(id)!,
      existing: new Set(doc.nodes.filter((n) => byId.has(n.id)).map((n) => n.id)),
    };
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
