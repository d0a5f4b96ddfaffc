import { describe, expect, it, vi } from 'vitest';
import { StepError, type Executor } from '../src/engine/executor.js';
import { graphql } from './generated/index.js';
import { allFinished, byKey, waitForWorkflow } from './utils/engine.js';
import { createOperators, inTenant, startPlan, withScheduler } from './utils/engine-steps.js';

/** The orchestration engine's rules, one tenant per test: retries and conditions
 * (engine-behaviour-changes.int.test.ts: cancellation, redistribution and the live feed). */

const Steps = graphql(`
  query EngineBehaviourSteps($id: ID!) {
    workflow(taskId: $id) {
      tasks {
        key
        status
        error
        attempts
        runs {
          status
          attempt
          error
          startedAt
          endedAt
        }
      }
    }
  }
`);

const BadConditionKey = graphql(`
  mutation EngineBehaviourBadConditionKey {
    createTasks(
      inputs: [
        { key: "check", title: "Check" }
        { key: "other", title: "Other" }
        { key: "next", title: "Next", dependsOnKeys: ["check"], condition: "steps.other.output.ok" }
      ]
    ) {
      id
    }
  }
`);

const BadConditionSyntax = graphql(`
  mutation EngineBehaviourBadConditionSyntax {
    createTasks(
      inputs: [
        { key: "check", title: "Check" }
        {
          key: "next"
          title: "Next"
          dependsOnKeys: ["check"]
          condition: "steps.check.output.score >> 0.5"
        }
      ]
    ) {
      id
    }
  }
`);

const ms = (iso: unknown) => new Date(iso as string).getTime();

describe('the engine: retries', () => {
  it('retries a transient failure with growing backoff; permanent errors and spent attempts fail', async () => {
    // Backoff jitter fixed at its middle (x0.75): attempt 1 waits 300 ms, attempt 2 600 ms.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.5);
    try {
      await inTenant(async (server) => {
        await createOperators(server, { Worker: [] });
        const ids = await startPlan(server, [
          { key: 'root', title: 'Retries', failurePolicy: 'CONTINUE' },
          { key: 'flaky', title: 'Flaky', parentKey: 'root' },
          { key: 'permanent', title: 'Permanent', parentKey: 'root' },
          { key: 'plain', title: 'Plain error', parentKey: 'root' },
          { key: 'spent', title: 'Always down', parentKey: 'root', maxAttempts: 2 },
        ]);
        const executor: Executor = async ({ task, run }) => {
          if (task.key === 'flaky' && run.attempt >= 3) return { result: 'third time lucky' };
          if (task.key === 'flaky') throw new StepError(`flaky attempt ${run.attempt}`, true);
          if (task.key === 'permanent') throw new StepError('the input is wrong', false);
          if (task.key === 'plain') throw new Error('a bug in the step');
          throw new StepError('the service is down', true);
        };
        await withScheduler(
          server,
          executor,
          async () => {
            await waitForWorkflow(server, ids.root!, allFinished);
            const res = await server.gql(Steps, { id: ids.root! });
            const k = Object.fromEntries(res.data!.workflow.tasks.map((t) => [t.key!, t]));

            const flaky = k.flaky!;
            expect(flaky).toMatchObject({ status: 'COMPLETED', attempts: 3, error: null });
            expect(flaky.runs.map((r) => [r.status, r.attempt])).toEqual([
              ['FAILED', 1],
              ['FAILED', 2],
              ['SUCCEEDED', 3],
            ]);
            expect(flaky.runs[0]!.error).toBe('attempt 1 failed (will retry): flaky attempt 1');
            const gap1 = ms(flaky.runs[1]!.startedAt) - ms(flaky.runs[0]!.endedAt);
            const gap2 = ms(flaky.runs[2]!.startedAt) - ms(flaky.runs[1]!.endedAt);
            // Each retry waits at least its backoff (300 ms, then 600 ms); a loaded machine may
            // add to either, so growth itself is asserted on backoffMs in decisions.test.ts.
            expect(gap1).toBeGreaterThanOrEqual(250);
            expect(gap2).toBeGreaterThanOrEqual(550);

            for (const [key, error] of [
              ['permanent', 'the input is wrong'],
              ['plain', 'a bug in the step'],
            ] as const) {
              expect(k[key]).toMatchObject({ status: 'FAILED', attempts: 1, error });
              expect(k[key]!.runs.map((r) => r.status)).toEqual(['FAILED']);
            }
            expect(k.spent).toMatchObject({
              status: 'FAILED',
              attempts: 2,
              error: 'the service is down',
            });
            expect(k.spent!.runs.map((r) => r.status)).toEqual(['FAILED', 'FAILED']);
            expect(k.root).toMatchObject({ status: 'FAILED', error: '3 of 4 steps failed' });
          },
          { backoff: { baseMs: 400, maxMs: 5_000 } },
        );
      });
    } finally {
      random.mockRestore();
    }
  });
});

