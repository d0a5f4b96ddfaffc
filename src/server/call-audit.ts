import { GraphQLError } from 'graphql';
import type { AuditOutcome } from '../domain/auth.js';
import type { InTurn } from '../limits/turn.js';
import type { AppContext } from './context.js';

/** One call to /mcp, /a2a or /documents as its audit event says it. */
export interface CallAudit {
  operation: string;
  outcome: AuditOutcome;
  code: string | null;
  targetIds?: string[];
}

/**
 * Writes the audit event of a call to a route other than /graphql (its mutations write their
 * own) in one of its tenant's turns, as the call's own work (`inTurn`); never throws. A tenant
 * with no turn to give (LIMIT_EXCEEDED) gets none written, as a /graphql request refused its
 * turn leaves none: a flood of refused calls must not write past the tenant's share.
 */
export async function auditCall(ctx: AppContext, inTurn: InTurn, call: CallAudit): Promise<void> {
  const principal = ctx.principal!;
  const { operation, outcome, code, targetIds = [] } = call;
  try {
    await inTurn(() =>
      ctx.services.audit.record({
        tenantId: principal.tenantId,
        operation,
        actor: principal.keyName,
        actorKeyId: principal.keyId,
        targetIds,
        outcome,
        code,
      }),
    );
  } catch (err) {
    const refused =
      err instanceof GraphQLError ? err.extensions.code : (err as { code?: unknown }).code;
    if (refused === 'LIMIT_EXCEEDED') {
      ctx.logger.warn({ operation }, 'no audit event for a call: its tenant had no turn free');
    } else {
      ctx.logger.error({ err, operation }, 'could not write the audit event of a call');
    }
  }
}
