import type { Tx } from '../../graph/cypher.js';
import { recordLLMCall } from '../../graph/llm-call.repository.js';
import type { LLMCallRecord } from '../domain/llm-call.js';

export type Write = <T>(work: (tx: Tx) => Promise<T>) => Promise<T>;

export interface CallLog {
  warn(obj: object, msg: string): void;
  error?(obj: object, msg: string): void;
}

/** How often and how patiently a call record is written before it is kept for later. */
export interface WriteRetry {
  /** Tries per write (default 4). */
  attempts: number;
  /** The first wait; each next one doubles (default 100 ms: 100, 200, 400). */
  baseMs: number;
}

export const DEFAULT_WRITE_RETRY: WriteRetry = Object.freeze({ attempts: 4, baseMs: 100 });

/** At most this many unwritten records are kept; past it the oldest is given up (at error). */
export const MAX_UNWRITTEN = 1_000;

interface Kept {
  call: LLMCallRecord;
  write: Write;
  log: CallLog | undefined;
}

// Process-wide: recorders live for one model call, the records they could not write outlive them.
const unwritten = new Map<string, Kept>();
let draining: Promise<void> | null = null;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The figures of a call, for a log line that lets a person book it by hand. */
const figures = (c: LLMCallRecord) => ({
  llmCall: c.id,
  tenantId: c.tenantId,
  runId: c.runId,
  taskId: c.taskId,
  agentId: c.agentId,
  purpose: c.purpose,
  model: c.model,
  responseModel: c.responseModel,
  promptTokens: c.promptTokens,
  cachedPromptTokens: c.cachedPromptTokens,
  completionTokens: c.completionTokens,
  costUsd: c.costUsd,
});

function report(log: CallLog | undefined, level: 'warn' | 'error', obj: object, msg: string) {
  if (level === 'error' && log?.error) log.error(obj, msg);
  else if (log) log.warn(obj, msg);
  else console[level](`${msg}: ${JSON.stringify(obj)}`);
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Writes one call record, retrying (with doubling waits) when the graph refuses. A record that
 * still cannot be written is money spent that nobody booked: it is logged at error with its
 * figures and kept in memory, and written by the next successful write or `retryUnwrittenCalls`.
 * Never throws. The write MERGEs on the call's id, so a retry that did commit is harmless.
 */
export async function writeCall(
  write: Write,
  call: LLMCallRecord,
  log?: CallLog,
  retry: WriteRetry = DEFAULT_WRITE_RETRY,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await write((tx) => recordLLMCall(tx, call));
      unwritten.delete(call.id);
      if (unwritten.size > 0) await retryUnwrittenCalls();
      return true;
    } catch (e) {
      if (attempt >= retry.attempts) {
        keep({ call, write, log }, e);
        return false;
      }
      report(
        log,
        'warn',
        { err: message(e), llmCall: call.id, attempt },
        'could not record a model call; retrying',
      );
      await sleep(retry.baseMs * 2 ** (attempt - 1));
    }
  }
}

function keep(kept: Kept, e: unknown): void {
  if (!unwritten.has(kept.call.id) && unwritten.size >= MAX_UNWRITTEN) {
    const [oldestId, oldest] = unwritten.entries().next().value as [string, Kept];
    unwritten.delete(oldestId);
    report(
      oldest.log,
      'error',
      figures(oldest.call),
      'gave up recording a model call: too many unwritten',
    );
  }
  unwritten.set(kept.call.id, kept);
  report(
    kept.log,
    'error',
    { err: message(e), ...figures(kept.call) },
    'could not record a model call; kept in memory to retry',
  );
}

/** Tries once more to write every kept record; resolves when done. One drain at a time. */
export function retryUnwrittenCalls(): Promise<void> {
  draining ??= (async () => {
    try {
      for (const [id, kept] of [...unwritten]) {
        try {
          await kept.write((tx) => recordLLMCall(tx, kept.call));
          unwritten.delete(id);
        } catch {
          return; // the graph is still away: the next write tries again
        }
      }
    } finally {
      draining = null;
    }
  })();
  return draining;
}

/** How many call records wait to be written (for tests and health). */
export const unwrittenCallCount = (): number => unwritten.size;
