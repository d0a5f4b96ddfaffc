import 'reflect-metadata';
import { isAbstractType, type GraphQLSchema } from 'graphql';
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
  // Interfaces and unions resolve by `__typename` (schema/node.type.ts), synchronously, as
  // compiled queries need: graphql's default resolver for them, not type-graphql's async one.
  for (const type of Object.values(schema.getTypeMap())) {
    if (isAbstractType(type)) type.resolveType = undefined;
  }
  return schema;
}
