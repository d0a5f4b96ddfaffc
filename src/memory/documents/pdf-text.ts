import { Worker } from 'node:worker_threads';
import { requestTimeLeft } from '../../../graph/deadline.js';
import { Slots } from '../../../graph/write-slots.js';
import { TenantSlots } from '../../limits/tenant-slots.js';
import { BadInputError, UnavailableError } from '../../domain/errors.js';

export interface PdfReadLimits {
  /** Heap and buffers the reading may use; past it the PDF is refused. */
  maxMemoryBytes: number;
  /** How long reading may take when no request deadline bounds it. */
  timeMs?: number;
}

/** Without a request's deadline (a caller outside HTTP), reading stops after this. */
const DEFAULT_TIME_MS = 60_000;
/** How often the worker's memory is read (V8 answers between any two instructions). */
const WATCH_MS = 50;

type Reply = { text: string } | { error: string };

/** PDFs one tenant may have waiting to be read on this process; one more is refused. */
const MAX_WAITING_PER_TENANT = 20;

const busy = (waitMs?: number) =>
  new UnavailableError(
    waitMs === undefined
      ? `${MAX_WAITING_PER_TENANT} PDFs of this organisation are waiting to be read already: send it once they are done`
      : `The PDF could not be read within ${waitMs} ms: other PDFs were being read; send it again`,
    { retryAfterSeconds: 5 },
  );

/**
 * PDFs one process reads at once, each in its own thread and memory; the others wait their
 * turn, in order, within their time (six bombs sent together took six times the memory). One
 * tenant's are read one at a time (five bombs of one tenant held another's PDF for 8 s).
 */
const readers = new Slots(2, busy);
const turns = new TenantSlots(1, MAX_WAITING_PER_TENANT, (why) =>
  busy('waitedMs' in why ? why.waitedMs : undefined),
);

/**
 * The text layer of a PDF, read by pdf.js (unpdf) in a worker thread of its own, ended when
 * its heap plus buffers pass `maxMemoryBytes` (a small file whose streams inflate to
 * gigabytes took the API process to 2.6 GB and went on reading after its request ended) or
 * when the request's time is up; two at most are read at once, one of a tenant's. Throws
 * BadInputError for an unreadable, corrupt or encrypted PDF and for one that needs too much
 * memory or time, and UnavailableError when its turn did not come in time.
 */
export async function readPdfText(
  bytes: Uint8Array,
  limits: PdfReadLimits,
  tenantId = '',
): Promise<string> {
  const timeMs = Math.max(0, requestTimeLeft() ?? limits.timeMs ?? DEFAULT_TIME_MS);
  const until = performance.now() + timeMs;
  const left = () => Math.max(0, until - performance.now());
  const turn = await turns.acquire(tenantId, timeMs);
  try {
    const release = await readers.acquire(left());
    try {
      return await readInWorker(bytes, limits, left());
    } finally {
      release();
    }
  } finally {
    turn();
  }
}

function readInWorker(bytes: Uint8Array, limits: PdfReadLimits, timeMs: number): Promise<string> {
  // A copy, handed over (not cloned): the caller keeps its bytes, and the thread owns these.
  const data = new Uint8Array(bytes);
  const mb = Math.round(limits.maxMemoryBytes / 1e6);
  const tooBig = () =>
    new BadInputError(
      `The PDF needs more than ${mb} MB of memory to read (its streams inflate too far, as a ` +
        'decompression bomb does): send a smaller PDF or its text',
    );
  const worker = new Worker(new URL('./pdf.worker.mjs', import.meta.url), {
    workerData: { data },
    transferList: [data.buffer],
    // The heap's own limit; buffers are outside it and are watched below.
    resourceLimits: { maxOldGenerationSizeMb: Math.ceil(limits.maxMemoryBytes / 2 ** 20) },
  });
  return new Promise<string>((resolve, reject) => {
    let settled = false;
    const end = (outcome: string | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(watch);
      // Settled once the thread is gone: its memory is free before the next reader starts.
      void worker
        .terminate()
        .finally(() => (outcome instanceof Error ? reject(outcome) : resolve(outcome)));
    };
    const timer = setTimeout(
      () => end(new BadInputError(`The PDF took longer than ${timeMs} ms to read`)),
      timeMs,
    );
    let reading = false;
    const watch = setInterval(() => {
      if (reading) return;
      reading = true;
      worker
        .getHeapStatistics()
        .then((heap) => {
          if (heap.used_heap_size + heap.external_memory > limits.maxMemoryBytes) end(tooBig());
        })
        .catch(() => undefined) // the thread ended meanwhile: its exit settles the promise
        .finally(() => (reading = false));
    }, WATCH_MS);
    worker.on('message', (reply: Reply) => {
      if ('text' in reply) return end(reply.text);
      end(
        new BadInputError(
          `The PDF cannot be read (${reply.error}): it may be corrupt or encrypted`,
        ),
      );
    });
    worker.on('error', (err: Error & { code?: string }) =>
      end(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? tooBig() : err),
    );
    worker.on('exit', (code) => end(new Error(`the PDF reader exited (${code}) without a word`)));
  });
}
