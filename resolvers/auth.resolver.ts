import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Authorized, Ctx, ID, Info, Mutation, Query, Resolver } from 'type-graphql';
import {
  ApiKey,
  ApiKeyConnection,
  AuditEventConnection,
  AuditFilter,
  CreatedApiKey,
  CreatedTenant,
  Viewer,
} from '../schema/auth.type.js';
import { pageInput, toConnection } from '../schema/connection.type.js';
import { Role } from '../schema/enums.js';
import { PageArgs } from '../schema/page.args.js';
import type { AppContext } from '../src/server/context.js';
import { NotFoundError } from '../src/domain/errors.js';
import { withoutNulls } from './args.js';

@Authorized(Role.ADMIN)
@Resolver()
export class AuthResolver {
  @Authorized(Role.VIEWER)
  @Query(() => Viewer, { description: 'Who the API key identifies, and its tenant.' })
  async viewer(@Ctx() ctx: AppContext): Promise<Viewer> {
    const principal = ctx.principal!;
    const tenant = await ctx.services.auth.tenant(principal.tenantId);
    if (!tenant) throw new NotFoundError('Tenant', principal.tenantId);
    return { keyId: principal.keyId, keyName: principal.keyName, role: principal.role, tenant };
  }

  @Query(() => ApiKeyConnection, {
    description: 'The tenant’s API keys (never the keys themselves).',
  })
  async apiKeys(
    @Ctx() ctx: AppContext,
    @Info() info: GraphQLResolveInfo,
    @Args(() => PageArgs) args: PageArgs = {},
  ): Promise<ApiKeyConnection> {
    return toConnection(await ctx.services.auth.listKeys(ctx.tenantId, pageInput(args, info)));
  }

  @Mutation(() => CreatedApiKey, {
    description: 'A new key of this tenant; its secret is shown once.',
  })
  createApiKey(
    @Arg('name', () => String) name: string,
    @Arg('role', () => Role) role: Role,
    @Ctx() ctx: AppContext,
  ): Promise<CreatedApiKey> {
    return ctx.services.auth.createKey(ctx.tenantId, name, role);
  }

  @Mutation(() => ApiKey, {
    description:
      'Revokes a key at once; WebSocket connections made with it are closed. The tenant’s ' +
      'last active ADMIN key is refused (CONFLICT): create another ADMIN key first.',
  })
  revokeApiKey(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<ApiKey> {
    return ctx.services.auth.revokeKey(ctx.tenantId, id);
  }

  @Mutation(() => CreatedTenant, {
    description: 'A new, empty tenant with its first ADMIN key; nothing of this tenant is shared.',
  })
  createTenant(
    @Arg('name', () => String) name: string,
    @Ctx() ctx: AppContext,
  ): Promise<CreatedTenant> {
    return ctx.services.auth.createTenant(name);
  }

  @Query(() => AuditEventConnection, { description: 'The tenant’s audit trail, newest first.' })
  async auditEvents(
    @Ctx() ctx: AppContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('filter', () => AuditFilter, { nullable: true }) filter?: AuditFilter | null,
    @Args(() => PageArgs) args: PageArgs = {},
  ): Promise<AuditEventConnection> {
    const { since, until, ...rest } = withoutNulls(filter);
    // The DateTimeISO scalar parses into a Date; the graph takes ISO text.
    const iso = (d?: string | Date) => (d === undefined ? undefined : new Date(d).toISOString());
    const page = await ctx.services.audit.list(
      ctx.tenantId,
      { ...rest, since: iso(since), until: iso(until) },
      pageInput(args, info),
    );
    return toConnection(page);
  }
}
