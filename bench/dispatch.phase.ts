import { randomUUID } from 'node:crypto';
import { offerSteps, openDispatch } from '../src/engine/dispatch.js';
import { createLogger } from '../src/logger.js';
import { createServices } from '../src/services/index.js';
import { createRedisPubSub } from '../subscriptions/redis-pubsub.js';
import { redisServerBinary, startRedisServer } from '../test/utils/redis.js';
import { QUEUE_POLL_MS, WORKERS, type Bench } from './context.js';
import { runEngine, type EngineResult } from './engine.phase.js';
import { InstrumentedUnitOfWork } from './probe.js';
import { printEngine, printSaturation, table } from './report.js';
import { int, median, ms, percentile, ratio } from './stats.js';

/**
 * Dispatch through Redis against Neo4j's queue (issue 15), alternated in the same run on the
 * same Redis event bus, so only how steps reach the schedulers differs: the DAG of `steps`
 * and the chain of `chain` steps (below saturation), `rounds` times each; then the DAG by 1,
 * 2, 4 and 8 schedulers taking dispatched steps. Skipped without redis-server (Debian's
 * package; started here on a loopback port of its own).
 */
export async function compareDispatch(
  b: Bench,
  o: { steps: number; chain: number; rounds: number; workers: number[] },
): Promise<void> {
  if (!redisServerBinary()) {
    console.log(
      '\nDispatch through Redis: skipped (no redis-server; apt-get install redis-server)',
    );
    return;
  }
  const redis = await startRedisServer();
  const prefix = `bench:${randomUUID()}:`;
  const logger = createLogger('silent');
  const bus = await createRedisPubSub({
    url: redis.url,
    logger,
    prefix,
    onPublish: offerSteps(prefix),
  });
  const contexts: Bench[] = [];
  try {
    const queue: Bench = {
      ...b,
      pubsub: bus,
      services: createServices(b.graph, bus),
      uow: new InstrumentedUnitOfWork(b.graph, bus, b.probe),
      dispatch: undefined,
    };
    const dispatched: Bench = {
      ...queue,
      dispatch: () => openDispatch({ url: redis.url, prefix }, logger),
    };
    contexts.push(queue, dispatched);
    console.log(
      `\n== Dispatch through Redis against Neo4j's queue: a ${int(o.steps)}-step DAG and a ${o.chain}-step chain, ${WORKERS} schedulers, alternated ${o.rounds} times ==`,
    );
    console.log(
      `  Both on one Redis event bus; with dispatch the schedulers take READY steps from Redis and search Neo4j's queue every ${QUEUE_POLL_MS} ms`,
    );
    const rows: string[][] = [];
    const dags = { queue: [] as EngineResult[], redis: [] as EngineResult[] };
    for (let round = 1; round <= o.rounds; round++) {
      for (const [name, ctx] of [
        ['queue', queue],
        ['redis', dispatched],
      ] as const) {
        console.log(`Round ${round}, ${name}: the DAG...`);
        const dag = await runEngine(ctx, o.steps);
        printEngine(dag, b.warnings.splice(0));
        console.log(`Round ${round}, ${name}: the chain...`);
        const chain = await runEngine(ctx, o.chain, WORKERS, 1);
        b.warnings.length = 0;
        dags[name].push(dag);
        rows.push([
          String(round),
          name === 'queue' ? "Neo4j's queue" : 'Redis dispatch',
          int(dag.n / dag.seconds),
          ms(median(dag.overhead)),
          (dag.statements / dag.n).toFixed(2),
          ms(median(chain.overhead)),
          ms(percentile(chain.overhead, 99)),
          `${dag.check.completed + chain.check.completed}/${int(dag.n + chain.n)}`,
        ]);
      }
    }
    console.log(
      table(
        [
          'round',
          'steps reach schedulers by',
          'DAG steps/s',
          'DAG median overhead',
          'statements/step',
          'chain median overhead',
          'chain p99',
          'completed once',
        ],
        rows,
      ),
    );
    const rate = (rs: EngineResult[]) => median(rs.map((r) => r.n / r.seconds));
    console.log(
      `  Redis dispatch ÷ Neo4j's queue, median of the rounds: ${ratio(rate(dags.redis), rate(dags.queue))} the steps/s`,
    );

    console.log(
      `\n== Saturation with Redis dispatch: the ${int(o.steps)}-step DAG by 1 to 8 schedulers ==`,
    );
    const series: EngineResult[] = [];
    for (const workers of o.workers) {
      console.log(`Engine with dispatch, ${workers} worker(s)...`);
      series.push(await runEngine(dispatched, o.steps, workers));
      b.warnings.length = 0;
    }
    printSaturation(series);
  } finally {
    await Promise.all(contexts.flatMap((c) => c.schedulers).map((s) => s.stop({ abort: true })));
    await bus.close?.();
    await redis.dispose();
  }
}
