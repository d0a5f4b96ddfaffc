import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { RESOLVERS } from '../resolvers/index.js';
import { createInProcessPubSub, type PubSub } from '../subscriptions/pubsub.js';
import { auditEveryMutation, authChecker } from './auth/authorization.js';

/** Builds the executable schema: roles through authChecker, every mutation audited. */
export async function buildAppSchema(
  pubSub: PubSub = createInProcessPubSub(),
): Promise<GraphQLSchema> {
  const schema = await buildSchema({ resolvers: RESOLVERS, validate: false, pubSub, authChecker });
  auditEveryMutation(schema);
  return schema;
}
