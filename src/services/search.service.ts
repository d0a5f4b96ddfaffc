import { luceneQuery } from '../../graph/fulltext.js';
import * as repo from '../../graph/node.repository.js';
import { NotFoundError } from '../domain/errors.js';
import { pageSize } from '../domain/page.js';
import { LIMITS, requiredText } from '../domain/validate.js';
import type { UnitOfWork } from './unit-of-work.js';

/** Lookups that cross node types: node(id) and full-text search. */
export class SearchService {
  constructor(private readonly uow: UnitOfWork) {}

  async node(tenantId: string, id: string): Promise<repo.TypedNode> {
    const node = await this.uow.read((tx) => repo.nodeById(tx, tenantId, id));
    if (!node) throw new NotFoundError('Node', id);
    return node;
  }

  /** The text is taken literally (Lucene syntax escaped): any string gives hits or none. */
  async search(tenantId: string, text: string, first: number) {
    const query = requiredText('query', text, LIMITS.search);
    const limit = pageSize(first);
    if (luceneQuery(query) === '') return [];
    return this.uow.read((tx) => repo.searchAll(tx, tenantId, query, limit));
  }
}
