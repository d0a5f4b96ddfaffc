import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetStructuredModes } from '../src/llm/structured.js';
import { graphql } from './generated/index.js';
import { startScriptedAgents } from './utils/engine.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from './utils/openai-server.js';
import { isExecution, operatorScript, toolResultsOf } from './utils/operator-script.js';
import { untilDone } from './utils/progress.js';
import { startTestServer, type TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

// Issue 13: forkRun starts a new attempt of a step from a checkpoint of one of its runs, with a
// person's message, as a task of its own; the original stays as it was.

const Checkpoints = graphql(`
  query ForkCheckpoints($id: ID!) {
    task(id: $id) {
      status
      result
      runs {
        id
        checkpoints(first: 50) {
          id
          next
          messageCount
        }
      }
      forks {
        id
      }
    }
  }
`);

const Fork = graphql(`
  mutation ForkRun($runId: ID!, $checkpointId: ID!, $message: String) {
    forkRun(runId: $runId, checkpointId: $checkpointId, message: $message) {
      id
      status
      forkOf {
        id
      }
    }
  }
`);

const Watch = graphql(`
  subscription ForkWatch($taskId: ID!) {
    taskUpdated(taskId: $taskId) {
      change
      task {
        status
        result
      }
    }
  }
`);

const WHAT_IF = 'What if copper doubled in price?';

let server: TestServer;
let scripted: ScriptedOpenAI;

beforeAll(async () => {
  server = await startTestServer();
  forgetStructuredModes();
  scripted = await startScriptedOpenAI(
    operatorScript((req) => {
      if (toolResultsOf(req).length === 0)
        return { toolCalls: [{ name: 'record_knowledge', args: { content: 'Copper is 9000' } }] };
      return {
        content: JSON.stringify(req.messages).includes(WHAT_IF)
          ? 'Forked answer: 18000.'
          : 'Original answer: 9000.',
      };
    }),
  );
});

afterAll(async () => {
  await scripted?.close();
  await server?.stop();
});

describe('forkRun', () => {
  it('runs a fork from a checkpoint with a message, recorded with FORKED_FROM, and leaves the original as it was', async () => {
    const made = await server.gql(`mutation { createAgents(inputs: [
      { name: "Pricer", role: MASTER_OPERATOR, capabilities: [{ name: "pricing" }] }
    ]) { id } }`);
    expect(made.errors).toBeUndefined();
    const plan = await server.gql<{ createTasks: { id: string; key: string }[] }, object>(
      `mutation { createTasks(inputs: [
        { key: "root", title: "Copper note" },
        { key: "step", title: "Price copper", parentKey: "root", requiredCapabilities: ["pricing"] }
      ]) { id key } }`,
    );
    expect(plan.errors).toBeUndefined();
    const ids = Object.fromEntries(plan.data!.createTasks.map((t) => [t.key, t.id]));
    const scheduler = startScriptedAgents(server, scripted.baseURL);
    try {
      await server.gql(`mutation { startWorkflow(taskId: "${ids.root}") { id } }`);
      const read = async (id: string) => (await server.gql(Checkpoints, { id })).data!.task!;
      const original = await untilDone({
        read: () => read(ids.step!),
        done: (t) => t.status === 'COMPLETED',
        progress: (t) => t.status,
        stallMs: 60_000,
        what: 'the step did not complete',
      });
      expect(original.result).toBe('Original answer: 9000.');
      const [run] = original.runs;
      // After the tool's result, before the final model call: the model runs next.
      const point = run!.checkpoints
        .filter((c) => c.next.length === 1 && c.next[0] === 'model_request')
        .sort((a, b) => b.messageCount - a.messageCount)[0]!;
      expect(point.messageCount).toBe(3);
      const beforeTools = run!.checkpoints.find((c) => c.next.includes('tools'));
      expect(beforeTools).toBeDefined();
      const asked = scripted.requests.filter(isExecution).length;

      // Adding a message between a tool call and its result is refused, saying where to fork.
      const misplaced = await server.gql(Fork, {
        runId: run!.id,
        checkpointId: beforeTools!.id,
        message: WHAT_IF,
      });
      expect(misplaced.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(misplaced.errors?.[0]?.message).toContain('model runs next');
      // At the run's start no tool call waits: the advice names the checkpoint after it, where
      // the model runs next with the run's input (it once spoke of "those tool calls").
      const start = run!.checkpoints.find((c) => c.next.includes('__start__'));
      const afterStart = run!.checkpoints.find(
        (c) => c.next.length === 1 && c.next[0] === 'model_request' && c.messageCount === 1,
      );
      expect(afterStart).toBeDefined();
      const atStart = await server.gql(Fork, {
        runId: run!.id,
        checkpointId: start!.id,
        message: WHAT_IF,
      });
      expect(atStart.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(atStart.errors?.[0]?.message).toContain(
        "this checkpoint is the run's start, before its input is read; fork from the checkpoint after it",
      );
      expect(atStart.errors?.[0]?.message).not.toContain('tool calls');
      const unknown = await server.gql(Fork, {
        runId: run!.id,
        checkpointId: '00000000-0000-4000-8000-000000000000',
      });
      expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

      const forked = await server.gql(Fork, {
        runId: run!.id,
        checkpointId: point.id,
        message: WHAT_IF,
      });
      expect(forked.errors).toBeUndefined();
      const fork = forked.data!.forkRun;
      expect(fork.forkOf).toEqual({ id: ids.step });
      const watch = await subscribe(server, Watch, { taskId: fork.id });
      try {
        let event = await watch.waitForNext(60_000);
        while (event.data?.taskUpdated.task.status !== 'COMPLETED')
          event = await watch.waitForNext(60_000);
        expect(event.data!.taskUpdated.task.result).toBe('Forked answer: 18000.');
      } finally {
        await watch.close();
      }

      // One model call: from the checkpoint, with the tool's result and the person's message;
      // the tool call before it was not made again.
      const after = scripted.requests.filter(isExecution).slice(asked);
      expect(after).toHaveLength(1);
      const sent = JSON.stringify(after[0]!.messages);
      expect(sent).toContain(WHAT_IF);
      expect(toolResultsOf(after[0]!)).toHaveLength(1);
      const linked = await server.graph.read((tx) =>
        tx.run<{ n: number }>({
          // A fork has no parent: it is listed among the roots (rootsOnly).
          cypher: `MATCH (:Task {tenantId: $tenantId, id: $fork, root: true})-[:FORKED_FROM]->(c:Checkpoint {id: $point})
                   <-[:CHECKPOINTED]-(:Run {id: $run}) RETURN count(c) AS n`,
          params: { tenantId: server.tenantId, fork: fork.id, point: point.id, run: run!.id },
        }),
      );
      expect(linked[0]!.n).toBe(1);
      const unchanged = await read(ids.step!);
      expect(unchanged.result).toBe('Original answer: 9000.');
      expect(unchanged.runs.map((r) => r.id)).toEqual([run!.id]);
      expect(unchanged.forks).toEqual([{ id: fork.id }]);
    } finally {
      await scheduler.stop({ abort: true });
    }
  }, 240_000);
});
