import * as repo from '../../graph/knowledge.repository.js';
import { unknownIds } from '../../graph/ids.repository.js';
import { luceneQuery } from '../../graph/fulltext.js';
import { NotFoundError } from '../domain/errors.js';
import { KnowledgeKind, type Knowledge } from '../domain/knowledge.js';
import { pageRequest, type PageInput, pageSize, type Page, type Sort } from '../domain/page.js';
import {
  atPosition,
  distinctNames,
  isId,
  LIMITS,
  listOfAtMost,
  numberInRange,
  optionalText,
  requiredText,
} from '../domain/validate.js';
import type { UnitOfWork } from './unit-of-work.js';

export interface RecordKnowledgeData {
  content: string;
  kind?: KnowledgeKind | null;
  confidence?: number | null;
  tags?: string[] | null;
  agentId?: string | null;
  taskId?: string | null;
  supersedesId?: string | null;
}

export interface UpdateKnowledgeData {
  content?: string | null;
  kind?: KnowledgeKind | null;
  confidence?: number | null;
  tags?: string[] | null;
}

export interface KnowledgeHit {
  score: number;
  knowledge: Knowledge;
}

/** Knowledge with provenance; every method that writes is one transaction. */
export class KnowledgeService {
  constructor(private readonly uow: UnitOfWork) {}

  /**
   * Records up to 100 items in one transaction, all or nothing. Throws BAD_USER_INPUT for bad
   * fields (prefixed "inputs[i]." in a batch) and NOT_FOUND naming an unknown agent, task or
   * superseded item.
   */
  async record(tenantId: string, inputs: RecordKnowledgeData[]): Promise<Knowledge[]> {
    listOfAtMost('inputs', inputs, LIMITS.batch);
    const items = inputs.map((input, i) =>
      atPosition(inputs.length > 1 ? `inputs[${i}].` : '', () => ({
        kind: input.kind ?? KnowledgeKind.FACT,
        content: requiredText('content', input.content, LIMITS.content),
        confidence: numberInRange('confidence', input.confidence ?? 1, 0, 1),
        tags: tags(input.tags ?? []),
        agentId: input.agentId ?? null,
        taskId: input.taskId ?? null,
        supersedesId: input.supersedesId ?? null,
      })),
    );
    if (items.length === 0) return [];
    const ids = (key: 'agentId' | 'taskId' | 'supersedesId') => [
      ...new Set(items.flatMap((k) => (k[key] === null ? [] : [k[key]]))),
    ];
    const refs = {
      agentIds: ids('agentId'),
      taskIds: ids('taskId'),
      knowledgeIds: ids('supersedesId'),
    };
    // Ids that are not UUIDs cannot name a node: refused before any query.
    assertNone(
      'Agent',
      refs.agentIds.filter((id) => !isId(id)),
    );
    assertNone(
      'Task',
      refs.taskIds.filter((id) => !isId(id)),
    );
    assertNone(
      'Knowledge',
      refs.knowledgeIds.filter((id) => !isId(id)),
    );

    return this.uow.run(async (tx) => {
      assertNone('Agent', await unknownIds(tx, tenantId, 'Agent', refs.agentIds));
      assertNone('Task', await unknownIds(tx, tenantId, 'Task', refs.taskIds));
      assertNone('Knowledge', await unknownIds(tx, tenantId, 'Knowledge', refs.knowledgeIds));
      return repo.createKnowledge(tx, tenantId, items);
    });
  }

  /** Changes the given fields; omitted (or null) fields stay. NOT_FOUND when unknown. */
  async update(tenantId: string, id: string, input: UpdateKnowledgeData): Promise<Knowledge> {
    const patch: repo.KnowledgePatch = {};
    if (input.content !== undefined && input.content !== null) {
      patch.content = requiredText('content', input.content, LIMITS.content);
    }
    if (input.kind) patch.kind = input.kind;
    if (input.confidence !== undefined && input.confidence !== null) {
      patch.confidence = numberInRange('confidence', input.confidence, 0, 1);
    }
    if (input.tags) patch.tags = tags(input.tags);
    if (!isId(id)) throw new NotFoundError('Knowledge', id);

    return this.uow.run(async (tx) => {
      const updated = await repo.patchKnowledge(tx, tenantId, id, patch);
      if (!updated) throw new NotFoundError('Knowledge', id);
      return updated;
    });
  }

  /** Deletes the item and its edges (items it superseded stay). NOT_FOUND when unknown. */
  async delete(tenantId: string, id: string): Promise<string> {
    if (!isId(id)) throw new NotFoundError('Knowledge', id);
    return this.uow.run(async (tx) => {
      if (!(await repo.deleteKnowledge(tx, tenantId, id))) throw new NotFoundError('Knowledge', id);
      return id;
    });
  }

  list(
    tenantId: string,
    filter: repo.KnowledgeFilter,
    sort: Sort,
    input: PageInput,
  ): Promise<Page<Knowledge>> {
    const page = pageRequest(input);
    const checked: repo.KnowledgeFilter = {
      ...filter,
      tag: optionalText('tag', filter.tag, LIMITS.tag) ?? undefined,
      text: optionalText('text', filter.text, LIMITS.search) ?? undefined,
    };
    if (filter.minConfidence !== undefined) {
      numberInRange('minConfidence', filter.minConfidence, 0, 1);
    }
    return this.uow.read((tx) => repo.listKnowledge(tx, tenantId, checked, sort, page));
  }

  /**
   * Full-text search over content and tags, best first. The text is taken literally (Lucene
   * syntax is escaped), so any string gives hits or none, never an error. BAD_USER_INPUT when
   * the text is empty or over 500 characters, or `first` is not 1 to 100.
   */
  async search(tenantId: string, text: string, first = 10): Promise<KnowledgeHit[]> {
    const query = requiredText('query', text, LIMITS.search);
    pageSize(first);
    // Only punctuation: nothing the index could match.
    if (luceneQuery(query) === '') return [];
    return this.uow.read((tx) => repo.searchKnowledge(tx, tenantId, query, first));
  }
}

function tags(list: string[]): string[] {
  return distinctNames('tags', list, LIMITS.tags, LIMITS.tag);
}

function assertNone(what: string, missing: string[]): void {
  if (missing[0] !== undefined) throw new NotFoundError(what, missing[0]);
}
