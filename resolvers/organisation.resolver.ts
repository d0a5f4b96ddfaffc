import { JSONObjectResolver } from 'graphql-scalars';
import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { DeleteOrganisationResult, ImportResult } from '../schema/organisation.type.js';
import { Role } from '../schema/enums.js';
import type { AppContext } from '../src/server/context.js';

const FORMAT_NOTE =
  '{ format: "agent-platform/organisation", version: 1, nodes: [{ label, id, properties }], relationships: [{ type, from, to, properties }], signature }; integers as {"$int": n}, date-times as {"$datetime": "<ISO text>"}.';

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
      "Imports a document from exportOrganisation, all or nothing. Every node and relationship must keep the domain's rules (types, enums, required properties such as createdAt, and workflows the engine can run), else BAD_USER_INPUT naming the first one. Ids of this organisation are a CONFLICT without merge and are updated with merge (but a task that finished is kept as it is: see finishedTasksKept); other ids are re-minted (see nodeIds) unless the document is this organisation's own signed export.",
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
