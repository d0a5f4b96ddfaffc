/**
 * What the engine tells the metrics (issue 17), each after the transaction that made it true
 * committed: claims and their queue wait, step ends by capability and outcome, retries,
 * expired leases.
 */
import { bounded, metrics } from '../metrics/metrics.js';

/** Capabilities are the tenants' own names: the first 50 are labels, the rest `other`. */
const capabilityLabel = bounded(50);

/** How a step attempt ended, as a label. */
export type StepOutcomeLabel = 'succeeded' | 'retrying' | 'failed' | 'waiting' | 'lost';

export function countClaims(claims: { waitedMs: number | null }[]): void {
  metrics.engine.claims.inc(claims.length);
  for (const c of claims) {
    if (c.waitedMs !== null) metrics.engine.queueWait.observe(c.waitedMs / 1000);
  }
}

export function countStepEnd(capability: string, outcome: StepOutcomeLabel, ms: number): void {
  metrics.engine.stepDuration.observe(
    { capability: capabilityLabel(capability), outcome },
    ms / 1000,
  );
  if (outcome === 'retrying') metrics.engine.retries.inc();
}

export function countLeaseExpiries(n: number): void {
  if (n > 0) metrics.engine.leaseExpiries.inc(n);
}
