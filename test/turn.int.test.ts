import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { connectGraph, type Graph } from '../graph/graph.js';
import { TenantSlots } from '../src/limits/tenant-slots.js';
import { inTurn, type Turn } from '../src/limits/turn.js';

// A call's own work (the A2A task store, audit events) takes its tenant's turn too; some of it
// runs inside an operation that holds one. Taking a second turn there waited for the first to
// be given back, which it never was while it waited: with one turn a tenant, until the deadline.

describe('inTurn', () => {
  let graph: Graph;
  const slots = new TenantSlots(1, 10);
  const turn: Turn = (_req, tenantId) => slots.acquire(tenantId, 10_000);
  const opts = () => ({ graph, requestTimeoutMs: 1_500, turn });

  beforeAll(async () => {
    graph = await connectGraph(inject('neo4j'), { log: () => {}, attempts: 3 });
  });
  afterAll(() => graph?.close());

  it('runs work that holds a turn of its tenant in that turn, not in a second', async () => {
    const inner = await inTurn(opts(), null, 't1', async () => {
      expect(slots.inFlight('t1')).toBe(1);
      return inTurn(opts(), null, 't1', async () => slots.inFlight('t1'));
    });
    expect(inner).toBe(1);
    expect(slots.inFlight('t1')).toBe(0);
  });

  it('takes a turn for another tenant, and for work left running after its turn', async () => {
    let later!: Promise<number>;
    const other = await inTurn(opts(), null, 't2', async () => {
      // Started in the turn, run after it: it must not ride a turn that was given back.
      later = new Promise<void>((r) => setTimeout(r, 20)).then(() =>
        inTurn(opts(), null, 't2', async () => slots.inFlight('t2')),
      );
      return inTurn(opts(), null, 't3', async () => slots.inFlight('t3'));
    });
    expect(other).toBe(1);
    const hold = await slots.acquire('t2', 1_000);
    const settled = later.then(() => 'ran');
    await new Promise((r) => setTimeout(r, 100));
    expect(slots.waiting('t2')).toBe(1);
    hold();
    expect(await settled).toBe('ran');
    expect(await later).toBe(1);
  });
});
