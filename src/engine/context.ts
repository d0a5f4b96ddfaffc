/** What the scheduler's parts share: the worker's identity, its tenants, and how it writes. */
import type { Tx } from '../../graph/cypher.js';
import type { QueueCursor } from '../../graph/queue-head.js';
import type { TenantScope } from '../../graph/engine-scope.js';
import type { Logger } from '../logger.js';
import type { Emit, UnitOfWork } from '../services/unit-of-work.js';
import type { Group } from './group-commit.js';

export interface EngineContext {
  readonly workerId: string;
  /** The tenants this scheduler serves; null serves all. */
  readonly tenantIds: TenantScope;
  /** Its place in the claims' round robin over tenants (graph/queue-head.ts: fairHead). */
  readonly queue: QueueCursor;
  readonly uow: UnitOfWork;
  readonly logger: Logger;
  /** Runs work in one transaction, setting aside rows the mappers refuse (quarantine.ts). */
  write<T>(work: (tx: Tx, emit: Emit) => Promise<T>): Promise<T>;
  /**
   * Writes a step's end: like `write`, but grouped with other ends (group-commit.ts); `group`
   * is the group this attempt shares its transaction with (null: alone).
   */
  end<T>(work: (tx: Tx, emit: Emit, group: Group | null) => Promise<T>): Promise<T>;
}
