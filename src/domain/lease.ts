/**
 * How a lease that ran out is recorded (a run's, a task's or an episode's error, the sweep's
 * log): its worker may have stopped, or be alive and cut off from the database (an outage), so
 * the text says only what is known. `before` + worker + `after`, so Cypher can join it too.
 */
export const LEASE_EXPIRED = {
  before: 'lease expired: worker ',
  after: ' did not renew it (stopped, or could not reach the database)',
} as const;

/** "lease expired: worker w-1 did not renew it (stopped, or could not reach the database)" */
export const leaseExpired = (worker: string | null): string =>
  `${LEASE_EXPIRED.before}${worker}${LEASE_EXPIRED.after}`;
