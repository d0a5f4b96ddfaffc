import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { graphql, type GraphQLObjectType } from 'graphql';
import { Authorized, buildSchema, Field, ObjectType, Query, Resolver } from 'type-graphql';
import { buildAppSchema, simplifyPlainFields } from '../src/server/schema.js';

/*
 * Plain fields resolve with graphql's default resolver (src/server/schema.ts simplifyPlainFields),
 * which skips roles and middlewares: a type with a field that has either keeps type-graphql's
 * wrappers.
 */

@ObjectType()
class PlainThing {
  @Field(() => String)
  label!: string;
}

@ObjectType()
class GuardedThing {
  @Field(() => String)
  open!: string;

  @Authorized('ADMIN')
  @Field(() => String)
  secret!: string;
}

@Resolver()
class ThingResolver {
  @Query(() => PlainThing)
  plain(): PlainThing {
    return { label: 'plain' };
  }

  @Query(() => GuardedThing)
  guarded(): GuardedThing {
    return { open: 'open', secret: 'secret' };
  }
}

const fieldsOf = (type: unknown) => (type as GraphQLObjectType).getFields();

describe('plain fields', () => {
  it('read the app’s plain fields as properties, and keep field resolvers', async () => {
    const schema = await buildAppSchema();
    const agent = fieldsOf(schema.getType('Agent'));
    const task = fieldsOf(schema.getType('Task'));
    expect([agent.name?.resolve, task.title?.resolve, task.status?.resolve]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(agent.tasks?.resolve).toBeTypeOf('function');
    expect(task.assignee?.resolve).toBeTypeOf('function');
  });

  it('keep the role check of a type with a field that has a role', async () => {
    simplifyPlainFields();
    const schema = await buildSchema({
      resolvers: [ThingResolver],
      validate: false,
      authChecker: () => false,
    });
    expect(fieldsOf(schema.getType('PlainThing')).label?.resolve).toBeUndefined();
    expect(fieldsOf(schema.getType('GuardedThing')).secret?.resolve).toBeTypeOf('function');
    const plain = await graphql({ schema, source: '{ plain { label } }' });
    expect(plain).toEqual({ data: { plain: { label: 'plain' } } });
    const guarded = await graphql({ schema, source: '{ guarded { open secret } }' });
    expect(guarded.data).toBeNull();
    expect(guarded.errors?.[0]?.message).toMatch(/Access denied/);
  });
});
