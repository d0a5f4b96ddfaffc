import { GraphQLError, getNamedType, type GraphQLSchema } from 'graphql';
import type { AppContext } from '../src/context.js';
import { formatError } from '../src/format-error.js';
import type { IdRef } from '../src/services/search.service.js';

type Args = Record<string, unknown>;
/** What one id argument names: a label, or the labels and noun its other arguments make it. */
type IdArg = IdRef['labels'][number] | ((args: Args, tenantId: string) => Omit<IdRef, 'id'> | null);

/**
 * Every subscription argument that takes an id (`after` aside: an event id, checked by the
 * pub/sub), and what it names. A subscription on an id of nothing, or of another tenant, would
 * wait forever for events that cannot come: it is refused with NOT_FOUND when it is made.
 */
export const SUBSCRIPTION_IDS: Record<string, Record<string, IdArg>> = {
  taskUpdated: { taskId: 'Task', rootId: 'Task' },
  stepTokens: { taskId: 'Task', agentId: 'Agent' },
  toolCalls: { taskId: 'Task', agentId: 'Agent' },
  agentStatusChanged: { agentId: 'Agent' },
  messageSent: { agentId: 'Agent', conversationId: 'Conversation' },
  chatTokens: { conversationId: 'Conversation', agentId: 'Agent' },
  documentProgress: { id: 'Document' },
  budgetWarning: { id: budgetTarget },
};

/** A budget's target: by its scope, or, with none, an agent, a root task or the tenant. */
function budgetTarget(args: Args, tenantId: string): Omit<IdRef, 'id'> | null {
  switch (args.scope) {
    case 'TENANT':
      return args.id === tenantId ? null : { labels: [], what: 'Tenant' };
    case 'AGENT':
      return { labels: ['Agent'], what: 'Agent' };
    case 'TASK':
      return { labels: ['Task'], what: 'Task' };
    default:
      return args.id === tenantId ? null : { labels: ['Agent', 'Task'], what: 'Agent or task' };
  }
}

/** The ids a subscription's arguments name, in argument order. */
function refsOf(spec: Record<string, IdArg>, args: Args, tenantId: string): IdRef[] {
  return Object.entries(spec).flatMap(([name, kind]) => {
    const id = args[name];
    if (typeof id !== 'string') return [];
    const named = typeof kind === 'string' ? { labels: [kind], what: kind } : kind(args, tenantId);
    return named ? [{ id, ...named }] : [];
  });
}

/**
 * Checks the ids of every subscription in SUBSCRIPTION_IDS before its events are subscribed
 * to. Throws at build time for a subscription argument of type ID that the list leaves out, so
 * a new one cannot skip the check.
 */
export function checkSubscriptionIds(schema: GraphQLSchema): void {
  const fields = schema.getSubscriptionType()?.getFields() ?? {};
  for (const name of Object.keys(SUBSCRIPTION_IDS))
    if (!fields[name]) throw new Error(`SUBSCRIPTION_IDS names no subscription: ${name}`);
  for (const field of Object.values(fields)) {
    const spec = SUBSCRIPTION_IDS[field.name] ?? {};
    for (const arg of field.args) {
      if (arg.name !== 'after' && getNamedType(arg.type).name === 'ID' && !spec[arg.name])
        throw new Error(`subscription ${field.name}(${arg.name}) is missing in SUBSCRIPTION_IDS`);
    }
    const subscribe = field.subscribe;
    if (!subscribe || !SUBSCRIPTION_IDS[field.name]) continue;
    field.subscribe = async (source, args: Args, context: AppContext, info) => {
      const refs = refsOf(spec, args, context.tenantId);
      try {
        await context.services.search.assertKnown(context.tenantId, refs);
      } catch (err) {
        // graphql-ws answers without Apollo's formatError: the code rides in the extensions,
        // and anything but an AppError is not shown (nor a database outage's details).
        const shown = formatError({ message: String(err) }, err, context.logger);
        throw new GraphQLError(shown.message, {
          originalError: err instanceof Error ? err : undefined,
          extensions: shown.extensions,
        });
      }
      return subscribe(source, args, context, info);
    };
  }
}
