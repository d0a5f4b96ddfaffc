import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { RESOLVERS } from '../resolvers/index.js';
import { createInProcessPubSub, type PubSub } from '../subscriptions/pubsub.js';

/** Builds the executable schema from the type-graphql classes. */
export function buildAppSchema(pubSub: PubSub = createInProcessPubSub()): Promise<GraphQLSchema> {
  return buildSchema({ resolvers: RESOLVERS, validate: false, pubSub });
}
