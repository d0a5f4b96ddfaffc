import { availableParallelism } from 'node:os';
import neo4j, { type Driver, type QueryResult, type SessionMode } from 'neo4j-driver';
import { DeadlineError, deadlines, now } from './deadline.js';
import { CircuitBreaker, isConnectivityError } from './breaker.js';
import {
  isAuthError,
  isBusyPool,
  isTransactionTimeout,
  translateDriverError,
  withoutStack,
} from './errors.js';
import { rowOf, type CypherQuery, type Row, type Tx } from './cypher.js';
import { addSource, metrics, sessionSources, writeWaitSources } from '../src/metrics/metrics.js';
import { statementName } from './statement-name.js';
import { WriteSlots, writeSlotsFor } from './write-slots.js';
import { SpanKind, tracer } from '../src/tracing/tracer.js';
import { SpanStatusCode, trace } from '@opentelemetry/api';

export interface GraphSettings {
  uri: string;
  user: string;
  password: string;
  database: string;
  /** Pooled connections, so transactions at once, of this process (defaultMaxConnections). */
  maxConnections?: number;
}

/**
 * Transactions one process runs at once when NEO4J_MAX_CONNECTIONS is unset: 4 per core, at
 * least 8. A Neo4j works on about as many transactions at once as it has cores (the embedded
 * one shares this machine's); more connections add no throughput, they make every transaction
 * slower together: 200 submitTask on a cold Neo4j, 2 cores, 100 connections: 42 to 100 failed
 * their deadlines; 16: none. And a read shares Neo4j's cores with every transaction in flight,
 * so a simple query's p99 under bench:agents was 116–137 ms with 16 a process, 83–90 with 8,
 * in the same hour and no slower a load (README). Work past the pool waits its turn here.
 */
export function defaultMaxConnections(): number {
  return Math.max(8, 4 * availableParallelism());
}

/** How long work waits for a pooled connection before the driver gives up. */
const ACQUISITION_TIMEOUT_MS = 5_000;

/** A connectivity failure that took this long was a timeout, not a stale connection. */
const SLOW_FAILURE_MS = 1_000;

/** Sessions open in this process, for the metrics (a session holds a pooled connection). */
let openSessions = 0;
addSource(sessionSources, () => openSessions);

/** A transient failure that was two transactions wanting the same locks. */
const isConflict = (err: unknown) =>
  /Deadlock|LockClient|LockAcquisition/.test(String((err as { code?: unknown }).code ?? ''));

const ENTITY_NOT_FOUND = 'Neo.ClientError.Statement.EntityNotFound';

/**
 * The app's handle on Neo4j. Work runs in managed transactions, retried here on transient
 * errors (deadlocks, leader changes), so a unit of work must not have side effects outside
 * the transaction. Every statement passes through here, which is what `statementCount` counts.
 */
export class Graph {
  /** Statements sent to Neo4j since start: each is one round trip. */
  statementCount = 0;
  /**
   * Sees every statement before it is sent (test/plan-audit.int.test.ts EXPLAINs what the
   * engine sends), with the transaction it runs in (the same object for all its statements;
   * a retried transaction is a new one). Called synchronously; it must not throw.
   */
  onStatement?: (q: CypherQuery, tx: Tx) => void;
  /**
   * Sees the time Neo4j itself reports for each statement that succeeded (until its first row,
   * plus until its last), whole milliseconds: bench:orchestration's split of a step's overhead
   * between the database and the round trips, with the transaction it ran in (as onStatement).
   * Called synchronously; it must not throw.
   */
  onServerTime?: (statement: string, ms: number, tx: Tx) => void;

  /** Neo4j ends a transaction running longer than this: no runaway query outlives its use. */
  private readonly txTimeoutMs: number;
  /** Fails calls at once while Neo4j is unreachable (see breaker.ts). */
  readonly breaker: CircuitBreaker;
  /** The driver's wait for a pooled connection (its connectionAcquisitionTimeout). */
  private readonly acquisitionMs: number;
  /** Write transactions at once, fewer than the pool's connections: reads never wait behind writes. */
  private readonly writeSlots: WriteSlots;
  /** Takes the write-slot gauge's source off the metrics. */
  private readonly unmeter: () => void;

