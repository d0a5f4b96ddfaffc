import {
  createSourceEventStream,
  execute,
  print,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import { eventIdOf, markPublishedAt, publishedAtOf } from './event-id.js';

const DONE: IteratorResult<ExecutionResult> = { done: true, value: undefined };

/**
 * graphql-js's subscribe(), except that each event is executed with a fresh context from
 * `perEvent`. A subscription lives for hours; per-request caches (DataLoaders) in a context
 * made once at subscribe time would serve stale data to every later event.
 *
 * The returned object is its own iterator with `return` and `throw`: graphql-ws 6 ends a
 * subscription (on `complete` or socket close) only when the value it got has `return` on
 * itself, and calls it at once. Before issue 9 only the inner iterator had one, so completed
 * subscriptions kept their pub/sub subscribers and went on receiving events. Not an async
 * generator on purpose: a generator's return() waits until its pending next() settles, that
 * is until the next event arrives. After return(), nothing more is yielded, not even an event
 * that was being executed at the time.
 */
export async function subscribeWithFreshContext<C>(
  args: ExecutionArgs,
  perEvent: (subscribeContext: C) => C,
  sharing?: { executions: SharedExecutions; audience: string | null },
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const audience = sharing?.audience ?? null;
  const key = audience === null ? null : shareKey(args, audience);
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in Object(source))) return source as ExecutionResult;
  const events = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await events.return?.();
  };

  const stream: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      if (closed) return DONE;
      const step = await events.next();
      if (closed || step.done) return DONE;
      const run = async () => {
        const result = await execute({
          ...args,
          rootValue: step.value,
          contextValue: perEvent(args.contextValue as C),
        });
        // The id a client passes as `after` to resume from here (event-id.ts); made once per
        // execution, so subscribers that share one also share the result object.
        const eventId = eventIdOf(step.value);
        if (!eventId) return result;
        const sent = { ...result, extensions: { ...result.extensions, eventId } };
        markPublishedAt(sent, publishedAtOf(step.value));
        return sent;
      };
      const value = sharing ? await sharing.executions.run(step.value, key, run) : await run();
      if (closed) return DONE;
      return { done: false, value };
    },
    async return() {
      await close();
      return DONE;
    },
    async throw(err: unknown) {
      await close();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}

/**
 * One execution per event for every subscriber whose result must be the same: equal
 * operation, variables and audience (the tenant and role: everything besides the operation that
 * a subscription's result depends on). With 1,000 subscribers of one dashboard, an event costs
 * one execution (one set of loaders, one round of Neo4j reads for a related field) instead of
 * 1,000. Results are kept per event object (the fan-out hands every subscriber of the process
 * the same one) in a WeakMap, so they go when the event does; replayed events are objects of
 * their own and are executed per subscriber.
 */
export class SharedExecutions {
  private readonly byEvent = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();
  /** Executions run (not shared) so far: what the tests and the benchmark count. */
  executed = 0;

  /** Executes for one subscriber, or shares the execution of an equal one (`key`; null: never). */
  run(
    event: unknown,
    key: string | null,
    execute: () => Promise<ExecutionResult> | ExecutionResult,
  ): Promise<ExecutionResult> {
    const once = () => {
      this.executed += 1;
      return Promise.resolve(execute());
    };
    if (key === null || typeof event !== 'object' || event === null) return once();
    let results = this.byEvent.get(event);
    if (!results) this.byEvent.set(event, (results = new Map()));
    let result = results.get(key);
    if (!result) results.set(key, (result = once()));
    return result;
  }
}

/** What makes two subscriptions' results equal for the same event. */
function shareKey(args: ExecutionArgs, audience: string): string {
  return JSON.stringify([
    audience,
    args.operationName ?? null,
    args.variableValues ?? null,
    print(args.document),
  ]);
}
