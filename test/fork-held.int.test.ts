import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetStructuredModes } from '../src/llm/structured.js';
import { graphql } from './generated/index.js';
import { startScriptedAgents } from './utils/engine.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from './utils/openai-server.js';
import { operatorScript, toolResultsOf } from './utils/operator-script.js';
import { untilDone } from './utils/progress.js';
import { startTestServer, type TestServer } from './utils/server.js';

// README walk: forkRun with a message at the checkpoint of a run held for a tool call's
// approval named an internal node (ToolApproval.after_model) and sent the person to "a later
// checkpoint", which a held run does not have yet. It now says what to do in their terms.

const Checkpoints = graphql(`
  query ForkHeldCheckpoints($id: ID!) {
    task(id: $id) {
      status
      runs {
        id
        checkpoints(first: 50) {
          id
          next
          messageCount
        }
      }
    }
  }
`);

const Fork = graphql(`
  mutation ForkHeldRun($runId: ID!, $checkpointId: ID!, $message: String) {
    forkRun(runId: $runId, checkpointId: $checkpointId, message: $message) {
      id
    }
  }
`);

let server: TestServer;
let scripted: ScriptedOpenAI;

beforeAll(async () => {
  server = await startTestServer();
  forgetStructuredModes();
  scripted = await startScriptedOpenAI(
    operatorScript((req) =>
      toolResultsOf(req).length === 0
        ? { toolCalls: [{ name: 'record_knowledge', args: { content: 'Zinc is 2500' } }] }
        : { content: 'Noted.' },
    ),
  );
});

afterAll(async () => {
  await scripted?.close();
  await server?.stop();
});

describe('forkRun at a run held for approval', () => {
  it('says, in the person’s terms, where a message can be added', async () => {
    const set = await server.gql(
      `mutation { setToolPolicy(input: { tool: "record_knowledge", mode: ALWAYS }) { tool } }`,
    );
    expect(set.errors).toBeUndefined();
    const plan = await server.gql<{ createTasks: { id: string; key: string }[] }, object>(
      `mutation {
        a: createAgents(inputs: [
          { name: "Zinc clerk", role: MASTER_OPERATOR, capabilities: [{ name: "zinc" }] }
        ]) { id }
        createTasks(inputs: [
          { key: "root", title: "Zinc note" },
          { key: "step", title: "Price zinc", parentKey: "root", requiredCapabilities: ["zinc"] }
        ]) { id key }
      }`,
    );
    expect(plan.errors).toBeUndefined();
    const ids = Object.fromEntries(plan.data!.createTasks.map((t) => [t.key, t.id]));
    const scheduler = startScriptedAgents(server, scripted.baseURL);
    try {
      await server.gql(`mutation { startWorkflow(taskId: "${ids.root}") { id } }`);
      const held = await untilDone({
        read: async () => (await server.gql(Checkpoints, { id: ids.step! })).data!.task!,
        done: (t) => t.status === 'AWAITING_INPUT',
        progress: (t) => t.status,
        stallMs: 60_000,
        what: 'the step did not stop for its tool call',
      });
      const [run] = held.runs;
      // The newest checkpoint: the model's answer saved, its call waiting for a decision.
      const last = [...run!.checkpoints].sort((a, b) => b.messageCount - a.messageCount)[0]!;
      expect(last.next).not.toContain('model_request');
      const res = await server.gql(Fork, {
        runId: run!.id,
        checkpointId: last.id,
        message: 'What if zinc halved?',
      });
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const message = res.errors?.[0]?.message ?? '';
      expect(message).toBe(
        "a message can be added only where the model runs next, but at this checkpoint the model's tool calls wait for a person's approval; fork from the checkpoint before it (the model answers again, reading your message), or decide the calls (resolveToolCall) and fork from the checkpoint after their results, or fork here without a message",
      );
      // Without a message the fork is made: it asks for the approval again.
      const plain = await server.gql(Fork, { runId: run!.id, checkpointId: last.id });
      expect(plain.errors).toBeUndefined();
    } finally {
      await scheduler.stop({ abort: true });
    }
  }, 240_000);
});
