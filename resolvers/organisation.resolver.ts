import { JSONObjectResolver } from 'graphql-scalars';
import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { DeleteOrganisationResult, ImportResult } from '../schema/organisation.type.js';
import { Role } from '../schema/enums.js';
import type { AppContext } from '../src/context.js';

const FORMAT_NOTE =
  '{ format: "agent-platform/organisation", version: 1, nodes: [{ label, id, properties }], relationships: [{ type, from, to, properties }] }; integers as {"$int": n}, date-times as {"$datetime": "<ISO text>"}.';

@Authorized(Role.ADMIN)
@Resolver()
export class OrganisationResolver {
  @Query(() => JSONObjectResolver, {
    description: `The whole organisation as one document: ${FORMAT_NOTE}`,
  })
  exportOrganisation(@Ctx() ctx: AppContext): Promise<object> {
    return ctx.services.organisation.export(ctx.tenantId);
  }

  @Mutation(() => ImportResult, {
    description:
      "Imports a document from exportOrganisation, all or nothing. Without merge, CONFLICT when any id already exists; with merge, this organisation's nodes are updated and relationships merged, and ids of other organisations are still a CONFLICT.",
  })
  importOrganisation(
    @Arg('document', () => JSONObjectResolver) document: Record<string, unknown>,
    @Arg('merge', () => Boolean, { nullable: true, defaultValue: false }) merge: boolean | null,
    @Ctx() ctx: AppContext,
  ): Promise<ImportResult> {
    return ctx.services.organisation.import(ctx.tenantId, document, merge ?? false);
  }

  @Mutation(() => DeleteOrganisationResult, {
    description:
      'Deletes every agent, task, message, knowledge item (and the rest of the organisation) with their relationships. confirm must be the organisation (tenant) id.',
  })
  async deleteOrganisation(
    @Arg('confirm', () => String) confirm: string,
    @Ctx() ctx: AppContext,
  ): Promise<DeleteOrganisationResult> {
    return { nodesDeleted: await ctx.services.organisation.delete(ctx.tenantId, confirm) };
  }
}
