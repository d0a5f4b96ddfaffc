import type { Graph } from '../graph/graph.js';
import type { CypherQuery, Row, Tx } from '../graph/cypher.js';
import type { NodeLike } from '../graph/page.js';
import type { PubSub } from '../subscriptions/pubsub.js';
import { UnitOfWork, type Emit } from '../src/services/unit-of-work.js';
import { statementName as nameFromStack } from '../graph/statement-name.js';

/** Wall-clock milliseconds with sub-millisecond precision, on one clock for the whole run. */
export const now = () => performance.timeOrigin + performance.now();

/**
 * A statement's name in the profile: the repository function that sent it, as the metrics and
 * traces name it (graph/statement-name.ts reads it from the stack), without its file.
 */
export function statementName(cypher: string): string {
  return nameFromStack(cypher).split('.').pop()!;
}

/** A transaction is named after its first statement: that is where the engine's units differ. */
const TRANSACTIONS: Record<string, string> = {
  promotableTasks: 'promote', // the tick's
  promotableDependantBatch: 'promote', // a step end's
  lockEngineLimit: 'claim',
  countRunning: 'claim',
  claimReadyTasks: 'claim',
  endRunBatch: 'finish',
  expireLeases: 'sweep leases',
  settleableParents: 'sweep parents',
};

interface Attempt {
  statements: { name: string; ms: number; at: number }[];
  /** What Neo4j reported its statements took (Graph.onServerTime). */
  serverMs: number;
  firstAt?: number;
  lastEndAt?: number;
  /** Tasks an endRun in this attempt moved to COMPLETED. */
  completed: string[];
}

export interface Tally {
  count: number;
  ms: number;
  /** Of `ms`, the time Neo4j reported executing the statements (whole ms each). */
  serverMs: number;
}

export interface TxTally extends Tally {
  statements: number;
  /** Transactions that changed something: a promotion, a claim, a completion. */
  productive: number;
  /** Driver retries (a deadlock or another transient error made it run the work again). */
  retries: number;
  failed: number;
  /** From the work returning to the commit being acknowledged. */
  commitMs: number;
  /** From the transaction asked for to its first statement sent: the pool, BEGIN, the work's JS. */
  beforeFirstMs: number;
  /** Between its statements: the work's JS from one statement's answer to the next sent. */
  betweenMs: number;
}

/** What the instrumented unit of work saw: statements and transactions, and step commits. */
export class Probe {
  readonly statements = new Map<string, Tally>();
  readonly transactions = new Map<string, TxTally>();
  /** Task id -> when the transaction whose endRun made it COMPLETED was acknowledged. */
  readonly committed = new Map<string, number>();
  /** "statement: error code" -> how many times that statement failed (the driver then retries). */
  readonly errors = new Map<string, { count: number; example: string }>();
  /** The attempt each transaction the probe wrapped belongs to, for Neo4j's own timings. */
  private readonly attempts = new WeakMap<Tx, Attempt>();
  /** Called with each task id as its completion commits. */
  onCommitted: (taskId: string) => void = () => {};

  reset(): void {
    this.statements.clear();
    this.transactions.clear();
    this.committed.clear();
    this.errors.clear();
    this.onCommitted = () => {};
  }

  /** Adds what Neo4j reported a statement of one of the probe's transactions took. */
  serverTime(statement: string, ms: number, tx: Tx): void {
    const attempt = this.attempts.get(tx);
    if (!attempt) return;
    attempt.serverMs += ms;
    // Named by the graph as the metrics name it (`claim.repository.claimReadyTasks`).
    const name = statement.split('.').pop()!;
    const t = this.statements.get(name) ?? { count: 0, ms: 0, serverMs: 0 };
    t.serverMs += ms;
    this.statements.set(name, t);
  }

  wrap(tx: Tx, attempt: Attempt): Tx {
    this.attempts.set(tx, attempt);
    return {
      run: async <T extends Row>(q: CypherQuery) => {
        const name = statementName(q.cypher);
        const start = now();
        attempt.firstAt ??= start;
        let rows: T[];
        try {
          rows = await tx.run<T>(q);
        } catch (err) {
          const key = `${name}: ${(err as { code?: string }).code ?? (err as Error).name}`;
          const seen = this.errors.get(key) ?? { count: 0, example: (err as Error).message };
          seen.count++;
          this.errors.set(key, seen);
          throw err;
        }
        attempt.lastEndAt = now();
        attempt.statements.push({ name, ms: attempt.lastEndAt - start, at: start });
        if (name === 'endRunBatch') {
          for (const row of rows) {
            const t = (row as { t?: NodeLike }).t;
            if (t?.properties.status === 'COMPLETED')
              attempt.completed.push(String(t.properties.id));
          }
        }
        return rows;
      },
    };
  }

