import { Redis } from 'ioredis';
import { REDIS_CONNECTION } from '../src/redis-connection.js';
import type { Logger } from '../src/logger.js';
import {
  compareEventIds,
  EventAheadError,
  EventBusUnavailableError,
  EventTooOldError,
  isFutureEventId,
  withEventId,
  type EventId,
} from './event-id.js';
import { decodeEvent, encodeEvent } from './event-json.js';
import { createFanout } from './fanout.js';
import { ORDER_WAIT_MS, orderOf, RECENT_MS, type EventOrder } from './sequence.js';
import { StartupError } from '../src/cli/startup-error.js';
import {
  DEFAULT_MAX_BUFFERED_EVENTS,
  DEFAULT_REPLAY_EVENTS,
  streamOf,
  tenantOf,
  type PubSub,
} from './pubsub.js';

export interface RedisPubSubOptions {
  url: string;
  logger: Logger;
  maxBufferedEvents?: number;
  /** Events kept per tenant stream (and tokens per tenant token stream), for resuming. */
  replayEvents?: number;
  /** Key prefix, so several platforms (or test suites) can share one Redis. */
  prefix?: string;
  /** Entries kept in the live stream (about: trimming is approximate); default 10,000. */
  liveLength?: number;
  /**
   * Called for each event published, with the bus's writer connection, before the event's
   * XADD: commands it sends there reach Redis first (the engine's step dispatch). Must not throw.
   */
  onPublish?: (writer: Redis, topic: string, payload: unknown) => void;
}

/** Entries kept in the stream every instance reads live; only readers that fell behind use it. */
const LIVE_LENGTH = 10_000;
/** Entries one XREAD takes at most. */
const READ_BATCH = 500;
/** How long one XREAD waits; bounds how long close() takes. */
const BLOCK_MS = 1_000;

/**
 * Appends one event to its tenant's stream (the id a client resumes from) and, with that id,
 * to the live stream all instances read, atomically: both streams have the same order. A
 * stream begins with a `born` marker: a Redis that lost its data (restarted without
 * persistence) starts streams afresh, and resuming across that is refused as EVENT_TOO_OLD.
 * KEYS: tenant stream, live stream. ARGV: event JSON, tenant stream length, live length.
 */
const XADD_EVENT = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('XADD', KEYS[1], '*', 'born', '1') end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'id', id, 'e', ARGV[1])
return id`;

/**
 * XADD_EVENT for a numbered event (sequence.ts): only once the event numbered before it is out
 * (or `force`), else nil. Remembers the highest number out per entity for `ttl` seconds.
 * KEYS: tenant stream, live stream, the entity's key. ARGV: event JSON, tenant stream length,
 * live length, seq, previousAt ('' for none), the time before which a predecessor is taken as
 * out, force ('1' or '0'), ttl.
 */
const XADD_IN_ORDER = `
local last = redis.call('GET', KEYS[3])
local seq = tonumber(ARGV[4])
if ARGV[7] == '0' and seq > 1 then
  if last then
    if seq > tonumber(last) + 1 then return false end
  elseif ARGV[5] ~= '' and tonumber(ARGV[5]) >= tonumber(ARGV[6]) then
    return false
  end
end
if (not last) or seq > tonumber(last) then
  redis.call('SET', KEYS[3], seq, 'EX', ARGV[8])
else
  redis.call('EXPIRE', KEYS[3], ARGV[8])
