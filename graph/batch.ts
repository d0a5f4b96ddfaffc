/**
 * One statement for the calls of one kind that several callers make on one transaction at the
 * same moment: the pieces of a group commit (src/engine/group-commit.ts) each end a step with
 * the same half-dozen statements, and Neo4j runs a transaction's statements one at a time, so
 * thirty ends cost thirty of each where one UNWIND over thirty rows costs little more than one.
 *
 * Contract: a call joins the batch of its kind (`runAll`) on its transaction until the pending
 * promise jobs have run (as DataLoader does), so callers that proceed in step share statements
 * and a caller alone sends its own, one tick later. `runAll` gets the items in call order and
 * returns one result per item, in that order. Items whose keys meet (the same task ended, or
 * numbered, twice) are never in one statement: rows of one statement do not reliably see each
 * other's writes, so such a batch runs in rounds, one after another, each round's keys
 * distinct, and every caller sees what it would have seen with its own statements sent in call
 * order. A failed statement fails every caller in it (a group commit then runs each piece again
 * alone). Nothing is batched across transactions.
 */
import type { Tx } from './cypher.js';

export type RunAll<I, O> = (tx: Tx, items: I[]) => Promise<O[]>;

interface Call<I, O> {
  item: I;
  keys: readonly string[];
  resolve(value: O): void;
  reject(err: unknown): void;
}

const pending = new WeakMap<Tx, Map<RunAll<never, unknown>, Call<never, unknown>[]>>();

/** Runs `item` with the calls of the same `runAll` made on `tx` in the same tick. */
export function batched<I, O>(
  tx: Tx,
  runAll: RunAll<I, O>,
  item: I,
  keys: readonly string[],
): Promise<O> {
  return new Promise<O>((resolve, reject) => {
    let kinds = pending.get(tx);
    if (!kinds) pending.set(tx, (kinds = new Map()));
    const calls = kinds.get(runAll as RunAll<never, unknown>) as Call<I, O>[] | undefined;
    const call = { item, keys, resolve, reject };
    if (calls) return void calls.push(call);
    kinds.set(runAll as RunAll<never, unknown>, [call] as Call<never, unknown>[]);
    void Promise.resolve().then(() =>
      process.nextTick(() => {
        const batch = kinds.get(runAll as RunAll<never, unknown>) as Call<I, O>[];
        kinds.delete(runAll as RunAll<never, unknown>);
        void send(tx, runAll, batch);
      }),
    );
  });
}

async function send<I, O>(tx: Tx, runAll: RunAll<I, O>, calls: Call<I, O>[]): Promise<void> {
  for (const round of rounds(calls)) {
    try {
      const results = await runAll(
        tx,
        round.map((c) => c.item),
      );
      round.forEach((c, i) => c.resolve(results[i] as O));
    } catch (err) {
      round.forEach((c) => c.reject(err));
    }
  }
}

/** The calls in order, split where a call's keys meet those of a call before it in its round. */
function rounds<C extends { keys: readonly string[] }>(calls: C[]): C[][] {
  const out: C[][] = [];
  let round: C[] = [];
  const seen = new Set<string>();
  for (const call of calls) {
    if (call.keys.some((k) => seen.has(k))) {
      out.push(round);
      round = [];
      seen.clear();
    }
    round.push(call);
    call.keys.forEach((k) => seen.add(k));
  }
  out.push(round);
  return out;
}
