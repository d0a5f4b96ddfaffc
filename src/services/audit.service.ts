import * as repo from '../../graph/audit.repository.js';
import type { AuditEvent } from '../domain/auth.js';
import { pageRequest, type Page } from '../domain/page.js';
import type { UnitOfWork } from './unit-of-work.js';

/** The audit trail: written by the unit of work and the auth layer, read by admins. */
export class AuditService {
  constructor(private readonly uow: UnitOfWork) {}

  /** Records an event in its own transaction (for attempts whose own transaction failed). */
  record(event: repo.NewAuditEvent): Promise<void> {
    return this.uow.write((tx) => repo.writeAuditEvent(tx, event));
  }

  list(
    tenantId: string,
    filter: repo.AuditFilter,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<AuditEvent>> {
    const page = pageRequest(first, after);
    return this.uow.read((tx) => repo.listAuditEvents(tx, tenantId, filter, page));
  }
}
