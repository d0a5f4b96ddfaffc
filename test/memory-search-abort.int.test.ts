import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Embedder } from '../src/memory/embeddings/embedder.js';
import { abortError } from '../src/memory/embeddings/batch-queue.js';
import { planningMemory, searchAsAgent } from '../src/memory/retrieval/agent-memory.js';
import type { TestServer } from './utils/server.js';
import {
  newTenantIn,
  startSearchServer,
  stopSearchServer,
} from './utils/memory-search-fixtures.js';

/** An embedding endpoint that never answers: only the caller's signal ends a call. */
class StalledEmbedder implements Embedder {
  readonly id = 'test:stalled:4';
  readonly provider = 'openai' as const;
  readonly model = 'stalled';
  readonly dimensions = 4;
  readonly offline = false;
  calls = 0;
  embed(_texts: string[], signal?: AbortSignal): Promise<number[][]> {
    this.calls++;
    return new Promise((_, reject) => {
      signal?.addEventListener('abort', () => reject(abortError(signal)), { once: true });
    });
  }
}

/**
 * The executor's contract (src/engine/executor.ts): a step's signal reaches every call that
 * waits on the outside. A planning step's memory search and an operator's search_memory embed
 * the query, through a remote endpoint when EMBEDDINGS_PROVIDER=openai; cancelling the step
 * must end that wait, not leave the attempt hanging until the endpoint answers.
 */
describe('an agent’s memory search under an aborted step', () => {
  let server: TestServer;
  const embedder = new StalledEmbedder();
  const tenants: string[] = [];

  beforeAll(async () => {
    ({ server } = await startSearchServer(embedder));
  });

  afterAll(() => stopSearchServer(server, tenants));

  const who = () => ({
    tenantId: newTenantIn(tenants),
    agentId: randomUUID(),
    taskIds: [randomUUID()],
  });
  const deps = () => ({ uow: server.services.uow, embedder, logger: server.logger });

  it('ends the search with the abort, not with an empty answer after the endpoint', async () => {
    const controller = new AbortController();
    const calls = embedder.calls;
    const search = searchAsAgent(deps(), who(), 'quarterly revenue', {
      first: 5,
      signal: controller.signal,
    });
    await expect.poll(() => embedder.calls).toBeGreaterThan(calls);
    controller.abort(new Error('step cancelled'));
    await expect(search).rejects.toThrow('step cancelled');
  });

  it('passes the planning step’s signal on', async () => {
    const controller = new AbortController();
    const calls = embedder.calls;
    const search = planningMemory(deps(), who(), 'plan the launch', controller.signal);
    await expect.poll(() => embedder.calls).toBeGreaterThan(calls);
    controller.abort(new Error('step timed out'));
    await expect(search).rejects.toThrow('step timed out');
  });

  it('still answers, without vectors, when the endpoint fails on its own', async () => {
    const failing = {
      ...deps(),
      embedder: { ...embedder, embed: () => Promise.reject(new Error('503')) },
    };
    await expect(searchAsAgent(failing, who(), 'quarterly revenue', { first: 5 })).resolves.toEqual(
      [],
    );
  });
});