end
${XADD_EVENT}`;

type Publisher = Redis & {
  xaddEvent(
    tenantStream: string,
    live: string,
    json: string,
    keep: number,
    liveKeep: number,
  ): Promise<string>;
  xaddInOrder(
    tenantStream: string,
    live: string,
    orderKey: string,
    json: string,
    keep: number,
    liveKeep: number,
    seq: number,
    previousAt: number | '',
    recentSince: number,
    force: '1' | '0',
    ttl: number,
  ): Promise<string | null>;
};

/**
 * The pub/sub on Redis Streams (REDIS_URL), for several API instances and worker processes.
 * It keeps the PubSub contract (pubsub.ts) across processes:
 * - publish() appends to the tenant's stream and the live stream (XADD_EVENT) and returns at
 *   once; commands go out in call order on one connection, so one process's events keep their
 *   order. Events of different processes are ordered by Redis, except that a task's event waits
 *   (XADD_IN_ORDER, polled) until the one numbered before it is out, whoever publishes that.
 * - One reader per process (XREAD BLOCK on the live stream, from where it started) hands each
 *   event to this process's subscribers (fanout.ts), its own events included. A reader that
 *   fell further behind than the live stream keeps ends tenants' subscribers retryably
 *   (SERVICE_UNAVAILABLE), so they resume with `after` from their own streams.
 * - `after` replays from the tenant's stream (XRANGE), then live events after the last replayed
 *   id. An `after` older than what the stream still holds (MAXLEN trimmed it) is EVENT_TOO_OLD.
 * - Redis down: publish() logs and answers false (the change itself is committed in Neo4j, and
 *   its event kept in the outbox for the relay; queries and mutations go on), every tenant's subscriber ends with SERVICE_UNAVAILABLE, and new ones are
 *   refused with it until the reader reads again; clients then resume with `after`. Internal
 *   subscribers (no tenant: revocations, the engine's watchers) stay and hear what comes next.
 */
export async function createRedisPubSub(opts: RedisPubSubOptions): Promise<PubSub> {
  const prefix = opts.prefix ?? 'agent-platform:';
  const keep = opts.replayEvents ?? DEFAULT_REPLAY_EVENTS;
  const liveLength = opts.liveLength ?? LIVE_LENGTH;
  const live = `${prefix}live`;
  const streamKey = (topic: string, tenant: string) => `${prefix}${streamOf(topic)}:${tenant}`;
  const fanout = createFanout(opts.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS);
  const log = opts.logger;

  const writer = new Redis(opts.url, REDIS_CONNECTION) as Publisher;
  writer.defineCommand('xaddEvent', { numberOfKeys: 2, lua: XADD_EVENT });
  writer.defineCommand('xaddInOrder', { numberOfKeys: 3, lua: XADD_IN_ORDER });
  const reader = new Redis(opts.url, REDIS_CONNECTION);
  for (const client of [writer, reader]) client.on('error', () => {}); // reported below, once
  await Promise.all([writer.connect(), reader.connect()]).catch((err: unknown) => {
    writer.disconnect();
    reader.disconnect();
    throw new StartupError(
      `Cannot reach Redis at ${redact(opts.url)} (REDIS_URL): ${message(err)}`,
    );
  });

  let down: Error | null = null;
  /** Events lost to the outage (none an outbox keeps), and whether it was said once. */
  let dropped = 0;
  let warned = false;
  // Tenant streams that lost an event while Redis was unreachable: each gets a `gap` marker
  // before its next event, so resuming across the loss is refused (EVENT_TOO_OLD).
  const gaps = new Set<string>();
  const markGaps = () => {
    for (const key of [...gaps]) {
      writer.call('XADD', key, '*', 'gap', '1').then(
        () => gaps.delete(key),
        () => {},
      );
    }
  };
  const wentDown = (err: unknown) => {
    if (down) return;
    down = new EventBusUnavailableError('the event bus (Redis) cannot be reached');
    log.warn(`Redis event bus unreachable (${message(err)}): ending live subscriptions`);
    fanout.endClients(down);
  };
  const cameBack = () => {
    if (!down) return;
    down = null;
    log.info(`Redis event bus reachable again (${dropped} event(s) could not be published)`);
    dropped = 0;
    warned = false;
    markGaps();
  };

  /**
   * After each read (one XINFO, O(1)): a reader that fell behind may have lost entries to the
   * live stream's trimming. When the oldest entry kept is past where it read from, tenants' subscribers are ended with a
   * retryable error and resume with `after` from their own streams, instead of missing events
   * without a word. (Trimming does not move max-deleted-entry-id on Redis 7.0.)
   */
  const checkNotTrimmedPast = async (from: string) => {
    const info = (await reader.call('XINFO', 'STREAM', live)) as unknown[];
    const first = info[info.indexOf('first-entry') + 1] as Entry | null | undefined;
    if (!first || from === '0-0' || compareEventIds(first[0], from) <= 0) return;
    log.error(
      `The Redis event reader fell behind the live stream (${liveLength} entries kept) and may have missed events: ending live subscriptions so they resume with after`,
    );
    fanout.endClients(
      new EventBusUnavailableError('the event reader fell behind and may have missed events'),
    );
  };

  // Start where the live stream ends now: this process's subscribers begin with it.
  const [last] = (await reader.call('XREVRANGE', live, '+', '-', 'COUNT', '1')) as [string][];
  let position = last?.[0] ?? '0-0';
  let closed = false;
  const reading = (async () => {
    while (!closed) {
      try {
        const from = position;
        const reply = await reader.call(
          'XREAD',
          'COUNT',
          String(READ_BATCH),
          'BLOCK',
          String(BLOCK_MS),
          'STREAMS',
          live,
          position,
        );
        cameBack();
        const entries = entriesOf(reply);
        if (entries.length > 0) await checkNotTrimmedPast(from);
        for (const [entryId, fields] of entries) {
          position = entryId;
          const { id, e } = fieldsOf(fields);
          const { topic, payload } = decodeEvent(e!);
          fanout.deliver(topic, withEventId(payload, id || entryId));
        }
      } catch (err) {
        if (closed) break;
        wentDown(err);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  })();

  const history = async (topic: string, tenant: string, after: EventId) => {
    const key = streamKey(topic, tenant);
    let info: unknown[];
    try {
      info = (await writer.call('XINFO', 'STREAM', key)) as unknown[];
    } catch (err) {
      if (/no such key/i.test(message(err)))
        throw isFutureEventId(after) ? new EventAheadError(after) : new EventTooOldError(after);
      throw new EventBusUnavailableError('the event bus (Redis) cannot be reached');
    }
    // Trimming (MAXLEN) does not move max-deleted-entry-id on Redis 7.0, so compare with the
    // oldest entry kept: an `after` before it may have lost successors (refused, to be safe).
    const first = info[info.indexOf('first-entry') + 1] as Entry | null | undefined;
    if (first && compareEventIds(after, first[0]) < 0) throw new EventTooOldError(after);
    // Taken, it resumed as if nothing had been missed: no result of this stream carried it.
    const last = info[info.indexOf('last-generated-id') + 1];
    if (typeof last === 'string' && compareEventIds(after, last) > 0)
      throw new EventAheadError(after);
    const events: unknown[] = [];
    let from = `(${after}`;
    for (;;) {
      const page = (await writer.call('XRANGE', key, from, '+', 'COUNT', '500')) as [
        string,
        string[],
      ][];
      for (const [id, fields] of page) {
        const entry = fieldsOf(fields);
        if (entry.born || entry.gap) throw new EventTooOldError(after); // events were lost
        const event = decodeEvent(entry.e!);
        if (event.topic === topic) events.push(withEventId(event.payload, id));
      }
      if (page.length < 500) return events;
      from = `(${page[page.length - 1]![0]}`;
    }
  };

  /** A numbered event: tried until the one before it is out, forced after ORDER_WAIT_MS. */
  const inOrder = async (stream: string, orderKey: string, json: string, order: EventOrder) => {
    // A duration, on the monotonic clock; the predecessor's age is the writers' wall clock.
    const deadline = performance.now() + ORDER_WAIT_MS;
    for (let pause = 5; ; pause = Math.min(pause * 2, 50)) {
      const now = Date.now();
      const id = await writer.xaddInOrder(
        stream,
        live,
        orderKey,
        json,
        keep,
        liveLength,
        order.seq,
        order.previousAt ?? '',
        now - RECENT_MS,
        performance.now() >= deadline || closed ? '1' : '0',
        Math.ceil((2 * RECENT_MS) / 1000),
      );
      if (id !== null) return id;
      await new Promise((r) => setTimeout(r, pause));
    }
  };

  return {
    publish(topic, payload, options = {}) {
      const tenant = tenantOf(payload);
      const json = encodeEvent(topic, payload);
      if (gaps.size > 0) markGaps();
      opts.onPublish?.(writer, topic, payload);
      const order = tenant ? orderOf(topic, payload) : null;
      const sent = order
        ? inOrder(streamKey(topic, tenant!), `${prefix}order:${tenant}:${order.key}`, json, order)
        : tenant
          ? writer.xaddEvent(streamKey(topic, tenant), live, json, keep, liveLength)
          : writer.call('XADD', live, 'MAXLEN', '~', String(liveLength), '*', 'id', '', 'e', json);
      return Promise.resolve(sent).then(
        () => true,
        (err: unknown) => {
          if (closed) return false;
          // A kept event is the outbox's: it retries it every 500 ms and publishes it later.
          if (!options.kept) dropped += 1;
          if (tenant && !options.kept) gaps.add(streamKey(topic, tenant));
          if (!warned) log.warn(`Events not published: Redis unreachable (${message(err)})`);
          warned = true;
          return false;
        },
      );
    },
    shared: true,
    subscribe(topic, options = {}) {
      if (down && options.tenantId) return fanout.refuse(down);
      return fanout.subscribe(topic, options, (after) => history(topic, options.tenantId!, after));
    },
    subscriberCount: (topic) => fanout.subscriberCount(topic),
    subscriptionsMade: () => fanout.subscriptionsMade(),
    async close() {
      if (closed) return;
      closed = true;
      reader.disconnect(); // ends a blocked XREAD now
      await reading;
      writer.disconnect();
    },
  };
}

type Entry = [id: string, fields: string[]];

/** XREAD's entries of its one stream: RESP2 `[[key, entries]]`, RESP3 `[key, entries]`, or null. */
function entriesOf(reply: unknown): Entry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const [first, second] = reply as unknown[];
  return ((typeof first === 'string' ? second : (first as unknown[])[1]) ?? []) as Entry[];
}

function fieldsOf(fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]!] = fields[i + 1]!;
  return out;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
