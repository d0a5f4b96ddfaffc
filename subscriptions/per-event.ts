import {
  createSourceEventStream,
  execute,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';

/**
 * graphql-js's subscribe(), except that each event is executed with a fresh context from
 * `perEvent`. A subscription lives for hours; per-request caches (DataLoaders) in a context
 * made once at subscribe time would serve stale data to every later event.
 */
export async function subscribeWithFreshContext<C>(
  args: ExecutionArgs,
  perEvent: (subscribeContext: C) => C,
): Promise<AsyncIterable<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in Object(source))) return source as ExecutionResult;
  const events = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const run = async (step: IteratorResult<unknown>): Promise<IteratorResult<ExecutionResult>> => {
    if (step.done) return { done: true, value: undefined };
    const result = await execute({
      ...args,
      rootValue: step.value,
      contextValue: perEvent(args.contextValue as C),
    });
    return { done: false, value: result };
  };
  return {
    [Symbol.asyncIterator]() {
      return {
        next: () => events.next().then(run),
        return: async () => {
          await events.return?.();
          return { done: true, value: undefined };
        },
        throw: async (err: unknown) => {
          await events.return?.();
          throw err;
        },
      };
    },
  };
}
