import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { RESOLVERS } from '../resolvers/index.js';
import { createInProcessPubSub, type PubSub } from '../subscriptions/pubsub.js';
import { auditMutations, authChecker } from './auth/authorization.js';

/** Builds the executable schema: roles through authChecker, every mutation audited. */
export function buildAppSchema(pubSub: PubSub = createInProcessPubSub()): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVERS,
    validate: false,
    pubSub,
    authChecker,
    globalMiddlewares: [auditMutations],
  });
}
