import type { RunnableConfig } from '@langchain/core/runnables';
import {
  BaseCheckpointSaver,
  WRITES_IDX_MAP,
  compareWritesSortKeys,
  copyCheckpoint,
  getCheckpointId,
  writesSortKey,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  type PendingWrite,
  type SerializerProtocol,
} from '@langchain/langgraph-checkpoint';
import {
  deleteThreadCheckpoints,
  listCheckpoints,
  putCheckpoint,
  putCheckpointWrites,
  type CheckpointQuery,
  type StoredCheckpoint,
} from '../../../graph/checkpoint.repository.js';
import type { UnitOfWork } from '../../services/unit-of-work.js';
import { DEFAULT_CHECKPOINT_RETENTION, type CheckpointRetention } from './config.js';
import { messageCount, nextNodes } from './summary.js';

export interface CheckpointScope {
  /** Read and write transactions (src/services/unit-of-work.ts). */
  uow: UnitOfWork;
  /** Every checkpoint carries it; every query filters on it. */
  tenantId: string;
  /** The Run writing checkpoints; null: a read-only saver (listing, inspecting). */
  runId: string | null;
}

/**
 * Thrown by `put`/`putWrites` when the saver may not write: its Run is not RUNNING any more
 * (it ended, was released or abandoned, e.g. its worker lost the lease), is unknown in the
 * tenant, or the saver is read-only (runId null). Nothing was written.
 */
export class CheckpointRefusedError extends Error {
  constructor(
    readonly runId: string | null,
    what: string,
  ) {
    super(
      runId === null
        ? `Refused to ${what}: this checkpoint saver is read-only (its scope has no runId); create it with the RUNNING run's id to write`
        : `Refused to ${what}: run "${runId}" is not RUNNING in this tenant (it ended or lost its lease), so it may not add checkpoints a retry would resume from`,
    );
    this.name = 'CheckpointRefusedError';
  }
}

/** Writes are fetched this many at a time when `list` must filter on metadata. */
const PAGE = 100;

/**
 * LangGraph's checkpoint saver over Neo4j (issue 13): checkpoints are
 * `(:Run)-[:CHECKPOINTED]->(:Checkpoint)` nodes, pending writes `(:CheckpointWrite)-[:FOR]->`
 * them (graph/checkpoint.repository.ts); values are serialised with `this.serde` (type tag and
 * bytes). Semantics are MemorySaver's, with these promises:
 *
 * - **Ordering.** `getTuple` without a checkpoint_id returns the newest checkpoint of the
 *   (thread, namespace) by checkpoint id (LangGraph's ids are time-ordered); `list` yields by
 *   thread, namespace, then newest first, honouring `before`, `limit` and `filter` (every
 *   filter key strictly equal in the metadata). Pending writes come in `writesSortKey` order
 *   (task path, task id, idx), the order live execution applies them in.
 * - **Idempotence.** `put` of an existing (thread, ns, checkpoint_id) replaces it. `putWrites`
 *   keys each write by (task id, idx): a regular write already stored is kept (a repeated call
 *   changes nothing), a special write (idx < 0: error, interrupt, ...) replaces. `putWrites`
 *   for a checkpoint that does not exist throws (nothing is written).
 * - **Only the live attempt writes.** `put`/`putWrites` commit only while the scope's Run is
 *   RUNNING (checked under the run's lock, in the same statement as the write) and throw
 *   {@link CheckpointRefusedError} otherwise: after the run ended, or its worker lost the lease,
 *   nothing it does can add a checkpoint a retry would resume from. A read-only saver
 *   (runId null) refuses every write.
 * - **Retention.** `put` deletes, in its transaction, the thread's checkpoints in that
 *   namespace beyond the newest `keepPerThread` (with their writes), except one a fork starts
 *   from (FORKED_FROM). The age rule is `pruneCheckpoints` (retention.ts).
 * - **Tenancy.** Everything is scoped to `tenantId`: another tenant's checkpoints are never
 *   read, listed, replaced or deleted, even with the same thread id. `deleteThread` deletes
 *   the tenant's whole thread (all namespaces, fork sources too: the caller asked for it).
 * - **Failure.** Neo4j errors propagate (the unit of work retries transient ones); a failed
 *   `put` wrote nothing. v < 4 checkpoints (pending sends migration) are not supported: this
 *   saver only ever stored v4.
 */