  constructor(
    private readonly driver: Driver,
    readonly database: string,
    options: {
      txTimeoutMs?: number;
      breaker?: CircuitBreaker;
      acquisitionMs?: number;
      /** The driver's pool size (its maxConnectionPoolSize). */
      maxConnections?: number;
    } = {},
  ) {
    this.txTimeoutMs = options.txTimeoutMs ?? 60_000;
    this.breaker = options.breaker ?? new CircuitBreaker();
    this.acquisitionMs = options.acquisitionMs ?? ACQUISITION_TIMEOUT_MS;
    const max = options.maxConnections ?? defaultMaxConnections();
    this.writeSlots = new WriteSlots(writeSlotsFor(max));
    this.unmeter = addSource(writeWaitSources, () => this.writeSlots.queued);
  }

  /**
   * Runs `work` (and everything it awaits) under a deadline `ms` from now: each transaction's
   * Neo4j timeout is cut to the time left, so Neo4j itself ends a statement still running at
   * the deadline, and no transaction or retry starts after it. How a request's timeout aborts
   * its work instead of leaving it running unobserved.
   */
  withDeadline<T>(ms: number, work: () => Promise<T>): Promise<T> {
    return deadlines.run({ at: now() + ms, ms }, work);
  }

  /** Attempts retried since start: transient failures (deadlocks, mostly) and stale connections. */
  retryCount = 0;

