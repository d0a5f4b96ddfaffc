import type { Tx } from '../../graph/cypher.js';
import type { Emit } from '../services/unit-of-work.js';

/** One write a step queues: it runs in the transaction that records the step's outcome. */
export type StepWrite = (tx: Tx, emit: Emit) => Promise<void>;

/**
 * Where a step queues what it produces for the graph (LangGraph's pending writes). The engine
 * commits the queue with the step's outcome, in the transaction that ends its run, and only
 * while the step still holds its lease; a failed, aborted or superseded attempt commits none of
 * it. Events the writes emit are published after that commit.
 */
export interface StepWrites {
  /**
   * Queues a write, run in queue order at the step's end; `label` names it in logs. Throws the
   * abort reason once the step was aborted: nothing may be queued after an abort.
   */
  add(label: string, write: StepWrite): void;
}

/** The engine's side of one attempt's queue. */
export class PendingWrites implements StepWrites {
  private readonly queue: { label: string; write: StepWrite }[] = [];

  constructor(private readonly signal: AbortSignal) {}

  add(label: string, write: StepWrite): void {
    if (this.signal.aborted) throw this.signal.reason;
    this.queue.push({ label, write });
  }

  /** Nothing is queued. */
  get none(): boolean {
    return this.queue.length === 0;
  }

  /** The labels queued so far, in order (for logs). */
  get labels(): string[] {
    return this.queue.map((w) => w.label);
  }

  /** Runs every queued write in `tx`, in order. A write that throws rolls the outcome back. */
  async apply(tx: Tx, emit: Emit): Promise<void> {
    for (const { write } of this.queue) await write(tx, emit);
  }
}