  record(attempt: Attempt, attempts: number, start: number, end: number, ok: boolean): void {
    for (const s of attempt.statements) add(this.statements, s.name, s.ms);
    const first = attempt.statements[0]?.name ?? '(no statement)';
    const kind = TRANSACTIONS[first] ?? first;
    const tally = this.transactions.get(kind) ?? {
      count: 0,
      ms: 0,
      serverMs: 0,
      statements: 0,
      productive: 0,
      retries: 0,
      failed: 0,
      commitMs: 0,
      beforeFirstMs: 0,
      betweenMs: 0,
    };
    tally.count++;
    tally.ms += end - start;
    tally.serverMs += attempt.serverMs;
    tally.statements += attempt.statements.length;
    tally.retries += attempts - 1;
    if (!ok) tally.failed++;
    tally.commitMs += end - (attempt.lastEndAt ?? start);
    tally.beforeFirstMs += (attempt.firstAt ?? start) - start;
    tally.betweenMs += idleBetween(attempt.statements);
    const names = new Set(attempt.statements.map((s) => s.name));
    if (
      names.has('changeStatusBatch') ||
      names.has('startRuns') ||
      attempt.completed.length > 0 ||
      (kind !== 'promote' && kind !== 'claim' && kind !== 'finish')
    ) {
      tally.productive++;
    }
    this.transactions.set(kind, tally);
    if (ok) {
      for (const id of attempt.completed) {
        this.committed.set(id, end);
        this.onCommitted(id);
      }
    }
  }
}

/** Time in which none of the statements was in flight, from the first sent to the last answered. */
function idleBetween(statements: { ms: number; at: number }[]): number {
  let idle = 0;
  let answeredAt: number | null = null;
  for (const s of [...statements].sort((a, b) => a.at - b.at)) {
    if (answeredAt !== null && s.at > answeredAt) idle += s.at - answeredAt;
    answeredAt = Math.max(answeredAt ?? 0, s.at + s.ms);
  }
  return idle;
}

function add(map: Map<string, Tally>, key: string, ms: number) {
  const t = map.get(key) ?? { count: 0, ms: 0, serverMs: 0 };
  t.count++;
  t.ms += ms;
  map.set(key, t);
}

/**
 * The engine's own UnitOfWork, timing every statement of every transaction it runs and noting
 * when a step's completion commits (the moment `run` returns after an endRun that returned the
 * task COMPLETED). The engine code is unchanged: the scheduler is simply handed this instance.
 */
export class InstrumentedUnitOfWork extends UnitOfWork {
  constructor(
    graph: Graph,
    pubsub: PubSub,
    private readonly probe: Probe,
  ) {
    super(graph, pubsub);
    graph.onServerTime = (statement, ms, tx) => probe.serverTime(statement, ms, tx);
  }

  override run<T>(work: (tx: Tx, emit: Emit) => Promise<T>): Promise<T> {
    return probed(this.probe, (w) => super.run(w), work);
  }
}

/** `graph.write` with the probe's timing: the baseline's direct calls, measured the same way. */
export function probedWrite<T>(probe: Probe, graph: Graph, work: (tx: Tx) => Promise<T>) {
  return probed(probe, (w) => graph.write((tx) => w(tx, () => {})), work);
}

async function probed<T>(
  probe: Probe,
  run: (work: (tx: Tx, emit: Emit) => Promise<T>) => Promise<T>,
  work: (tx: Tx, emit: Emit) => Promise<T>,
): Promise<T> {
  const start = now();
  let attempts = 0;
  // Statements of attempts the driver retried still count; completions only of the last one.
  const attempt: Attempt = { statements: [], serverMs: 0, completed: [] };
  try {
    const value = await run((tx, emit) => {
      attempts++;
      attempt.completed = [];
      return work(probe.wrap(tx, attempt), emit);
    });
    probe.record(attempt, attempts, start, now(), true);
    return value;
  } catch (err) {
    probe.record(attempt, attempts, start, now(), false);
    throw err;
  }
}
