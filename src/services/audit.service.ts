import * as repo from '../../graph/audit.repository.js';
import { SYSTEM_TENANT, type AuditEvent } from '../domain/auth.js';
import { pageRequest, type PageInput, type Page } from '../domain/page.js';
import type { UnitOfWork } from './unit-of-work.js';

export interface SweepOptions {
  batch?: number;
  now?: number;
  /** Only these tenants' events (a test's own); default every tenant's. */
  tenantIds?: string[];
}

/** The audit trail: written by the unit of work and the auth layer, read by admins. */
export class AuditService {
  constructor(private readonly uow: UnitOfWork) {}

  /** Records an event in its own transaction (for attempts whose own transaction failed). */
  record(event: repo.NewAuditEvent): Promise<void> {
    return this.uow.write((tx) => repo.writeAuditEvent(tx, event));
  }

  /**
   * Deletes audit events older than `retentionDays`, of `tenantIds` (default: every tenant's),
   * in batches of `batch` (one transaction each, so a large backlog never makes one huge
   * transaction). Returns how many it deleted.
   */
  async sweep(
    retentionDays: number,
    { batch = 1_000, now = Date.now(), tenantIds }: SweepOptions = {},
  ): Promise<number> {
    const cutoff = new Date(now - retentionDays * 86_400_000).toISOString();
    const tenants =
      tenantIds ?? (await this.uow.read((tx) => repo.auditTenantIds(tx, SYSTEM_TENANT)));
    let deleted = 0;
    for (const tenantId of tenants) {
      for (;;) {
        const n = await this.uow.write((tx) =>
          repo.deleteAuditEventsBefore(tx, tenantId, cutoff, batch),
        );
        deleted += n;
        if (n < batch) break;
      }
    }
    return deleted;
  }

  list(tenantId: string, filter: repo.AuditFilter, input: PageInput): Promise<Page<AuditEvent>> {
    const page = pageRequest(input);
    return this.uow.read((tx) => repo.listAuditEvents(tx, tenantId, filter, page));
  }
}
