import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { AuthChecker } from 'type-graphql';
import { auditScope, collectIds, type AuditScope } from '../audit-scope.js';
import type { AppContext } from '../server/context.js';
import { AuditOutcome, Role, roleAllows } from '../domain/auth.js';
import { AppError, ForbiddenError, UnauthenticatedError } from '../domain/errors.js';

/**
 * type-graphql's authChecker: @Authorized(role) names the weakest role allowed. No key gives
 * UNAUTHENTICATED; a weaker role gives FORBIDDEN, and the refusal is audited.
 */
export const authChecker: AuthChecker<AppContext, Role> = async ({ context, info }, roles) => {
  const principal = context.principal;
  if (!principal) {
    throw new UnauthenticatedError('Send an API key as "Authorization: Bearer <key>"');
  }
  const need = roles[0] ?? Role.VIEWER;
  if (roleAllows(principal.role, need)) return true;
  await context.services.audit.record({
    tenantId: principal.tenantId,
    operation: `${info.parentType.name}.${info.fieldName}`,
    actor: principal.keyName,
    actorKeyId: principal.keyId,
    targetIds: [],
    outcome: AuditOutcome.FORBIDDEN,
    code: 'FORBIDDEN',
  });
  throw new RoleRefusedError(
    `${info.parentType.name}.${info.fieldName} needs the ${need} role; this key has ${principal.role}`,
  );
};

/** A refusal by role, already audited (as FORBIDDEN) by the check that refused it. */
class RoleRefusedError extends ForbiddenError {}

/**
 * Audits every mutation: success is written by the unit of work in the mutation's own
 * transaction; a failure (which rolled that transaction back) is written here, separately; a
 * refusal by role was audited by the check. It wraps the Mutation fields' resolvers only: as a
 * type-graphql global middleware it made every field of every answer async (issue 15).
 */
export function auditEveryMutation(schema: GraphQLSchema): void {
  for (const field of Object.values(schema.getMutationType()?.getFields() ?? {})) {
    const resolve: GraphQLFieldResolver<unknown, AppContext> =
      field.resolve ?? defaultFieldResolver;
    field.resolve = (root, args: Record<string, unknown>, context: AppContext, info) =>
      audited(context, info.fieldName, args, () => resolve(root, args, context, info));
  }
}

/** The time a failure's audit event may take, whatever was left of its request's. */
const FAILURE_AUDIT_MS = 5_000;

async function audited(
  context: AppContext,
  operation: string,
  args: Record<string, unknown>,
  next: () => unknown,
): Promise<unknown> {
  const principal = context.principal;
  if (!principal) return next();
  const scope: AuditScope = {
    tenantId: principal.tenantId,
    operation,
    actor: principal.keyName,
    actorKeyId: principal.keyId,
    targetIds: collectIds(args),
    written: false,
  };
  try {
    const result = await auditScope.run(scope, next);
    if (!scope.written) await record(context, scope, AuditOutcome.SUCCESS, null);
    return result;
  } catch (err) {
    if (err instanceof RoleRefusedError) throw err;
    const code = err instanceof AppError ? err.code : 'INTERNAL_SERVER_ERROR';
    // Under a deadline of its own: a mutation that failed because its request ran out of time
    // would otherwise lose its event too (test/audit-deadline.int.test.ts).
    await context.graph
      .withDeadline(FAILURE_AUDIT_MS, () => record(context, scope, AuditOutcome.FAILURE, code))
      .catch((auditErr: unknown) =>
        context.logger.error({ err: auditErr }, 'could not write the audit event of a failure'),
      );
    throw err;
  }
}

function record(
  context: AppContext,
  scope: AuditScope,
  outcome: AuditOutcome,
  code: string | null,
) {
  return context.services.audit.record({
    tenantId: scope.tenantId,
    operation: scope.operation,
    actor: scope.actor,
    actorKeyId: scope.actorKeyId,
    targetIds: [...scope.targetIds],
    outcome,
    code,
  });
}
