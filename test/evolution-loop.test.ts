import { describe, expect, it } from 'vitest';
import { EvolutionLoop, type EvolutionContext, type EvolutionPass } from '../src/evolution/loop.js';
import { captureLogger } from './utils/log-capture.js';

/** The loop's passes see only the context; these tests never touch the graph. */
function context(): {
  ctx: EvolutionContext;
  entries: ReturnType<typeof captureLogger>['entries'];
} {
  const { logger, entries } = captureLogger('info');
  return { ctx: { logger, tenantIds: null } as unknown as EvolutionContext, entries };
}

const recorder = (name: string, seen: string[], fail = false): EvolutionPass => ({
  name,
  run: async () => {
    seen.push(name);
    if (fail) throw new Error(`${name} broke`);
  },
});

describe('the learning loop', () => {
  it('runs its passes in order on each tick', async () => {
    const seen: string[] = [];
    const { ctx } = context();
    const loop = new EvolutionLoop(ctx, [recorder('a', seen), recorder('b', seen)], {
      intervalMs: 60_000,
    });
    await loop.tick();
    await loop.tick();
    expect(seen).toEqual(['a', 'b', 'a', 'b']);
  });

  it('logs a failing pass and still runs the passes after it', async () => {
    const seen: string[] = [];
    const { ctx, entries } = context();
    const loop = new EvolutionLoop(ctx, [recorder('a', seen, true), recorder('b', seen)], {
      intervalMs: 60_000,
    });
    await loop.tick();
    expect(seen).toEqual(['a', 'b']);
    const warning = entries.find((e) => e.pass === 'a');
    expect(warning?.level).toBe(40);
    expect(warning?.msg).toMatch(/learning pass failed/);
  });

  it('ticks on its interval once started, and stop waits for the tick in progress', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let signalSeen: AbortSignal | undefined;
    const slow: EvolutionPass = {
      name: 'slow',
      run: async (_ctx, signal) => {
        signalSeen = signal;
        seen.push('slow');
        await gate;
      },
    };
    const { ctx } = context();
    const loop = new EvolutionLoop(ctx, [slow, recorder('after', seen)], { intervalMs: 10 });
    loop.start();
    await expect.poll(() => seen.length, { timeout: 10_000 }).toBeGreaterThan(0);
    const stopped = loop.stop();
    // The pass in progress is told to stop, and the passes after it do not run.
    expect(signalSeen?.aborted).toBe(true);
    release();
    await stopped;
    expect(seen).toEqual(['slow']);
  });
});