describe('the engine: conditions', () => {
  it('runs the branch whose condition holds, skips the other, runs the join and propagates the skip', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Worker: [] });
      const ids = await startPlan(server, [
        { key: 'root', title: 'Branches' },
        { key: 'check', title: 'Check', parentKey: 'root' },
        {
          key: 'high',
          title: 'High road',
          parentKey: 'root',
          dependsOnKeys: ['check'],
          condition: 'steps.check.output.score > 0.5',
        },
        {
          key: 'low',
          title: 'Low road',
          parentKey: 'root',
          dependsOnKeys: ['check'],
          condition: 'steps.check.output.score <= 0.5',
        },
        { key: 'join', title: 'Join', parentKey: 'root', dependsOnKeys: ['high', 'low'] },
        { key: 'afterLow', title: 'After low', parentKey: 'root', dependsOnKeys: ['low'] },
      ]);
      const ran: string[] = [];
      const executor: Executor = async ({ task }) => {
        ran.push(task.key!);
        return { result: task.key === 'check' ? JSON.stringify({ score: 0.9 }) : task.key! };
      };
      await withScheduler(server, executor, async () => {
        const k = byKey(await waitForWorkflow(server, ids.root!, allFinished));
        expect(ran.sort()).toEqual(['check', 'high', 'join']);
        expect(k.high!.status).toBe('COMPLETED');
        expect(k.low).toMatchObject({
          status: 'SKIPPED',
          error: 'condition was false: steps.check.output.score <= 0.5',
          runs: [],
        });
        expect(k.join!.status).toBe('COMPLETED');
        expect(k.afterLow).toMatchObject({
          status: 'SKIPPED',
          error: 'every dependency was skipped',
        });
        expect(k.root!.status).toBe('COMPLETED');
        expect(JSON.parse(k.root!.result!)).toEqual({
          check: { score: 0.9 },
          high: 'high',
          join: 'join',
        });
      });
    });
  });

  it('refuses a condition on a step that is not a dependency, and a malformed one with its position', async () => {
    await inTenant(async (server) => {
      const notADependency = await server.gql(BadConditionKey);
      expect(notADependency.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(notADependency.errors?.[0]?.message).toContain(
        'condition refers to step "other", which is not one of this task\'s dependencies (their keys: check)',
      );

      const malformed = await server.gql(BadConditionSyntax);
      expect(malformed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(malformed.errors?.[0]?.message).toContain('Unknown operator ">>" at position 25');
    });
  });

  // Walked by hand: the dependency went, the condition stayed, and the engine skipped the step
  // as "condition was false" though nothing it reads had happened.
  it('refuses to remove a dependency that the condition reads, and keeps it', async () => {
    await inTenant(async (server) => {
      const made = await server.gql(
        `mutation { createTasks(inputs: [{ key: "check", title: "Check" }, { key: "x", title: "X" },
          { key: "next", title: "Next", dependsOnKeys: ["check", "x"],
            condition: "steps.check.status == \\"COMPLETED\\"" }]) { id key } }`,
      );
      expect(made.errors).toBeUndefined();
      const ids = Object.fromEntries(
        (made.data as { createTasks: { id: string; key: string }[] }).createTasks.map((t) => [
          t.key,
          t.id,
        ]),
      );
      const remove = `mutation($id: ID!, $on: ID!) { removeTaskDependency(id: $id, dependsOnId: $on) { id } }`;
      const refused = await server.gql(remove, { id: ids.next, on: ids.check } as never);
      expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0]?.message).toBe(
        `removeTaskDependency would leave the condition of Task "${ids.next}" reading a step it no longer depends on: condition refers to step "check", which is not one of this task's dependencies (their keys: x); keep the dependency`,
      );
      expect(
        (await server.gql(remove, { id: ids.next, on: ids.x } as never)).errors,
      ).toBeUndefined();
      const deps = await server.gql(`query($id: ID!) { task(id: $id) { dependencies { key } } }`, {
        id: ids.next,
      } as never);
      expect(deps.data).toEqual({ task: { dependencies: [{ key: 'check' }] } });
    });
  });
});
