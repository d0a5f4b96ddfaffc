import { Redis } from 'ioredis';
import { REDIS_CONNECTION } from '../redis-connection.js';
import type { DispatchedStep } from '../../graph/claim.repository.js';
import type { TenantScope } from '../../graph/engine-scope.js';
import type { Logger } from '../logger.js';
import { TaskPriority, TaskStatus, type Task } from '../domain/task.js';
import { TOPICS, type TaskUpdatedEvent } from '../../subscriptions/topics.js';
import { StartupError } from '../cli/startup-error.js';

/**
 * Dispatch through Redis (issue 15, ENGINE_DISPATCH=redis, the default with REDIS_URL): a step
 * that becomes READY is handed to one scheduler, instead of every scheduler searching Neo4j's
 * queue and racing the others for its head. Neo4j stays the system of record: a dispatched id
 * is a hint, claimed by claimReadyTasks under the same lease rules as a polled one (still
 * READY, due, claimable, under the task's lock), and every scheduler still polls Neo4j's queue
 * now and then (ENGINE_QUEUE_POLL_MS), which finds whatever the dispatch missed.
 *
 * Layout: per tenant a sorted set `<prefix>dispatch:<tenant>` of task ids, scored by priority,
 * then age (the claim order of Neo4j's queue); `<prefix>dispatch:tenants` scores each tenant
 * with work by when a taker last served it.
 *
 * Contract:
 * - **offer** (`offerStep`, on the event bus's own connection, before the event's XADD): every
 *   task event that says READY (and orchestrated) adds the task; any other status of it takes
 *   it out. Idempotent (a set: an event published twice is one entry). Never awaited by the
 *   publisher and never throws; an offer lost to a Redis outage leaves the step to the poll.
 *   At most MAX_PER_TENANT entries a tenant: past that the lowest-ranked go, to the poll.
 * - **take(n)**: at most `n` steps, each handed to one taker of all processes (one Lua script,
 *   atomic), highest priority and oldest first within a tenant, and tenants served in turn
 *   (least recently served first, one step each per turn): one tenant's flood does not hold
 *   back another's steps. At most once: a taken step that is not claimed (not due yet, a
 *   retry's backoff; claimed by the poll meanwhile; the taker died) is not offered again until
 *   its next READY event, and the poll finds it. Never waits (the schedulers are woken by the
 *   READY events on the bus); answers [] while Redis is away (logged once), so the engine
 *   falls back to polling.
 * - No back-pressure: offers are not bounded by takers; takers take only what they have room for.
 * - One Redis (the keys of a tenant's steps are not declared to the script: not for a cluster).
 */
export interface StepDispatch {
  take(n: number, tenants: TenantScope): Promise<DispatchedStep[]>;
  close(): Promise<void>;
}

/** Entries kept per tenant: beyond it, the poll finds the lowest-ranked steps. */
export const MAX_PER_TENANT = 100_000;
/** Tenants one take looks at (the least recently served). */
const TENANTS_PER_TAKE = 100;

const RANKS: TaskPriority[] = [
  TaskPriority.URGENT,
  TaskPriority.HIGH,
  TaskPriority.MEDIUM,
  TaskPriority.LOW,
];

const keys = (prefix: string) => ({
  tenants: `${prefix}dispatch:tenants`,
  clock: `${prefix}dispatch:clock`,
  steps: `${prefix}dispatch:`,
});

/** KEYS: tenants, the tenant's steps. ARGV: tenant, task id, score ('' takes it out), max. */
const OFFER = `
if ARGV[3] == '' then return redis.call('ZREM', KEYS[2], ARGV[2]) end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
local max = tonumber(ARGV[4])
if redis.call('ZCARD', KEYS[2]) > max then redis.call('ZREMRANGEBYRANK', KEYS[2], max, -1) end
redis.call('ZADD', KEYS[1], 'NX', 0, ARGV[1])
return 1`;

/**
 * KEYS: tenants, clock. ARGV: n, the steps' key prefix, tenants per take, then the tenants to
 * serve (none: any). Returns tenant, task id, tenant, task id, ...
 */
