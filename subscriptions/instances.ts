import type { Graph } from '../graph/graph.js';
import {
  announceInstance,
  otherInstances,
  removeInstance,
  touchInstance,
  type Instance,
} from '../graph/instance.repository.js';
import { ConfigError } from '../src/config/config.js';
import type { Logger } from '../src/logger.js';

/** How often a process says it is alive, and after how long without it counts as gone. */
const HEARTBEAT_MS = 5_000;
const GONE_MS = 3 * HEARTBEAT_MS;

/**
 * Registers this process (an API instance or a worker, and its event bus) and refuses, with a
 * ConfigError naming REDIS_URL, a combination whose live events cannot reach every subscriber:
 * - an API instance on in-process events beside another API instance, or beside a worker on
 *   Redis (whose events it would never read);
 * - any process on Redis beside an API instance on in-process events;
 * - two processes on different Redis buses (`busIdentity`: server, database or key prefix).
 * A worker on in-process events is fine anywhere: it hands its events to the API through Neo4j.
 * `id` should survive a restart (host and port, the worker id) so a restart replaces its own
 * record; one that crashed under another id is forgotten after GONE_MS. A heartbeat renews the
 * record until stop(), which removes it. Two processes registering at once see each other and
 * both refuse, rather than both running half-deaf.
 */
export async function joinInstances(opts: {
  graph: Graph;
  self: Pick<Instance, 'id' | 'role' | 'bus' | 'redis'>;
  logger: Pick<Logger, 'warn'>;
}): Promise<{ stop(): Promise<void> }> {
  const { graph, self } = opts;
  await graph.write((tx) => announceInstance(tx, self));
  const others = await graph.read((tx) => otherInstances(tx, self.id, GONE_MS));
  const conflict = others.find((o) => conflicts(self, o) || conflicts(o, self) || apart(self, o));
  if (conflict) {
    await graph.write((tx) => removeInstance(tx, self.id));
    throw new ConfigError(
      `${describe(conflict)} runs against this Neo4j and this ${describe({ role: self.role, bus: self.bus, redis: self.redis })}: live events would not reach every subscriber; give every API instance and worker the same REDIS_URL and REDIS_KEY_PREFIX (a worker may also run without them). A process that stopped without saying so lapses ${GONE_MS / 1000} s after its last heartbeat; INSTANCE_CHECK=off starts anyway, its subscribers missing the other's events`,
    );
  }
  const timer = setInterval(() => {
    graph
      .write((tx) => touchInstance(tx, self.id))
      .catch((err: unknown) => opts.logger.warn({ err }, 'instance heartbeat failed'));
  }, HEARTBEAT_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await graph.write((tx) => removeInstance(tx, self.id)).catch(() => undefined);
    },
  };
}

type Side = Pick<Instance, 'role' | 'bus' | 'redis'>;

/** Whether `deaf` (an API on in-process events) would miss what `other` publishes. */
function conflicts(deaf: Side, other: Side): boolean {
  if (deaf.role !== 'api' || deaf.bus !== 'in-process') return false;
  return other.role === 'api' || other.bus === 'redis';
}

/** Whether both are on Redis, but on buses that never meet (a record without one: any). */
function apart(a: Side, b: Side): boolean {
  return Boolean(a.redis && b.redis) && a.redis !== b.redis;
}

function describe(p: Side & { id?: string }): string {
  const what = p.role === 'api' ? 'API instance' : 'worker';
  const on = p.redis ? `with REDIS_URL ${p.redis}` : 'with REDIS_URL';
  const bus = p.bus === 'redis' ? on : 'without REDIS_URL';
  return p.id ? `${what} ${p.id} (${bus})` : `${what} is ${bus}`;
}
