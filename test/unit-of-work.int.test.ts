import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectGraph, type Graph } from '../graph/graph.js';
import { UnitOfWork } from '../src/services/unit-of-work.js';
import { createInProcessPubSub } from '../subscriptions/pubsub.js';
import { TOPICS } from '../subscriptions/topics.js';
import { deleteTenant } from './utils/server.js';

describe('a unit of work', () => {
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

  it('publishes its events only after the commit, in emit order', async () => {
    const published: string[] = [];
    const recorder = {
      publish: (_topic: string, payload: unknown) => {
        published.push((payload as { agent: { name: string } }).agent.name);
        return Promise.resolve(true);
      },
      shared: false,
      subscribe: () => createInProcessPubSub().subscribe('unused'),
      subscriberCount: () => 0,
      subscriptionsMade: () => 0,
    };
    const uow = new UnitOfWork(graph, recorder);
    let publishedInside = -1;
    await uow.run(async (tx, emit) => {
      await tx.run({
        cypher: 'CREATE (:Agent {id: randomUUID(), tenantId: $tenantId})',
        params: { tenantId },
      });
      emit(event('first'));
      emit(event('second'));
      publishedInside = published.length;
    });
    expect(publishedInside).toBe(0);
    expect(published).toEqual(['first', 'second']);
  });

  it('publishes nothing and writes nothing when the work throws', async () => {
    const pubsub = createInProcessPubSub();
    const sub = pubsub.subscribe(TOPICS.agentStatusChanged);
    const uow = new UnitOfWork(graph, pubsub);
    const marker = randomUUID();
    await expect(
      uow.run(async (tx, emit) => {
        await tx.run({
          cypher: 'CREATE (:Agent {id: $marker, tenantId: $tenantId})',
          params: { marker, tenantId },
        });
        emit(event('rolled back'));
        throw new Error('fails after writing');
      }),
    ).rejects.toThrow('fails after writing');
    const next = await Promise.race([
      sub.next(),
      new Promise((r) => setTimeout(() => r('none'), 200)),
    ]);
    expect(next).toBe('none');
    const rows = await graph.read((tx) =>
      tx.run({ cypher: 'MATCH (a:Agent {id: $marker}) RETURN a', params: { marker } }),
    );
    expect(rows).toEqual([]);
  });
});
