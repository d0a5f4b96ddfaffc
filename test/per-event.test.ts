import {
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parse,
  type ExecutionResult,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { subscribeWithFreshContext } from '../subscriptions/per-event.js';
import { createInProcessPubSub, type PubSub } from '../subscriptions/pubsub.js';

interface Ctx {
  pubsub: PubSub;
  n: number;
}

/** A schema with one subscription field fed by `pubsub`, and the context each event got. */
function setup() {
  const pubsub = createInProcessPubSub();
  const contexts: number[] = [];
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        said: {
          type: GraphQLString,
          subscribe: (_root, _args, ctx: Ctx) => ctx.pubsub.subscribe('said'),
          resolve: (payload: string, _args, ctx: Ctx) => {
            contexts.push(ctx.n);
            return payload;
          },
        },
      },
    }),
  });
  let n = 0;
  const start = () =>
    subscribeWithFreshContext<Ctx>(
      { schema, document: parse('subscription { said }'), contextValue: { pubsub, n } },
      (ctx) => ({ ...ctx, n: ++n }),
    ) as Promise<AsyncIterableIterator<ExecutionResult>>;
  return { pubsub, contexts, start };
}

describe('subscribeWithFreshContext', () => {
  it('executes each event with a fresh context', async () => {
    const { pubsub, contexts, start } = setup();
    const stream = (await start())[Symbol.asyncIterator]();
    pubsub.publish('said', 'a');
    pubsub.publish('said', 'b');
    expect((await stream.next()).value).toEqual({ data: { said: 'a' } });
    expect((await stream.next()).value).toEqual({ data: { said: 'b' } });
    expect(contexts).toEqual([1, 2]);
  });

  it('has return() on the returned object itself, as graphql-ws requires to end it (issue 9 leak)', async () => {
    const { pubsub, start } = setup();
    const stream = await start();
    // graphql-ws 6's isAsyncGenerator: an async iterable with `return` on the value itself.
    expect(typeof (stream as { return?: unknown }).return).toBe('function');
    expect(stream[Symbol.asyncIterator]()).toBe(stream);
    expect(pubsub.subscriberCount('said')).toBe(1);
    const pending = stream.next();
    await stream.return!();
    expect(pubsub.subscriberCount('said')).toBe(0);
    expect(await pending).toEqual({ done: true, value: undefined });
  });

  it('yields nothing after return(), not even an event already being executed', async () => {
    const { pubsub, start } = setup();
    const stream = (await start())[Symbol.asyncIterator]();
    pubsub.publish('said', 'in flight');
    const pending = stream.next();
    await stream.return!();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });
});
