import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Executor } from '../src/engine/executor.js';
import { graphql } from './generated/index.js';
import { allFinished, waitForWorkflow } from './utils/engine.js';
import {
  createOperators,
  inTenant,
  sleep,
  startPlan,
  withScheduler,
} from './utils/engine-steps.js';

/**
 * A step's latency is a duration, kept on the monotonic clock: on `Date.now()` a step during
 * which the wall clock stepped back an hour (NTP, a virtual machine resumed) recorded about
 * minus an hour, and the agent's average latency and the step's objective score took it in.
 */

const RunLatency = graphql(`
  query EngineClockRunLatency($id: ID!) {
    task(id: $id) {
      runs {
        status
        latencyMs
      }
    }
  }
`);

afterEach(() => void vi.useRealTimers());

describe('a step while the wall clock steps back', () => {
  it('records the time it took, not the step of the clock', async () => {
    await inTenant(async (server) => {
      await createOperators(server, { Echo: ['echo'] });
      const stepsBack: Executor = async () => {
        vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
        vi.setSystemTime(Date.now() - 3_600_000);
        await sleep(50);
        return { result: 'done' };
      };
      await withScheduler(server, stepsBack, async () => {
        const ids = await startPlan(server, [
          { key: 'root', title: 'Clock' },
          { key: 'a', title: 'Step a', parentKey: 'root', requiredCapabilities: ['echo'] },
        ]);
        await waitForWorkflow(server, ids.root!, allFinished, 30_000);
        const { data, errors } = await server.gql(RunLatency, { id: ids.a! });
        expect(errors).toBeUndefined();
        const [run] = data!.task!.runs;
        expect(run!.status).toBe('SUCCEEDED');
        expect(run!.latencyMs).toBeGreaterThanOrEqual(50);
        expect(run!.latencyMs).toBeLessThan(30_000);
      });
    });
  });
});