  read<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.retrying(() => this.transaction(neo4j.session.READ, work));
  }

  /**
   * Runs read-only `work` with each statement in an auto-commit transaction of its own: one
   * round trip per statement, where `read` adds a begin and a commit around them (about twice
   * the time of a one-statement read). For reads that need no transaction, such as loader
   * batches: Neo4j reads are read-committed, so two statements of one transaction may see
   * different commits anyway. Statements run one after another (a session runs one query at
   * a time); failures are retried like `read`'s.
   */
  readAutoCommit<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.retrying(() =>
      this.session(async (s) => {
        const timeout = this.timeoutLeft();
        let previous: Promise<unknown> = Promise.resolve();
        return work(
          this.wrap((cypher, params) => {
            const next = previous.then(() =>
              withoutStack(() => s.run(cypher, params, { timeout })),
            );
            previous = next.catch(() => undefined);
            return next;
          }),
        );
      }, neo4j.session.READ),
    );
  }

  /** A write transaction; `urgent` ones wait for a write slot ahead of the others (WriteSlots). */
  write<T>(work: (tx: Tx) => Promise<T>, options: { urgent?: boolean } = {}): Promise<T> {
    return this.retrying(async () => {
      const waited = metrics.neo4j.writeSlotWait.startTimer();
      const release = await this.writeSlots
        .acquire(this.acquisitionMs, options)
        .finally(() => waited())
        .catch((err: unknown) => {
          // The same "busy" as a full pool's (retried until the deadline, then a 503).
          throw Object.assign(translateDriverError(err) as Error, { cause: err });
        });
      try {
        return await this.transaction(neo4j.session.WRITE, work);
      } finally {
        release();
      }
    });
  }

  /** One attempt: begin, work, commit (or roll back). Retrying is retrying()'s job alone. */
  private transaction<T>(mode: SessionMode, work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.session(async (s) => {
      const tx = s.beginTransaction({ timeout: this.timeoutLeft() });
      try {
        const result = await work(
          this.wrap((cypher, params) => withoutStack(() => tx.run(cypher, params))),
        );
        // Neo4j ends a transaction past its timeout only when its monitor next looks (every
        // 2 s): one that waited on a lock past its request's deadline ran on and committed
        // what the caller had been told timed out (test/audit-deadline). Not after it, then.
        this.timeoutLeft();
        await withoutStack(() => tx.commit());
        return result;
      } catch (err) {
        if (tx.isOpen()) await withoutStack(() => tx.rollback()).catch(() => undefined);
        throw err;
      }
    }, mode);
  }

  /**
   * Retries transient failures and a busy pool after a short jittered, doubling pause (5 ms,
   * 10 ms, ... up to 500 ms; 30 s in all, or until the request's deadline). The driver's own
   * retry waits a whole second first, which made every deadlock between two engine workers
   * stall a worker for that second.
   */
  private async retrying<T>(attempt: () => Promise<T>): Promise<T> {
    const deadline = Math.min(now() + 30_000, deadlines.getStore()?.at ?? Infinity);
    for (let n = 0; ; n++) {
      this.timeoutLeft(); // throws once the request's deadline has passed
      this.breaker.enter();
      const started = now();
      try {
        const result = await attempt();
        this.breaker.succeeded();
        return result;
      } catch (err) {
        if (isConnectivityError(err)) {
          // Retried once at once (a stale pooled connection); a second failure, or one that
          // took seconds (a timeout), opens the breaker.
          this.breaker.failed(now() - started > SLOW_FAILURE_MS);
          if (this.breaker.state === 'open')
            throw Object.assign(this.breaker.unavailable(), { cause: err });
          this.retryCount++;
          metrics.neo4j.retries.inc({ reason: 'connectivity' });
          continue;
        }
        if (!(err instanceof DeadlineError)) this.breaker.succeeded();
        const cause = (err as { cause?: unknown }).cause ?? err;
        // A node this transaction matched was deleted by one that held its lock and committed
        // first (lockAndBump cannot load it then): started again, the match no longer finds it.
        const vanished = (cause as { code?: string }).code === ENTITY_NOT_FOUND && n < 3;
        // Every pooled connection was in use for the driver's acquisition timeout: a queue,
        // not an outage (a cold Neo4j under a burst). Asked again while another whole wait
        // ends before the deadline, then answered "busy" (503, nothing done: safe to send
        // again), not left to run into the request's timeout (test/pool-busy.int.test.ts).
        const busy = isBusyPool(cause);
        const retryable = (cause as { retryable?: boolean }).retryable || vanished || busy;
        const pause = Math.min(500, 5 * 2 ** n) * (0.5 + Math.random());
        const needs = busy ? pause + this.acquisitionMs : 0;
        if (!retryable || now() + needs > deadline) throw err;
        this.retryCount++;
        metrics.neo4j.retries.inc({ reason: busy ? 'busy' : 'transient' });
        if (isConflict(cause)) metrics.neo4j.conflicts.inc();
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }

  /** Runs one schema statement in its own auto-commit transaction (DDL cannot share one). */
  async schema(cypher: string): Promise<void> {
    await this.session((s) => s.run(cypher).then(() => undefined));
  }

  /** Neo4j's version when reachable; throws otherwise. */
  async serverVersion(): Promise<string> {
    this.breaker.enter();
    const started = now();
    try {
      const info = await this.driver.getServerInfo({ database: this.database });
      this.breaker.succeeded();
      return info.agent ?? 'unknown';
    } catch (err) {
      if (isConnectivityError(err)) this.breaker.failed(now() - started > SLOW_FAILURE_MS);
      throw err;
    }
  }

  /** The transaction timeout: the time left before the request's deadline, at most txTimeoutMs. */
  private timeoutLeft(): number {
    const deadline = deadlines.getStore();
    if (!deadline) return this.txTimeoutMs;
    const left = deadline.at - now();
    if (left <= 0) throw new DeadlineError(deadline.ms);
    // Whole milliseconds, as Neo4j's transaction timeout takes them.
    return Math.min(this.txTimeoutMs, Math.ceil(left));
  }

  close(): Promise<void> {
    this.unmeter();
    return this.driver.close();
  }

  private async session<T>(
    work: (s: ReturnType<Driver['session']>) => Promise<T>,
    defaultAccessMode: SessionMode = neo4j.session.WRITE,
  ): Promise<T> {
    const session = this.driver.session({ database: this.database, defaultAccessMode });
    openSessions++;
    try {
      return await work(session);
    } catch (err) {
      // Neo4j ended the transaction at the timeout the request's deadline gave it: the
      // request's own REQUEST_TIMEOUT (Neo4j's error was logged as an internal one). Not for
      // a shorter transaction limit (txTimeoutMs) that ended it first.
      const deadline = deadlines.getStore();
      const translated =
        deadline && deadline.at - now() <= 50 && isTransactionTimeout(err)
          ? new DeadlineError(deadline.ms)
          : translateDriverError(err);
      // Keep the driver's error reachable, so retrying() can tell a transient one.
      if (translated !== err && translated instanceof Error)
        Object.assign(translated, { cause: err });
      throw translated;
    } finally {
      openSessions--;
      await session.close();
    }
  }

  private wrap(
    send: (cypher: string, params: Record<string, unknown>) => Promise<QueryResult>,
  ): Tx {
    const tx: Tx = {
      run: async <T extends Row>(q: CypherQuery) => {
        this.statementCount++;
        this.onStatement?.(q, tx);
        const name = statementName(q.cypher);
        const timer = metrics.neo4j.statement.startTimer({ statement: name });
        // A span per statement of traced work (issue 17): its name and the database, never its
        // parameters. Background polls (claims, relays, sweeps) run outside any span: tracing
        // each of them would send a one-span trace several times a second.
        const span = trace.getActiveSpan()
          ? tracer.startSpan(name, {
              kind: SpanKind.CLIENT,
              attributes: {
                'db.system.name': 'neo4j',
                'db.namespace': this.database,
                'db.query.summary': name,
              },
            })
          : undefined;
        try {
          const result = await send(q.cypher, q.params ?? {});
          const { resultAvailableAfter, resultConsumedAfter } = result.summary;
          this.onServerTime?.(name, Number(resultAvailableAfter) + Number(resultConsumedAfter), tx);
          return result.records.map((r) => rowOf(r) as T);
        } catch (err) {
          // The error's code only: Neo4j's messages can quote the statement's values.
          const e = err as { code?: unknown; name?: unknown };
          span?.setAttribute('error.type', String(e.code ?? e.name ?? 'Error'));
          span?.setStatus({ code: SpanStatusCode.ERROR });
          throw err;
        } finally {
          timer();
          span?.end();
        }
      },
    };
    return tx;
  }
}

export interface ConnectOptions {
  log: (line: string) => void;
  /** Attempts before giving up; Infinity keeps retrying (the server's default). */
  attempts?: number;
}

/**
 * Connects and verifies the credentials. An unreachable server is retried with capped
 * exponential backoff and a log line per attempt; refused credentials fail at once.
 */
export async function connectGraph(settings: GraphSettings, opts: ConnectOptions): Promise<Graph> {
  const max = settings.maxConnections ?? defaultMaxConnections();
  const driver = neo4j.driver(settings.uri, neo4j.auth.basic(settings.user, settings.password), {
    disableLosslessIntegers: true,
    // Short, so an unreachable Neo4j fails a call in seconds and the breaker can open
    // (the driver's defaults wait 30 s to connect and 60 s for a pooled connection). Not
    // shorter: on a loaded machine a healthy Neo4j can take seconds to accept.
    connectionTimeout: 5_000,
    // Also bounds a connect that hangs after TCP (a partition behind a proxy): see breaker.ts.
    connectionAcquisitionTimeout: ACQUISITION_TIMEOUT_MS,
    maxConnectionPoolSize: max,
    logging: { level: 'error', logger: () => {} },
  });
  const attempts = opts.attempts ?? Infinity;
  for (let attempt = 1; ; attempt++) {
    try {
      await driver.verifyConnectivity({ database: settings.database });
      const breaker = new CircuitBreaker({
        onChange: (state) =>
          opts.log(
            state === 'open'
              ? `Neo4j at ${settings.uri} is not reachable: failing requests at once until it answers`
              : `Neo4j at ${settings.uri} answers again`,
          ),
      });
      return new Graph(driver, settings.database, { breaker, maxConnections: max });
    } catch (err) {
      if (isAuthError(err)) {
        await driver.close();
        throw new Error(
          `Neo4j at ${settings.uri} refused the credentials for user "${settings.user}": check NEO4J_USER and NEO4J_PASSWORD`,
        );
      }
      if (attempt >= attempts) {
        await driver.close();
        throw new Error(`Neo4j at ${settings.uri} is not reachable: ${(err as Error).message}`);
      }
      const delayMs = Math.min(30_000, 500 * 2 ** (attempt - 1));
      opts.log(
        `Neo4j at ${settings.uri} is not reachable (attempt ${attempt}): retrying in ${delayMs / 1000} s`,
      );
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}
