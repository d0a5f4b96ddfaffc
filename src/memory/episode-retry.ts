import type { Tx } from '../../graph/cypher.js';
import { requeueFailedEpisodes } from '../../graph/memory/retry.repository.js';
import type { BacklogLimits } from '../domain/backlog.js';
import type { Episode } from '../domain/memory.js';
import type { MemoryView } from '../domain/memory-search.js';
import { refuseOverPendingEpisodes } from '../services/backlog.js';
import type { Emit } from '../services/unit-of-work.js';
import { publishProgress } from './ingest/ingest.js';

/**
 * Takes FAILED episodes back for ingestion in the caller's transaction (`ids`, or with null the
 * oldest `limit` that `view` may see): LIMIT_EXCEEDED when `adding` of them would pass
 * TENANT_MAX_PENDING_EPISODES; their documents' progress is published. retryEpisodes, and the
 * re-upload of a document with FAILED chunks.
 */
export async function takeBackFailed(
  tx: Tx,
  emit: Emit,
  tenantId: string,
  backlog: BacklogLimits | undefined,
  ask: {
    operation: string;
    ids: string[] | null;
    adding: number;
    limit: number;
    view?: MemoryView;
  },
): Promise<Episode[]> {
  await refuseOverPendingEpisodes(tx, tenantId, backlog, ask.operation, ask.adding);
  const taken = await requeueFailedEpisodes(tx, tenantId, ask.ids, ask.limit, ask.view);
  for (const documentId of taken.documentIds) await publishProgress(tx, emit, tenantId, documentId);
  return taken.episodes;
}
