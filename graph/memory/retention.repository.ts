import type { EpisodeKind } from '../../src/domain/memory.js';
import type { Tx } from '../cypher.js';
import { iso } from '../mappers.js';

/** A tenant's rule: ingested episodes of `kind` are forgotten `days` after they happened. */
export interface RetentionRule {
  tenantId: string;
  kind: EpisodeKind;
  days: number;
  updatedAt: string;
}

type RuleRow = { tenantId: string; kind: EpisodeKind; days: number; updatedAt: unknown };
const toRule = (r: RuleRow): RetentionRule => ({ ...r, updatedAt: iso(r.updatedAt) });

/** Sets the tenant's rule for `kind`, or removes it when `days` is null. */
export async function setRetentionRule(
  tx: Tx,
  tenantId: string,
  kind: EpisodeKind,
  days: number | null,
): Promise<void> {
  await tx.run({
    cypher:
      days === null
        ? 'MATCH (r:RetentionRule {tenantId: $tenantId, kind: $kind}) DELETE r'
        : `MERGE (r:RetentionRule {tenantId: $tenantId, kind: $kind})
           SET r.days = $days, r.updatedAt = datetime()`,
    params: { tenantId, kind, days },
  });
}

/** The rules of one tenant, or of every tenant when `tenantId` is null (the sweep's). */
export async function retentionRules(tx: Tx, tenantId: string | null): Promise<RetentionRule[]> {
  const rows = await tx.run<RuleRow>({
    cypher: `
      MATCH (r:RetentionRule) WHERE $tenantId IS NULL OR r.tenantId = $tenantId
      RETURN r.tenantId AS tenantId, r.kind AS kind, r.days AS days, r.updatedAt AS updatedAt
      ORDER BY tenantId, kind`,
    params: { tenantId },
  });
  return rows.map(toRule);
}
