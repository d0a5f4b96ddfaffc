import { LimitExceededError } from '../src/domain/errors.js';

/** Which subscription limit was hit: the `limit` a client sees in `extensions`. */
export type SubscriptionLimit =
  'subscriptionsPerSocket' | 'subscriptionsPerKey' | 'subscriptionsPerTenant' | 'bufferedEvents';

/**
 * A subscription limit (extensions.code LIMIT_EXCEEDED, with `limit` and `max`). It carries
 * its own `extensions` because graphql-ws wraps a thrown error in a GraphQLError, and
 * graphql-js copies the original error's `extensions` into it: the client sees the code.
 */
export class SubscriptionLimitError extends LimitExceededError {
  readonly extensions: Record<string, unknown>;

  constructor(limit: SubscriptionLimit, max: number, message: string) {
    super(limit, message);
    Object.assign(this.details, { max });
    this.extensions = { ...this.details, code: this.code };
  }
}

/** Refuses one more subscription on a connection, for a key or for a tenant. */
export function tooManySubscriptions(
  scope: 'socket' | 'key' | 'tenant',
  max: number,
): SubscriptionLimitError {
  if (scope === 'tenant') {
    return new SubscriptionLimitError(
      'subscriptionsPerTenant',
      max,
      `Too many subscriptions for this tenant: the limit is ${max} across its API keys and connections on this server (TENANT_MAX_SUBSCRIPTIONS raises it); complete one before starting another`,
    );
  }
  return scope === 'socket'
    ? new SubscriptionLimitError(
        'subscriptionsPerSocket',
        max,
        `Too many subscriptions on this connection: the limit is ${max}; complete one before starting another`,
      )
    : new SubscriptionLimitError(
        'subscriptionsPerKey',
        max,
        `Too many subscriptions for this API key: the limit is ${max} across its connections; complete one before starting another`,
      );
}

/** Ends a subscriber that fell too far behind its topic. */
export function subscriberOverflow(max: number): SubscriptionLimitError {
  return new SubscriptionLimitError(
    'bufferedEvents',
    max,
    `Subscription ended: more than ${max} events were waiting to be sent to this client; read events faster or narrow the subscription's arguments, and subscribe again with "after" set to the last eventId you received to get what you missed`,
  );
}
