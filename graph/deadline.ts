import { AsyncLocalStorage } from 'node:async_hooks';
import { AppError } from '../src/domain/errors.js';

/*
 * A request's deadline, as its work's transactions see it (Graph.withDeadline sets it; Graph
 * refuses a transaction once it passed and gives each the time left).
 */

/** The deadline of the request whose work is running (see Graph.withDeadline), on `now`. */
export const deadlines = new AsyncLocalStorage<{ at: number; ms: number }>();

/**
 * Runs `work`, started by a request, as work of its own: its transactions are not bound by
 * the request's deadline (a chat reply that outlives the HTTP request it was asked in).
 */
export const withoutDeadline = <T>(work: () => T): T => deadlines.exit(work);

/** Milliseconds left before the running request's deadline; null outside a request. */
export function requestTimeLeft(): number | null {
  const deadline = deadlines.getStore();
  return deadline ? deadline.at - now() : null;
}

/**
 * Milliseconds on the monotonic clock, for deadlines and durations: the wall clock may step
 * (NTP, a virtual machine resumed after a pause) and end a deadline whose time was not used.
 */
export const now = () => performance.now();

/** The request's deadline passed: no new transaction starts for it. */
export class DeadlineError extends AppError {
  constructor(ms: number) {
    // The same code and details as the HTTP handler's REQUEST_TIMEOUT (src/limits).
    super('REQUEST_TIMEOUT', `Request ran over the time limit of ${ms} ms`, { limit: ms });
  }
}
