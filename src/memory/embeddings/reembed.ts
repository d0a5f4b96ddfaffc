import type { Graph } from '../../../graph/graph.js';
import {
  countMissingVectors,
  missingVectors,
  setVectors,
  VECTOR_LABELS,
  type VectorLabel,
} from '../../../graph/memory/vector.repository.js';
import type { Embedder } from './embedder.js';

export interface ReembedProgress {
  label: VectorLabel;
  /** Nodes of the label embedded so far in this run. */
  done: number;
  /** Nodes of the label that lacked a vector when the run reached it. */
  total: number;
}

export interface ReembedOptions {
  /** Texts per embed call and per write transaction. */
  batchSize?: number;
  /** Only this tenant's nodes; all tenants when unset. */
  tenantId?: string;
  onProgress?: (progress: ReembedProgress) => void;
  signal?: AbortSignal;
}

/**
 * Embeds every Entity, Fact and Episode that lacks the embedder's vector, in batches, each
 * batch written in its own transaction. Resumable: what a stopped run wrote stays, and the
 * next run picks up only the nodes still missing a vector.
 * @returns how many nodes got a vector, per label.
 */
export async function reembed(
  graph: Graph,
  embedder: Embedder,
  options: ReembedOptions = {},
): Promise<Record<VectorLabel, number>> {
  const batchSize = options.batchSize ?? 64;
  const { tenantId, signal } = options;
  const counts = { Entity: 0, Fact: 0, Episode: 0 };
  for (const label of VECTOR_LABELS) {
    const total = await graph.read((tx) => countMissingVectors(tx, label, embedder, tenantId));
    options.onProgress?.({ label, done: 0, total });
    let after = '';
    for (;;) {
      signal?.throwIfAborted();
      const rows = await graph.read((tx) =>
        missingVectors(tx, label, embedder, batchSize, after, tenantId),
      );
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.id;
      const vectors = await embedder.embed(
        rows.map((r) => r.text),
        signal,
      );
      const byTenant = new Map<string, { id: string; vector: number[] }[]>();
      rows.forEach((row, i) => {
        const list = byTenant.get(row.tenantId) ?? [];
        list.push({ id: row.id, vector: vectors[i]! });
        byTenant.set(row.tenantId, list);
      });
      await graph.write(async (tx) => {
        for (const [tenant, list] of byTenant) await setVectors(tx, tenant, label, list, embedder);
      });
      counts[label] += rows.length;
      options.onProgress?.({ label, done: counts[label], total: Math.max(total, counts[label]) });
    }
  }
  return counts;
}
