import { GraphQLError, getNamedType, type GraphQLSchema } from 'graphql';
import type { AppContext } from '../src/server/context.js';
import { formatError } from '../src/server/format-error.js';
import type { BudgetScope } from '../src/domain/budget.js';
import type { IdRef } from '../src/services/search.service.js';

type Args = Record<string, unknown>;
/**
 * What one id argument names: a label, or a check of its own (a budget's target, which its
 * scope names and which must be what setBudget takes).
 */
type IdArg = IdRef['labels'][number] | ((id: string, args: Args, ctx: AppContext) => Promise<void>);

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
  budgetWarning: {
    id: (id, args, ctx) =>
      ctx.services.budgets.assertWatchable(ctx.tenantId, (args.scope as BudgetScope) ?? null, id),
  },
};

/** Checks the ids a subscription's arguments name, in argument order. */
async function checkIds(spec: Record<string, IdArg>, args: Args, ctx: AppContext) {
  const refs: IdRef[] = [];
  for (const [name, kind] of Object.entries(spec)) {
    const id = args[name];
    if (typeof id !== 'string') continue;
    if (typeof kind === 'string') refs.push({ id, labels: [kind], what: kind });
    else await kind(id, args, ctx);
  }
  await ctx.services.search.assertKnown(ctx.tenantId, refs);
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
      try {
        // Resuming, the client first hears what it missed, a deletion of the id among it:
        // the event id it gives is checked by the pub/sub.
        if (args.after == null) await checkIds(spec, args, context);
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