const TAKE = `
local n = tonumber(ARGV[1]) * 2
local active = {}
if #ARGV > 3 then
  for i = 4, #ARGV do active[#active + 1] = ARGV[i] end
else
  active = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1)
end
local out, seen = {}, {}
while #out < n and #active > 0 do
  local still = {}
  for _, t in ipairs(active) do
    if #out >= n then break end
    seen[t] = true
    local r = redis.call('ZPOPMIN', ARGV[2] .. t)
    if r[1] then
      out[#out + 1] = t
      out[#out + 1] = r[1]
      still[#still + 1] = t
    end
  end
  active = still
end
local clock = redis.call('INCR', KEYS[2])
for t in pairs(seen) do
  if redis.call('EXISTS', ARGV[2] .. t) == 1 then redis.call('ZADD', KEYS[1], clock, t)
  else redis.call('ZREM', KEYS[1], t) end
end
return out`;

type Offering = Redis & {
  offerStep(
    tenants: string,
    steps: string,
    tenant: string,
    id: string,
    score: string,
    max: number,
  ): Promise<number>;
};

type Taking = Redis & { takeSteps(...args: (string | number)[]): Promise<string[]> };

/** Neo4j's claim order as a number: priority rank, then creation time (ms). */
export function dispatchScore(task: Pick<Task, 'priority' | 'createdAt'>): number | null {
  const rank = RANKS.indexOf(task.priority);
  const at = Date.parse(String(task.createdAt));
  return rank < 0 || Number.isNaN(at) ? null : rank * 1e13 + at;
}

/**
 * The publisher's half, for the Redis event bus (its `onPublish`): called for each event it
 * publishes, on its own connection and before the event's XADD, so a scheduler woken by a
 * task's READY event finds the step there.
 */
export function offerSteps(prefix: string) {
  const k = keys(prefix);
  const defined = new WeakSet<Redis>();
  return (redis: Redis, topic: string, payload: unknown): void => {
    const task = topic === TOPICS.taskUpdated ? (payload as TaskUpdatedEvent).task : undefined;
    if (!task?.orchestrated) return;
    if (!defined.has(redis)) {
      redis.defineCommand('offerStep', { numberOfKeys: 2, lua: OFFER });
      defined.add(redis);
    }
    const score = task.status === TaskStatus.READY ? dispatchScore(task) : null;
    void (redis as Offering)
      .offerStep(
        k.tenants,
        `${k.steps}${task.tenantId}`,
        task.tenantId,
        task.id,
        score === null ? '' : String(score),
        MAX_PER_TENANT,
      )
      .catch(() => {}); // the poll finds it; the bus logs the outage
  };
}

/** The takers' half: one connection per process, shared by its schedulers. */
export async function openDispatch(
  o: { url: string; prefix: string },
  logger: Pick<Logger, 'warn' | 'info'>,
): Promise<StepDispatch> {
  const k = keys(o.prefix);
  const redis = new Redis(o.url, REDIS_CONNECTION);
  redis.on('error', () => {}); // reported once below
  redis.defineCommand('takeSteps', { numberOfKeys: 2, lua: TAKE });
  await redis.connect().catch((err: unknown) => {
    redis.disconnect();
    throw new StartupError(
      `Cannot reach Redis for step dispatch (REDIS_URL): ${err instanceof Error ? err.message : String(err)}`,
    );
  });
  let away = false;
  return {
    async take(n, tenants) {
      if (n <= 0) return [];
      try {
        const args = [k.tenants, k.clock, n, k.steps, TENANTS_PER_TAKE, ...(tenants ?? [])];
        const flat = await (redis as Taking).takeSteps(...args);
        if (away) logger.info('Step dispatch (Redis) reachable again');
        away = false;
        const steps: DispatchedStep[] = [];
        for (let i = 0; i + 1 < flat.length; i += 2)
          steps.push({ tenantId: flat[i]!, taskId: flat[i + 1]! });
        return steps;
      } catch (err) {
        if (!away) {
          logger.warn(
            `Step dispatch (Redis) unreachable (${err instanceof Error ? err.message : String(err)}): the engine polls Neo4j's queue meanwhile`,
          );
        }
        away = true;
        return [];
      }
    },
    async close() {
      redis.disconnect();
    },
  };
}