export class Neo4jCheckpointSaver extends BaseCheckpointSaver {
  private readonly retention: CheckpointRetention;
  /**
   * This saver's puts not yet committed, by checkpoint id. LangGraph does not wait for a put
   * before the step's tasks report their writes (even with durability 'sync', which waits only
   * at the step's end), so a fast task's putWrites can come while its checkpoint is still being
   * written; it waits for that put here instead of finding no checkpoint.
   */
  private readonly putting = new Map<string, Promise<unknown>>();

  constructor(
    private readonly scope: CheckpointScope,
    retention?: Partial<CheckpointRetention>,
    serde?: SerializerProtocol,
  ) {
    super(serde);
    this.retention = { ...DEFAULT_CHECKPOINT_RETENTION, ...retention };
  }

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const threadId = config.configurable?.thread_id as string | undefined;
    if (threadId === undefined) return undefined;
    const checkpointId = getCheckpointId(config);
    const [found] = await this.read({
      threadId,
      ns: (config.configurable?.checkpoint_ns as string | undefined) ?? '',
      checkpointId: checkpointId || undefined,
      skip: 0,
      limit: 1,
    });
    return found ? this.toTuple(found, await this.metadataOf(found)) : undefined;
  }

  async *list(
    config: RunnableConfig,
    options?: CheckpointListOptions,
  ): AsyncGenerator<CheckpointTuple> {
    const { before, filter } = options ?? {};
    let left = options?.limit;
    if (left !== undefined && left <= 0) return;
    const query = {
      threadId: (config.configurable?.thread_id as string | undefined) || undefined,
      ns: config.configurable?.checkpoint_ns as string | undefined,
      checkpointId: (config.configurable?.checkpoint_id as string | undefined) || undefined,
      before: (before?.configurable?.checkpoint_id as string | undefined) || undefined,
    };
    // Without a filter the limit goes to Neo4j; with one, pages are read until it is met.
    const page = filter || left === undefined ? PAGE : Math.min(left, PAGE);
    for (let skip = 0; ; skip += page) {
      const rows = await this.read({ ...query, skip, limit: page });
      for (const row of rows) {
        const metadata = await this.metadataOf(row);
        const meta = metadata as Record<string, unknown>;
        if (filter && !Object.entries(filter).every(([k, v]) => meta[k] === v)) continue;
        yield await this.toTuple(row, metadata);
        if (left !== undefined && --left <= 0) return;
      }
      if (rows.length < page) return;
    }
  }

  async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    _newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    const threadId = config.configurable?.thread_id as string | undefined;
    if (threadId === undefined) {
      throw new Error(
        'Failed to put checkpoint: the RunnableConfig has no "thread_id" in "configurable"; pass one, e.g. { configurable: { thread_id: taskId } }',
      );
    }
    const runId = this.writer('put a checkpoint');
    const ns = (config.configurable?.checkpoint_ns as string | undefined) ?? '';
    const prepared = copyCheckpoint(checkpoint);
    const [[type, bytes], [metadataType, metadataBytes]] = await Promise.all([
      this.serde.dumpsTyped(prepared),
      this.serde.dumpsTyped(metadata),
    ]);
    const record = {
      threadId,
      ns,
      checkpointId: checkpoint.id,
      parentCheckpointId: (config.configurable?.checkpoint_id as string | undefined) ?? null,
      type,
      checkpoint: bytes,
      metadataType,
      metadata: metadataBytes,
      step: typeof metadata.step === 'number' ? metadata.step : 0,
      source: String(metadata.source ?? ''),
      next: nextNodes(prepared),
      messageCount: messageCount(prepared),
      bytes: bytes.byteLength + metadataBytes.byteLength,
    };
    const { uow, tenantId } = this.scope;
    const written = uow.write(async (tx) => {
      if (!(await putCheckpoint(tx, tenantId, runId, record, this.retention.keepPerThread))) {
        throw new CheckpointRefusedError(runId, 'put a checkpoint');
      }
    });
    this.putting.set(checkpoint.id, written);
    try {
      await written;
    } finally {
      if (this.putting.get(checkpoint.id) === written) this.putting.delete(checkpoint.id);
    }
    return {
      configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpoint.id },
    };
  }

  async putWrites(
    config: RunnableConfig,
    writes: PendingWrite[],
    taskId: string,
    taskPath?: string,
  ): Promise<void> {
    const threadId = config.configurable?.thread_id as string | undefined;
    const checkpointId = config.configurable?.checkpoint_id as string | undefined;
    if (threadId === undefined || checkpointId === undefined) {
      throw new Error(
        'Failed to put writes: the RunnableConfig needs "thread_id" and "checkpoint_id" in "configurable" (the checkpoint the writes belong to)',
      );
    }
    const runId = this.writer('put pending writes');
    const key = {
      threadId,
      ns: (config.configurable?.checkpoint_ns as string | undefined) ?? '',
      checkpointId,
    };
    const records = await Promise.all(
      writes.map(async ([channel, value], idx) => {
        const [type, bytes] = await this.serde.dumpsTyped(value);
        return {
          taskId,
          idx: WRITES_IDX_MAP[channel] || idx,
          channel,
          type,
          value: bytes,
          taskPath: taskPath ?? '',
        };
      }),
    );
    // Its checkpoint first, if this saver is still writing it (a failed put fails it here too).
    await this.putting.get(checkpointId);
    const { uow, tenantId } = this.scope;
    const outcome = await uow.write(async (tx) => {
      const result = await putCheckpointWrites(tx, tenantId, runId, key, records);
      if (result === 'refused') throw new CheckpointRefusedError(runId, 'put pending writes');
      return result;
    });
    if (outcome === 'missing') {
      throw new Error(
        `Failed to put writes: thread "${threadId}" has no checkpoint "${checkpointId}" in namespace "${key.ns}" (put it first)`,
      );
    }
  }

  async deleteThread(threadId: string): Promise<void> {
    const { uow, tenantId } = this.scope;
    await uow.write((tx) => deleteThreadCheckpoints(tx, tenantId, threadId));
  }

  /** The run id writes need, or a refusal for a read-only saver. */
  private writer(what: string): string {
    if (this.scope.runId === null) throw new CheckpointRefusedError(null, what);
    return this.scope.runId;
  }

  private read(q: CheckpointQuery): Promise<StoredCheckpoint[]> {
    const { uow, tenantId } = this.scope;
    return uow.read((tx) => listCheckpoints(tx, tenantId, q));
  }

  private metadataOf(s: StoredCheckpoint): Promise<CheckpointMetadata> {
    return this.serde.loadsTyped(s.metadataType, s.metadata) as Promise<CheckpointMetadata>;
  }

  private async toTuple(
    s: StoredCheckpoint,
    metadata: CheckpointMetadata,
  ): Promise<CheckpointTuple> {
    const ordered = [...s.writes].sort((a, b) =>
      compareWritesSortKeys(
        writesSortKey(a.taskPath, a.taskId, a.idx),
        writesSortKey(b.taskPath, b.taskId, b.idx),
      ),
    );
    const pendingWrites: CheckpointPendingWrite[] = await Promise.all(
      ordered.map(async (w): Promise<CheckpointPendingWrite> => [
        w.taskId,
        w.channel,
        await this.serde.loadsTyped(w.type, w.value),
      ]),
    );
    const base = { thread_id: s.threadId, checkpoint_ns: s.ns };
    const tuple: CheckpointTuple = {
      config: { configurable: { ...base, checkpoint_id: s.checkpointId } },
      checkpoint: (await this.serde.loadsTyped(s.type, s.checkpoint)) as Checkpoint,
      metadata,
      pendingWrites,
    };
    if (s.parentCheckpointId !== null) {
      tuple.parentConfig = { configurable: { ...base, checkpoint_id: s.parentCheckpointId } };
    }
    return tuple;
  }
}
