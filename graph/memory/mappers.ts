import {
  EpisodeKind,
  EpisodeStatus,
  MemoryScope,
  type Entity,
  type Episode,
  type Fact,
  type MemoryDocument,
} from '../../src/domain/memory.js';
import { iso, num, Reader, str } from '../mappers.js';
import type { NodeLike } from '../page.js';

const time = (v: unknown): string | null => (v === undefined || v === null ? null : iso(v));

export function toEpisode(node: NodeLike): Episode {
  const r = new Reader('Episode', node);
  const p = r.p;
  return {
    id: r.text('id'),
    tenantId: String(p.tenantId),
    kind: r.oneOf('kind', EpisodeKind),
    sourceKey: r.text('sourceKey'),
    source: String(p.source ?? p.sourceKey),
    content: r.text('content'),
    occurredAt: r.time('occurredAt'),
    status: r.oneOf('status', EpisodeStatus),
    attempts: num(p.attempts),
    modelCalls: num(p.modelCalls),
    error: str(p.error),
    ingestedAt: time(p.ingestedAt),
    scope: r.oneOf('scope', MemoryScope, MemoryScope.TENANT),
    scopeId: str(p.scopeId),
    createdAt: r.time('createdAt'),
    updatedAt: r.time('updatedAt'),
  };
}

export function toEntity(node: NodeLike): Entity {
  const r = new Reader('Entity', node);
  const p = r.p;
  return {
    id: r.text('id'),
    tenantId: String(p.tenantId),
    name: r.text('name'),
    normName: String(p.normName ?? ''),
    type: String(p.type ?? 'Thing'),
    summary: String(p.summary ?? ''),
    aliases: Array.isArray(p.aliases) ? p.aliases.map(String) : [],
    mergedInto: str(p.mergedInto),
    createdAt: r.time('createdAt'),
    updatedAt: r.time('updatedAt'),
  };
}

/** A fact node with the ids at the ends of its edges (read alongside it). */
export type FactRow = {
  f: NodeLike;
  subjectId: string;
  objectId: string | null;
  replacedById: string | null;
};

export function toFact(row: FactRow): Fact {
  const r = new Reader('Fact', row.f);
  const p = r.p;
  return {
    id: r.text('id'),
    tenantId: String(p.tenantId),
    subjectId: row.subjectId,
    predicate: r.text('predicate'),
    objectId: row.objectId,
    value: String(p.value ?? ''),
    text: r.text('text'),
    confidence: num(p.confidence, 1),
    validFrom: time(p.validFrom),
    validUntil: time(p.validUntil),
    recordedAt: r.time('recordedAt'),
    expiredAt: time(p.expiredAt),
    replacedById: row.replacedById,
    createdAt: r.time('createdAt'),
    updatedAt: r.time('updatedAt'),
  };
}

export function toDocument(node: NodeLike): MemoryDocument {
  const r = new Reader('Document', node);
  const p = r.p;
  return {
    id: r.text('id'),
    tenantId: String(p.tenantId),
    title: r.text('title'),
    mime: String(p.mime ?? 'text/plain'),
    bytes: num(p.bytes),
    chunks: num(p.chunks),
    status: r.oneOf('status', EpisodeStatus),
    // Documents made before uploads were counted stood for one.
    uploads: num(p.uploads, 1),
    createdAt: r.time('createdAt'),
    updatedAt: r.time('updatedAt'),
  };
}

/** The Cypher that reads a fact `f` as a FactRow (its subject, object and replacement ids). */
export const FACT_ROW = `f,
  COLLECT { MATCH (f)-[:SUBJECT]->(s:Entity) RETURN s.id LIMIT 1 }[0] AS subjectId,
  COLLECT { MATCH (f)-[:OBJECT]->(o:Entity) RETURN o.id LIMIT 1 }[0] AS objectId,
  COLLECT { MATCH (f)-[:REPLACED_BY]->(g:Fact) RETURN g.id LIMIT 1 }[0] AS replacedById`;
