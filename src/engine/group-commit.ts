/**
 * Group commit of steps' ends. Ending a step is half a dozen small statements and a commit,
 * and under load each step's end waited its turn for round trips and a commit of its own
 * (`npm run bench:orchestration`). Ends that arrive while a group is committing now wait for
 * it and then share one transaction, their statements sent side by side (Bolt pipelines them),
 * and the calls of one kind they make at once sent as one statement (graph/batch.ts: Neo4j runs
 * a transaction's statements one at a time, so a group of thirty ends costs about what one does).
 *
 * Contract: each piece of work is what it would be alone: it reads and locks its own step
 * under its lease and returns null when the lease is lost. Pieces of one group run concurrently
 * in one transaction, so a piece must not depend on another piece's writes (steps' ends do not:
 * a dependant two ends unblock is promoted by whichever end reads it last, and a promotion
 * changes a step only from the status it read). The driver may retry the whole transaction
 * (every piece must be safe to run again, as in any write). If the group fails for any other
 * reason, each piece runs again alone, so one step's error stays that step's. One group per
 * process sends statements at a time, of at most MAX_GROUP pieces, in arrival order (two groups
 * sending at once would lock the same agents and dependants in different orders and deadlock);
 * the rest wait (back-pressure: a scheduler's step has not ended until its piece committed).
 * The next group starts once the one before has sent its last statement, while that one
 * commits: a committing group takes no more locks, so the next can only wait for them, and
 * what it must read of the other's writes it reads under a lock (claims, promotions, settling).
 * A transaction the driver runs again, or a failed group's pieces run again alone, do send
 * beside the next group; a deadlock that makes is detected by Neo4j and retried like any. Each
 * piece runs in the trace context it was given in. Pieces may share one call (`Group.share`):
 * the ends of a group start the queue's head in the slots they free, in every scheduler of the
 * process, with one claim (hand-off.ts).
 */
import { context, type Context } from '@opentelemetry/api';
import type { Tx } from '../../graph/cypher.js';
import type { Emit } from '../services/unit-of-work.js';

/** A piece of work; `group` is the group it shares its transaction with (null: alone). */
type Work<T> = (tx: Tx, emit: Emit, group: Group | null) => Promise<T>;
export type Writer = <T>(work: (tx: Tx, emit: Emit) => Promise<T>) => Promise<T>;

/** Ends one transaction takes at most: enough to keep up with 4 busy schedulers. */
const MAX_GROUP = 32;

interface Piece {
  work: Work<unknown>;
  write: Writer;
  context: Context;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export class GroupCommit {
  private readonly waiting: Piece[] = [];
  private sending = false;

  /** Runs `work` in a transaction of `write`, alone or with the ends waiting beside it. */
  run<T>(work: Work<T>, write: Writer): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const piece = { work, write, context: context.active(), reject };
      this.waiting.push({ ...piece, resolve: resolve as (value: unknown) => void });
      this.next();
    });
  }

  /** Starts the next group unless one is sending its statements. */
  private next(): void {
    if (this.sending || this.waiting.length === 0) return;
    this.sending = true;
    // Called when the group has sent its last statement (its commit may still be under way),
    // or once it has settled, whichever comes first.
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.sending = false;
      this.next();
    };
    void this.commit(this.waiting.splice(0, MAX_GROUP), release).finally(release);
  }

  private async commit(group: Piece[], release: () => void): Promise<void> {
    if (group.length === 1) return alone(group[0]!, release);
    let values: unknown[];
    try {
      values = await group[0]!.write(async (tx, emit) => {
        const shared = new Group(tx, emit, group.length);
        const settled = await Promise.allSettled(
          group.map((p) =>
            context.with(p.context, () => p.work(tx, emit, shared).finally(() => shared.left())),
          ),
        );
        const failed = settled.find((s) => s.status === 'rejected');
        if (failed) throw failed.reason;
        release();
        return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value);
      });
    } catch {
      await Promise.all(group.map((piece) => alone(piece)));
      return;
    }
    group.forEach((piece, i) => piece.resolve(values[i]));
  }
}

/** The pieces that share one transaction, and the calls they share (`share`). */
export class Group {
  private readonly asked = new Map<string, Share>();
  private waiting = 0;

  constructor(
    private readonly tx: Tx,
    private readonly emit: Emit,
    /** Pieces still running their work and not waiting in `share`. */
    private running: number,
  ) {}

  /**
   * One call for all the pieces that ask with the same key: it waits until every other piece
   * of the group has asked too or finished its work (so `take` reads all of the group's
   * writes), then calls `take` once per key, keys one after another in the order first asked,
   * with what each asker wants in the order they asked, and gives each asker the result at its
   * place (`mine`) and every result of every key (`all`). Every piece shares calls of one
   * type. A `take` that fails fails the pieces that asked for it.
   */
  share<W, R>(
    key: string,
    want: W,
    take: (tx: Tx, emit: Emit, wants: W[]) => Promise<(R | undefined)[]>,
  ): Promise<{ mine: R | undefined; all: R[] }> {
    return new Promise((resolve, reject) => {
      const share = this.asked.get(key) ?? { take, askers: [] };
      share.askers.push({ want, resolve: resolve as Asker['resolve'], reject });
      this.asked.set(key, share as Share);
      this.waiting++;
      this.running--;
      void this.release();
    });
  }

  /** A piece's work has ended (after any shares it asked for): it no longer holds the rest up. */
  left(): void {
    this.running--;
    void this.release();
  }

  private async release(): Promise<void> {
    if (this.running > 0 || this.waiting === 0) return;
    const shares = [...this.asked.values()];
    this.asked.clear();
    // The askers go on with their work once their share is answered.
    this.running += this.waiting;
    this.waiting = 0;
    const results: unknown[][] = [];
    for (const share of shares) {
      try {
        const wants = share.askers.map((a) => a.want);
        results.push(await share.take(this.tx, this.emit, wants));
      } catch (err) {
        results.push([]);
        for (const a of share.askers) a.reject(err);
        share.askers.length = 0;
      }
    }
    const all = results.flat().filter((r) => r !== undefined);
    shares.forEach((share, i) =>
      share.askers.forEach((a, j) => a.resolve({ mine: results[i]![j], all })),
    );
  }
}

interface Asker {
  want: unknown;
  resolve(value: { mine: unknown; all: unknown[] }): void;
  reject(err: unknown): void;
}
interface Share {
  take(tx: Tx, emit: Emit, wants: unknown[]): Promise<unknown[]>;
  askers: Asker[];
}

function alone(piece: Piece, release?: () => void): Promise<void> {
  const work = (tx: Tx, emit: Emit) =>
    piece.work(tx, emit, null).then((value) => {
      release?.();
      return value;
    });
  return context.with(piece.context, () => piece.write(work)).then(piece.resolve, piece.reject);
}

const perProcess = new WeakMap<object, GroupCommit>();

/** The group commit of the schedulers sharing `owner` (their UnitOfWork: one per process). */
export function groupCommitOf(owner: object): GroupCommit {
  let group = perProcess.get(owner);
  if (!group) perProcess.set(owner, (group = new GroupCommit()));
  return group;
}
