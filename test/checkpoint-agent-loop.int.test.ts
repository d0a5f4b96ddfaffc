import { AIMessage, createAgent, createMiddleware, fakeModel, tool } from 'langchain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkpointsByRunIds } from '../graph/checkpoint.repository.js';
import {
  CheckpointRefusedError,
  Neo4jCheckpointSaver,
} from '../src/agents/checkpoint/neo4j-saver.js';
import type { UnitOfWork } from '../src/services/unit-of-work.js';
import { countOnThread, setRunStatus, taskWithRun } from './utils/checkpoint-fixtures.js';
import { startTestServer, type TestServer } from './utils/server.js';

// Issue 13: the Neo4j saver under a real langchain createAgent loop (a scripted fakeModel): it
// checkpoints every step, a retry run resumes the same thread (the task id) from its last
// checkpoint and its pending writes, and a run that ended can no longer checkpoint.

let server: TestServer;
let uow: UnitOfWork;
beforeAll(async () => {
  server = await startTestServer();
  uow = server.services.uow;
});
afterAll(() => server.stop());

/** A RUNNING run in the test tenant and a saver writing for it. */
async function liveSaver() {
  const { taskId, runId } = await taskWithRun(server.graph, server.tenantId);
  const saver = new Neo4jCheckpointSaver({ uow, tenantId: server.tenantId, runId });
  return { taskId, runId, saver };
}

describe('Neo4jCheckpointSaver under a createAgent loop', () => {
  const lookup = (calls: string[]) =>
    tool(
      async ({ q }: { q: string }) => {
        calls.push(q);
        return `found ${q}`;
      },
      { name: 'lookup', description: 'Looks a thing up.', schema: z.object({ q: z.string() }) },
    );

  it('checkpoints every step, and a retry run resumes from the last checkpoint without repeating the tool call', async () => {
    const { taskId, runId, saver } = await liveSaver();
    const calls: string[] = [];
    const model = fakeModel()
      .respondWithTools([{ name: 'lookup', args: { q: 'neo4j' }, id: 'call_1' }])
      .respond(new Error('provider went away'))
      .respond(new AIMessage('neo4j is a graph database'));
    // 'sync': each checkpoint is stored before the next step starts (the default 'async'
    // may reject the invoke while the last puts are still in flight).
    const config = { configurable: { thread_id: taskId }, durability: 'sync' as const };
    const agent = createAgent({ model, tools: [lookup(calls)], checkpointer: saver });

    await expect(
      agent.invoke({ messages: [{ role: 'user', content: 'what is neo4j?' }] }, config),
    ).rejects.toThrow(/provider went away/);
    expect(calls).toEqual(['neo4j']);
    expect(model.callCount).toBe(2);
    const stalled = await agent.graph.getState(config);
    expect(stalled.next).toEqual(['model_request']);
    expect(stalled.values.messages.map((m: { type: string }) => m.type)).toEqual([
      'human',
      'ai',
      'tool',
    ]);

    // The attempt ends; a retry (a new run of the same task) resumes the same thread.
    await setRunStatus(server.graph, runId, 'FAILED');
    const retry = await taskWithRun(server.graph, server.tenantId, { taskId });
    const resumed = createAgent({
      model,
      tools: [lookup(calls)],
      checkpointer: new Neo4jCheckpointSaver({
        uow,
        tenantId: server.tenantId,
        runId: retry.runId,
      }),
    });
    const out = await resumed.invoke(null as never, config);
    expect(out.messages.at(-1)?.content).toBe('neo4j is a graph database');
    expect(calls).toEqual(['neo4j']); // the tool ran once in all
    expect(model.callCount).toBe(3); // the failed model call, and nothing before it, again
    expect((await resumed.graph.getState(config)).next).toEqual([]);

    // What the saver stored matches LangGraph's own view of each checkpoint.
    const history: { id: string; next: string[]; count: number }[] = [];
    for await (const s of resumed.graph.getStateHistory(config)) {
      history.push({
        id: String(s.config.configurable?.checkpoint_id),
        next: [...s.next],
        count: (s.values as { messages?: unknown[] }).messages?.length ?? 0,
      });
    }
    const stored = await server.graph.read((tx) =>
      checkpointsByRunIds(tx, server.tenantId, [runId, retry.runId], 100),
    );
    expect(stored.length).toBe(history.length);
    const byId = new Map(stored.map((c) => [c.checkpointId, c]));
    for (const h of history) {
      expect(byId.get(h.id)?.next.sort()).toEqual(h.next.sort());
      expect(byId.get(h.id)?.messageCount).toBe(h.count);
    }
  });

  it("a retry re-runs only the parallel tool call that crashed: the other one's result comes from its pending writes", async () => {
    const { taskId, runId, saver } = await liveSaver();
    const calls: string[] = [];
    let crash = true;
    // A tool's own error becomes a ToolMessage; an error around the call (a middleware here,
    // as a dying worker) ends the loop after the other parallel call's writes were saved.
    const crashing = createMiddleware({
      name: 'CrashOnce',
      wrapToolCall: async (request, handler) => {
        if (crash && request.toolCall.args.q === 'b') throw new Error('the worker died');
        return handler(request);
      },
    });
    const model = fakeModel()
      .respondWithTools([
        { name: 'lookup', args: { q: 'a' }, id: 'call_a' },
        { name: 'lookup', args: { q: 'b' }, id: 'call_b' },
      ])
      .respond(new AIMessage('both answered'));
    const config = { configurable: { thread_id: taskId }, durability: 'sync' as const };
    const agent = (checkpointer: Neo4jCheckpointSaver) =>
      createAgent({ model, tools: [lookup(calls)], middleware: [crashing], checkpointer });
    await expect(
      agent(saver).invoke({ messages: [{ role: 'user', content: 'look both up' }] }, config),
    ).rejects.toThrow(/the worker died/);
    expect(calls).toEqual(['a']);

    crash = false;
    await setRunStatus(server.graph, runId, 'FAILED');
    const retry = await taskWithRun(server.graph, server.tenantId, { taskId });
    const resumed = agent(
      new Neo4jCheckpointSaver({ uow, tenantId: server.tenantId, runId: retry.runId }),
    );
    const out = await resumed.invoke(null as never, config);
    expect(out.messages.at(-1)?.content).toBe('both answered');
    expect(calls).toEqual(['a', 'b']); // 'a' is not called again
    expect(model.callCount).toBe(2); // nor is the model asked for the calls again
    const results = out.messages.filter((m: { type: string }) => m.type === 'tool');
    expect(results.map((m: { content: unknown }) => m.content).sort()).toEqual([
      'found a',
      'found b',
    ]);
  });

  it('a worker that lost its run cannot checkpoint its loop any further', async () => {
    const { taskId, runId, saver } = await liveSaver();
    await setRunStatus(server.graph, runId, 'ABANDONED');
    const model = fakeModel().respond(new AIMessage('too late'));
    const agent = createAgent({ model, tools: [], checkpointer: saver });
    await expect(
      agent.invoke(
        { messages: [{ role: 'user', content: 'hi' }] },
        {
          configurable: { thread_id: taskId },
        },
      ),
    ).rejects.toBeInstanceOf(CheckpointRefusedError);
    expect(await countOnThread(server.graph, server.tenantId, 'Checkpoint', taskId)).toBe(0);
  });
});
