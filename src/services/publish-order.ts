/**
 * Publishes transactions' events in the order their commits were requested. Events are
 * published after commit, but two transactions' commits resolve in whatever order the driver's
 * answers arrive: a step's COMPLETED could reach subscribers after its dependant's READY, which
 * the dependant's transaction could only write because it read that committed COMPLETED. A
 * transaction that read another's writes asked to commit after that one's commit had returned,
 * so ordering by commit request keeps every cause before its effect.
 *
 * `take()` is called as the last thing before the commit; `settle(ticket, publish)` once the
 * commit has returned (with the events) or failed (without). Nothing here waits: a caller never
 * blocks on another's commit, only its events do.
 */
export class PublishOrder {
  private nextTicket = 0;
  private head = 0;
  private readonly settled = new Map<number, (() => void) | undefined>();

  take(): number {
    return this.nextTicket++;
  }

  /** Marks `ticket` done; runs its `publish`, and later tickets' ones, once all before it are done. */
  settle(ticket: number, publish?: () => void): void {
    this.settled.set(ticket, publish);
    while (this.settled.has(this.head)) {
      const run = this.settled.get(this.head);
      this.settled.delete(this.head);
      this.head++;
      run?.();
    }
  }

  /** Tickets taken whose commit has not settled yet (for tests). */
  get pending(): number {
    return this.nextTicket - this.head;
  }
}
