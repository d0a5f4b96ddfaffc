import { luceneQuery } from '../../graph/fulltext.js';
import { unknownIds, type CheckableLabel } from '../../graph/ids.repository.js';
import * as repo from '../../graph/node.repository.js';
import { NotFoundError } from '../domain/errors.js';
import type { MemoryView } from '../domain/memory-search.js';
import { pageSize } from '../domain/page.js';
import { LIMITS, requiredText } from '../domain/validate.js';
import type { UnitOfWork } from './unit-of-work.js';

/** An id that must name a node of the tenant with one of `labels` (none: it never does). */
export interface IdRef {
  id: string;
  labels: readonly CheckableLabel[];
  /** What the id names, for NOT_FOUND: "Task", "Agent or task". */
  what: string;
}

/** Lookups that cross node types: node(id), ids checked, and full-text search. */
export class SearchService {
  constructor(private readonly uow: UnitOfWork) {}

  /** NOT_FOUND for an unknown id, and for an entity or episode that `view` may not see. */
  async node(tenantId: string, id: string, view: MemoryView): Promise<repo.TypedNode> {
    const node = await this.uow.read((tx) => repo.nodeById(tx, tenantId, id, view));
    if (!node) throw new NotFoundError('Node', id);
    return node;
  }

  /**
   * Throws NOT_FOUND for the first of `refs` that names nothing of the tenant: another
   * tenant's id is answered as an unknown one.
   */
  async assertKnown(tenantId: string, refs: readonly IdRef[]): Promise<void> {
    if (refs.length === 0) return;
    const missing = await this.uow.read(async (tx) => {
      for (const ref of refs) {
        let found = false;
        for (const label of ref.labels) {
          found = (await unknownIds(tx, tenantId, label, [ref.id])).length === 0;
          if (found) break;
        }
        if (!found) return ref;
      }
      return null;
    });
    if (missing) throw new NotFoundError(missing.what, missing.id);
  }

  /** The text is taken literally (Lucene syntax escaped): any string gives hits or none. */
  async search(tenantId: string, text: string, first: number) {
    const query = requiredText('query', text, LIMITS.search);
    const limit = pageSize(first);
    if (luceneQuery(query) === '') return [];
    return this.uow.read((tx) => repo.searchAll(tx, tenantId, query, limit));
  }
}
