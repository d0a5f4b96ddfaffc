import {
  createSourceEventStream,
  execute,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import { eventIdOf } from './event-id.js';

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
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
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
      const result = await execute({
        ...args,
        rootValue: step.value,
        contextValue: perEvent(args.contextValue as C),
      });
      if (closed) return DONE;
      // The id a client passes as `after` to resume from here (event-id.ts).
      const eventId = eventIdOf(step.value);
      const value = result as ExecutionResult;
      return {
        done: false,
        value: eventId ? { ...value, extensions: { ...value.extensions, eventId } } : value,
      };
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
