import 'reflect-metadata';
import { isAbstractType, type GraphQLSchema } from 'graphql';
import { buildSchema, getMetadataStorage } from 'type-graphql';
import { RESOLVERS } from '../../resolvers/index.js';
import { answerReadAhead } from '../../resolvers/read-ahead.js';
import { checkSubscriptionIds } from '../../resolvers/subscription-ids.js';
import { createInProcessPubSub, type PubSub } from '../../subscriptions/pubsub.js';
import { auditEveryMutation, authChecker } from '../auth/authorization.js';

/**
 * Builds the executable schema: roles through authChecker, every mutation audited, fields a
 * list reads ahead answered from it (resolvers/read-ahead.ts), subscriptions' ids checked when
 * they are made (resolvers/subscription-ids.ts).
 */
export async function buildAppSchema(
  pubSub: PubSub = createInProcessPubSub(),
): Promise<GraphQLSchema> {
  simplifyPlainFields();
  // No global middlewares: simplified fields would skip them (simplifyPlainFields).
  const schema = await buildSchema({ resolvers: RESOLVERS, validate: false, pubSub, authChecker });
  auditEveryMutation(schema);
  answerReadAhead(schema);
  checkSubscriptionIds(schema);
  // Interfaces and unions resolve by `__typename` (schema/node.type.ts), synchronously, as
  // compiled queries need: graphql's default resolver for them, not type-graphql's async one.
  for (const type of Object.values(schema.getTypeMap())) {
    if (isAbstractType(type)) type.resolveType = undefined;
  }
  return schema;
}

/**
 * Plain fields (a property, no field resolver) get graphql's default resolver instead of a
 * function of type-graphql's each (its `simpleResolvers`): a compiled query reads them as
 * properties, about 0.7 ms of a 50-agent page's CPU (issue 15). Simple resolvers skip roles and
 * middlewares, so an object type keeps its wrappers if any field it has (its own, a superclass's
 * or an interface's) carries either or is renamed. Field resolvers are untouched either way.
 */
export function simplifyPlainFields(storage = getMetadataStorage()): void {
  // Roles and middlewares reach a field's metadata only when the schema is built: read where
  // the decorators put them. A renamed field is read by its property's name, the default
  // resolver would read the field's.
  const guarded = new Set([
    ...storage.authorizedFields.map((f) => f.target),
    ...storage.middlewares.map((m) => m.target),
    ...storage.fields.filter((f) => f.name !== f.schemaName).map((f) => f.target),
  ]);
  const lineage = (target: Function): Function[] => {
    const parent = Object.getPrototypeOf(target) as Function;
    return parent.prototype === undefined ? [target] : [target, ...lineage(parent)];
  };
  for (const type of storage.objectTypes) {
    if (type.simpleResolvers !== undefined) continue; // set by the type, or by an earlier call
    const sources = [type.target, ...(type.interfaceClasses ?? [])].flatMap(lineage);
    if (!sources.some((s) => guarded.has(s))) type.simpleResolvers = true;
  }
}
