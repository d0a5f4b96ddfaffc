import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { connectGraph, type Graph } from '../graph/graph.js';
import { claimOutbox, writeOutbox } from '../graph/outbox.repository.js';
import { createLogger } from '../src/logger.js';
import { UnitOfWork } from '../src/services/unit-of-work.js';
import { Outbox } from '../subscriptions/outbox.js';
import { createInProcessPubSub, type PubSub } from '../subscriptions/pubsub.js';
import { TOPICS } from '../subscriptions/topics.js';
import { deleteTenant } from './utils/server.js';

const logger = createLogger('silent');

/** A bus that holds events only while `up`, recording what it held. */
function flakyBus(): PubSub & { up: boolean; held: string[] } {
  const inner = createInProcessPubSub();
  const bus = {
    ...inner,
    up: true,
    held: [] as string[],
    shared: true,
    publish(topic: string, payload: unknown) {
      if (!bus.up) return Promise.resolve(false);
      bus.held.push((payload as { agent: { name: string } }).agent.name);
      return inner.publish(topic, payload);
    },
  };
  return bus;
}

/** A bus whose publishes hang until release() (Redis paused), recording what it held. */
function stalledBus(): PubSub & { held: string[]; called: Promise<void>; release(): void } {
  const inner = createInProcessPubSub();
  let release!: () => void;
  let called!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const bus = {
    ...inner,
    held: [] as string[],
    shared: true,
    called: new Promise<void>((r) => (called = r)),
    release: () => release(),
    async publish(topic: string, payload: unknown) {
      called();
      await released;
      bus.held.push((payload as { agent: { name: string } }).agent.name);
      return inner.publish(topic, payload);
    },
  };
  return bus;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the event outbox', () => {
  const tenantId = `test-${randomUUID()}`;
  let graph: Graph;
  beforeAll(async () => {
    graph = await connectGraph(inject('neo4j'), { log: () => {}, attempts: 3 });
  });
  afterAll(async () => {
    await deleteTenant(graph, tenantId);
    await graph.close();
  });

  const event = (name: string) => ({
    topic: TOPICS.agentStatusChanged,
    payload: { tenantId, previousStatus: null, agent: { name } as never },
  });
  const rowsOf = async (names: string[]) =>
    graph.read((tx) =>
      tx.run<{ n: number }>({
        cypher: `MATCH (e:OutboxEvent {tenantId: $tenantId})
          WHERE any(name IN $names WHERE e.event CONTAINS name) RETURN count(e) AS n`,
        params: { tenantId, names },
      }),
    );
  const waitForRows = async (names: string[], n: number) => {
    const deadline = performance.now() + 10_000;
    while ((await rowsOf(names))[0]!.n !== n) {
      if (performance.now() > deadline)
        throw new Error(`outbox rows of ${names} never became ${n}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  /** A writer that wrote `names` while its bus was down, then died; holds of 200 ms. */
  const leftByDeadWriter = async (names: string[]) => {
    const bus = flakyBus();
    const writer = new Outbox({ graph, bus, logger, mode: 'publish', holdMs: 200 });
    bus.up = false;
    await new UnitOfWork(graph, bus, writer).run(async (_tx, emit) =>
      names.forEach((n) => emit(event(n))),
    );
    await writer.stop(); // as good as dead: it tries no more
    return bus;
  };

  it('writes events with their change, and deletes them once the bus holds them', async () => {
    const bus = flakyBus();
    const outbox = new Outbox({ graph, bus, logger, mode: 'publish' });
    const uow = new UnitOfWork(graph, bus, outbox);
    let inside = -1;
    await uow.run(async (tx, emit) => {
      emit(event('kept-1'));
      emit(event('kept-2'));
      await tx.run({ cypher: 'RETURN 1' });
      inside = (await rowsOf(['kept-1', 'kept-2']))[0]!.n; // another transaction: not yet
    });
    expect(inside).toBe(0);
    expect(bus.held).toEqual(['kept-1', 'kept-2']);
    await waitForRows(['kept-1', 'kept-2'], 0);

    // A rolled-back transaction leaves no event behind.
    await expect(
      uow.run(async (_tx, emit) => {
        emit(event('rolled-back'));
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(bus.held).not.toContain('rolled-back');
    expect((await rowsOf(['rolled-back']))[0]!.n).toBe(0);
    await outbox.stop();
  });

  it('keeps what the bus refused and publishes it itself, in order, once the bus takes it', async () => {
    const bus = flakyBus();
    const writer = new Outbox({ graph, bus, logger, mode: 'publish' });
    const uow = new UnitOfWork(graph, bus, writer);
    bus.up = false;
    await uow.run(async (_tx, emit) => emit(event('away-1')));
    await uow.run(async (_tx, emit) => emit(event('away-2')));
    await new Promise((r) => setTimeout(r, 300));
    expect(writer.backlog).toBe(2);
    expect((await rowsOf(['away-1', 'away-2']))[0]!.n).toBe(2); // not lost
    bus.up = true;
    await uow.run(async (_tx, emit) => emit(event('back-3')));
    await waitForRows(['away-1', 'away-2', 'back-3'], 0);
    expect(bus.held).toEqual(['away-1', 'away-2', 'back-3']);
    await writer.stop();
  });

  it('holds and deletes a backlog a request left, after the request’s deadline passed', async () => {
    // Redis away longer than a request's deadline: the writer's hold and its deletes ran in
    // the request's (expired) deadline, failed, and a relay published the events twice.
    const bus = flakyBus();
    const writer = new Outbox({ graph, bus, logger, mode: 'publish', holdMs: 300 });
    bus.up = false;
    const uow = new UnitOfWork(graph, bus, writer);
    await graph.withDeadline(2_000, () => uow.run(async (_tx, emit) => emit(event('request-1'))));
    await sleep(2_600); // the deadline passed and the writer's first hold lapsed
    const other = flakyBus();
    const relay = new Outbox({ graph, bus: other, logger, mode: 'publish' });
    expect(await relay.relayOnce({ handoffs: false, tenantIds: [tenantId] })).toBe(0);
    expect(other.held).toEqual([]);
    bus.up = true;
    await waitForRows(['request-1'], 0);
    expect(bus.held).toEqual(['request-1']);
    await writer.stop();
  });

  it('publishes through a relay what a writer that died left, once, however many relays run', async () => {
    const names = ['late-1', 'late-2', 'late-3'];
    const bus = await leftByDeadWriter(names);
    const relays = [1, 2, 3].map(() => new Outbox({ graph, bus, logger, mode: 'publish' }));
    const relayAll = () =>
      Promise.all(relays.map((r) => r.relayOnce({ handoffs: false, tenantIds: [tenantId] })));
    expect(await relayAll()).toEqual([0, 0, 0]); // the writer's hold has not lapsed yet
    await new Promise((r) => setTimeout(r, 300));
    bus.up = true;
    await relayAll(); // three relays race for the same rows
    expect(bus.held).toEqual(names); // once each, in order
    expect((await rowsOf(names))[0]!.n).toBe(0);
  });

  it('leaves a living writer its own events, even while its bus hangs', async () => {
    const bus = stalledBus();
    const writer = new Outbox({ graph, bus, logger, mode: 'publish', holdMs: 200 });
    const uow = new UnitOfWork(graph, bus, writer);
    await uow.run(async (_tx, emit) => emit(event('own-1')));
    await new Promise((r) => setTimeout(r, 300)); // its hold lapsed; its publish still hangs
    // Its own relay takes nothing (it would only publish them twice, and hang with them).
    const took = writer.relayOnce({ handoffs: false, tenantIds: [tenantId] });
    expect(await Promise.race([took, sleep(5_000).then(() => 'hung')])).toBe(0);
    bus.release();
    await waitForRows(['own-1'], 0);
    expect(bus.held).toEqual(['own-1']);
    await writer.stop();
  });

  it('lets a relay hold its claim only while it lives: another takes over within seconds', async () => {
    const bus = await leftByDeadWriter(['orphan-1']);
    await new Promise((r) => setTimeout(r, 300));

    // A relay claims the event, its publish hangs, and it dies (its connection gone).
    const dyingGraph = await connectGraph(inject('neo4j'), { log: () => {}, attempts: 3 });
    const stalled = stalledBus();
    const dying = new Outbox({ graph: dyingGraph, bus: stalled, logger, mode: 'publish' });
    const round = dying.relayOnce({ handoffs: false, tenantIds: [tenantId] }).catch(() => -1);
    await stalled.called;
    await dyingGraph.close();

    bus.up = true;
    const relay = new Outbox({ graph, bus, logger, mode: 'publish' });
    const started = performance.now();
    while ((await relay.relayOnce({ handoffs: false, tenantIds: [tenantId] })) === 0) {
      if (performance.now() - started > 15_000)
        throw new Error('the dead relay still holds the event');
      await sleep(200);
    }
    expect(bus.held).toEqual(['orphan-1']);
    stalled.release();
    await round;
  });

  it('leaves handed-off events to a relay that takes handoffs, and publishes them at once', async () => {
    const local = flakyBus();
    const worker = new Outbox({ graph, bus: local, logger, mode: 'handoff' });
    const uow = new UnitOfWork(graph, local, worker);
    await uow.run(async (_tx, emit) => emit(event('handed-1')));
    expect(local.held).toEqual(['handed-1']); // the worker's own watchers hear it
    await new Promise((r) => setTimeout(r, 300));
    expect((await rowsOf(['handed-1']))[0]!.n).toBe(1);

    const api = flakyBus();
    const relay = new Outbox({ graph, bus: api, logger, mode: 'publish' });
    await relay.relayOnce({ handoffs: false, tenantIds: [tenantId] }); // not stale yet, not for it
    expect(api.held).toEqual([]);
    await relay.relayOnce({ handoffs: true, tenantIds: [tenantId] });
    expect(api.held).toContain('handed-1');
    expect((await rowsOf(['handed-1']))[0]!.n).toBe(0);
    await worker.stop();
  });

  it('relays a quiet tenant’s event beside a busy tenant’s backlog, each tenant in order', async () => {
    // One tenant can never slow another: oldest first across tenants, a busy tenant's 600
    // handed-off events filled the relay's batch of 500 and the quiet tenant's waited behind.
    const [busy, quiet] = [`busy-${randomUUID()}`, `quiet-${randomUUID()}`];
    const rows = (tenant: string, n: number) =>
      Array.from({ length: n }, (_, seq) => ({
        id: randomUUID(),
        tenantId: tenant,
        event: `${tenant} ${seq}`,
        seq,
        owner: 'a worker',
        handoff: true,
      }));
    try {
      await graph.write((tx) => writeOutbox(tx, rows(busy, 600), 0));
      await graph.write((tx) => writeOutbox(tx, rows(quiet, 1), 0));
      const claim = { claimant: 'a relay', handoffs: true, tenants: [busy, quiet] };
      const batch = await graph.write((tx) =>
        claimOutbox(tx, { ...claim, leaseMs: 5_000, limit: 500 }),
      );
      expect(batch.filter((r) => r.tenantId === quiet)).toHaveLength(1);
      const ofBusy = batch.filter((r) => r.tenantId === busy).map((r) => r.seq);
      expect(ofBusy).toEqual(Array.from({ length: 499 }, (_, i) => i));
    } finally {
      await graph.write((tx) =>
        tx.run({
          cypher: 'MATCH (e:OutboxEvent) WHERE e.tenantId IN $tenants DELETE e',
          params: { tenants: [busy, quiet] },
        }),
      );
    }
  });

  describe("on the database's clock, whatever the processes' clocks say", () => {
    afterEach(() => void vi.useRealTimers());

    it('leaves a living writer its events when a relay’s clock runs an hour ahead', async () => {
      const stalled = stalledBus(); // the writer's publish hangs: it holds its event, alive
      const writer = new Outbox({ graph, bus: stalled, logger, mode: 'publish' }); // for 10 s
      await new UnitOfWork(graph, stalled, writer).run(async (_tx, emit) => emit(event('ahead-1')));
      await stalled.called;
      // Another machine, its clock an hour ahead: on it the writer's hold had long lapsed, and
      // it published the event beside the writer (a duplicate, out of order).
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      vi.setSystemTime(Date.now() + 3_600_000);
      const bus = flakyBus();
      const relay = new Outbox({ graph, bus, logger, mode: 'publish' });
      expect(await relay.relayOnce({ handoffs: false, tenantIds: [tenantId] })).toBe(0);
      expect(bus.held).toEqual([]);
      vi.useRealTimers();
      stalled.release();
      await waitForRows(['ahead-1'], 0);
      await writer.stop();
    });

    it('relays a dead writer’s events when its own clock runs an hour behind', async () => {
      const bus = await leftByDeadWriter(['behind-1']);
      await sleep(300);
      bus.up = true;
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      vi.setSystemTime(Date.now() - 3_600_000);
      const relay = new Outbox({ graph, bus, logger, mode: 'publish' });
      expect(await relay.relayOnce({ handoffs: false, tenantIds: [tenantId] })).toBe(1);
      expect(bus.held).toEqual(['behind-1']);
    });
  });
});
