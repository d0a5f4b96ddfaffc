import {
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
} from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestServer } from './server.js';
import type { OperationTemplate, RootKind, Slot } from './schema-walk.js';

/*
 * The cross-tenant matrix's probes (tenancy.int.test.ts): the id kinds tried in every ID
 * position, the calls planned for each root field, raw HTTP and graphql-ws calls as the
 * attacker, and what of an answer is compared with the answer for unknown ids.
 */

/** The kinds of id tried in every ID position; one fixture of each per tenant. */
export const KINDS = [
  'agent',
  'task',
  'subtask',
  'message',
  'conversation',
  'knowledge',
  'apiKey',
  'entity',
  'episode',
  'document',
  'run',
  'agentVersion',
  'checkpoint',
] as const;
export type Kind = (typeof KINDS)[number];
export type Fixtures = Record<Kind, string>;

/** Root fields not walked: health reads no tenant data. */
export const SKIPPED = new Set(['query.health']);
/** Calls per field at most: id kinds rotated through every position, plus mixed calls. */
export const MAX_CALLS_PER_FIELD = 12;
/**
 * HTTP probes in flight at once. Each call costs a few Neo4j round trips and little work, so one
 * call at a time left the server mostly waiting: 1,500 calls took 166 s on a quiet CI run and
 * over 300 s on a loaded machine.
 */
export const PROBE_CONCURRENCY = 4;
/**
 * Limits that never hide a tenancy bug, as the admin key never lets a role check hide one: the
 * walk selects every field two levels deep, far more than a client does (query.agents went
 * over the default complexity of 50,000 as Agent grew), and on a loaded machine Neo4j's first
 * plan of a statement can take over the default 15 s. The limits suite tests the limits.
 */
export const WALK_LIMITS = { maxComplexity: 1_000_000, requestTimeoutMs: 60_000 };
/** Refusals a cross-tenant call may get; anything else (INTERNAL_SERVER_ERROR...) is a bug. */
export const ALLOWED_CODES = new Set(['NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT', 'FORBIDDEN']);
export const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g;

export interface Result {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: readonly GraphQLFormattedError[];
}

export async function post(
  url: string,
  key: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<Result> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  try {
    return { status: res.status, ...(JSON.parse(text) as ExecutionResult) } as Result;
  } catch {
    return { status: res.status, errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] };
  }
}

/**
 * Polls `check` until it holds; fails naming `what` after `timeoutMs` (generous: the walk runs
 * beside its own HTTP probes, on machines that run other suites too).
 */
export async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  for (const deadline = performance.now() + timeoutMs; !check();) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * An attacker's subscription on victim ids (the probe) and, on the same socket, the same
 * subscription on the attacker's own ids (the control). The probe is refused when it is made
 * (NOT_FOUND: a subscription checks its ids), and must hear nothing after; its silence is
 * measured against the control: the attacker's own change, published after the events under
 * test through the same pub/sub to the same socket, must have reached the control before the
 * probe's silence counts. No quiet window.
 */
export interface Watch {
  probe: unknown[];
  control: unknown[];
  /** The errors the probe was answered with instead of events. */
  refused: unknown[];
  close(): Promise<void>;
}

export async function watch(
  server: Pick<TestServer, 'wsUrl' | 'pubsub'>,
  key: string,
  query: string,
  probe: Record<string, unknown>,
  control: Record<string, unknown>,
): Promise<Watch> {
  const heard = { probe: [] as unknown[], control: [] as unknown[] };
  const refused: unknown[] = [];
  const made = server.pubsub.subscriptionsMade();
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: false,
  });
  for (const [name, variables] of [
    ['probe', probe],
    ['control', control],
  ] as const) {
    const into = heard[name];
    // A refusal when the subscription is made: one result holding only errors.
    const isRefusal = (e: { errors?: unknown; data?: unknown }) =>
      name === 'probe' && !!e.errors && !e.data;
    client.subscribe(
      { query, variables },
      {
        next: (e) => void (isRefusal(e) ? refused.push(e.errors) : into.push(e)),
        error: (e) => void into.push({ error: e }),
        complete() {},
      },
    );
  }
  await until(
    'both operations of a watch to be answered',
    () =>
      server.pubsub.subscriptionsMade() + refused.length >= made + 2 ||
      heard.probe.length + heard.control.length > 0,
  );
  return {
    ...heard,
    refused,
    async close() {
      await client.dispose();
    },
  };
}

/** A raw graphql-ws subscription that keeps every event and every error as sent. */
export interface Listener {
  events: FormattedExecutionResult[];
  errors: unknown[];
  close(): Promise<void>;
}

export async function listen(
  server: Pick<TestServer, 'wsUrl' | 'pubsub'>,
  key: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<Listener> {
  const events: FormattedExecutionResult[] = [];
  const errors: unknown[] = [];
  const made = server.pubsub.subscriptionsMade();
  let connected!: () => void;
  const isConnected = new Promise<void>((r) => (connected = r));
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: false,
    on: { connected: () => connected() },
  });
  client.subscribe(
    { query, variables },
    {
      // A subscription refused while its source stream is made (a bad `after`) is answered
      // with one result holding only errors (graphql-js subscribe()), then completed.
      next: (e) =>
        void (e.errors && !e.data
          ? errors.push(e.errors)
          : events.push(e as FormattedExecutionResult)),
      error: (e) => void errors.push(e),
      complete: () => {},
    },
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no graphql-ws connection within 20 s')), 20_000);
  });
  await Promise.race([isConnected, timeout]).finally(() => clearTimeout(timer));
  // The server's answer, not a pause: an error, or the subscription made in its pub/sub (the
  // caller opens one listener at a time). Comparing two answers that never came proves nothing.
  await until(
    `an answer to ${query.slice(0, 80)}`,
    () => errors.length > 0 || server.pubsub.subscriptionsMade() > made,
  );
  return {
    events,
    errors,
    async close() {
      await client.dispose();
    },
  };
}

/** graphql-ws hands operation errors over as an array, a closed socket as a CloseEvent. */
export function wsErrors(errors: unknown[]): GraphQLFormattedError[] {
  return errors.flatMap((e) => {
    if (Array.isArray(e)) return e as GraphQLFormattedError[];
    const close = e as { code?: number; reason?: string; message?: string };
    return [{ message: close.code ? `closed ${close.code}: ${close.reason}` : String(e) }];
  });
}

/** The id kind an ID position most likely wants, from its name, then the field's name. */
export function preferredKind(slot: Slot, field: string): Kind {
  const guess = (text: string): Kind | undefined => {
    const t = text.toLowerCase();
    if (t.includes('key')) return 'apiKey';
    if (/entit|into|focus/.test(t)) return 'entity';
    if (t.includes('episode')) return 'episode';
    if (t.includes('document')) return 'document';
    if (t.startsWith('run')) return 'run';
    if (t.includes('checkpoint')) return 'checkpoint';
    if (/knowledge|supersedes/.test(t)) return 'knowledge';
    if (t.includes('conversation')) return 'conversation';
    if (t.includes('message')) return 'message';
    if (/task|root|parent|depends/.test(t)) return 'task';
    if (/agent|assignee|delegated|reassign/.test(t)) return 'agent';
    return undefined;
  };
  return guess(slot.name) ?? guess(field) ?? 'agent';
}

/** deleteOrganisation's `confirm` gets the victim's tenant id. */
export const isTenantSlot = (slot: Slot) => slot.scalar === 'String' && slot.name === 'confirm';
export const OWN_LABEL = 'Attacker own';
/** String slots that name a capability (not an id: never rotated through the id kinds). */
export const CAPABILITY_SLOTS = new Set(['capabilityPerformance.name']);
export const isCapabilitySlot = (field: string, slot: Slot) =>
  CAPABILITY_SLOTS.has(`${field}.${slot.name}`);
/** The capability each tenant's seed gives its operator. */
export const capabilityOf = (label: string) => `${label.replace(/ /g, '-')}-research`;

/** One call: who owns the id in each slot, of which kind, and the optional Booleans. */
export interface Plan {
  owners: ('victim' | 'own')[];
  kinds: Kind[];
  toggle: boolean;
}

/**
 * The calls for one field: every slot with the victim id of its preferred kind; with several
 * slots, each slot alone the victim's and the rest the attacker's own (so the victim id is
 * the one that must be refused); then every kind in every slot, rotated.
 */
export function plansFor(template: OperationTemplate): Plan[] {
  const slots = template.slots;
  const preferred = slots.map((s) => preferredKind(s, template.field));
  const victimAll = slots.map(() => 'victim' as const);
  const plans: Omit<Plan, 'toggle'>[] = [{ owners: victimAll, kinds: preferred }];
  const idSlots = slots.filter((s) => !isTenantSlot(s)).length;
  if (idSlots > 1) {
    slots.forEach((_, j) =>
      plans.push({
        owners: slots.map((s, i) => (i === j || isTenantSlot(s) ? 'victim' : 'own')),
        kinds: preferred,
      }),
    );
  }
  for (let by = 1; by < KINDS.length; by++) {
    plans.push({
      owners: victimAll,
      kinds: preferred.map((k) => KINDS[(KINDS.indexOf(k) + by) % KINDS.length]!),
    });
  }
  const withToggles: Plan[] = plans.map((p, i) => ({
    ...p,
    toggle: template.hasToggles && i % 2 === 1,
  }));
  if (template.hasToggles) withToggles.push({ ...plans[0]!, toggle: true });
  const seen = new Set<string>();
  return withToggles
    .filter((p) => {
      const key = JSON.stringify([
        p.owners,
        p.kinds.map((k, i) =>
          isTenantSlot(slots[i]!)
            ? 'tenant'
            : isCapabilitySlot(template.field, slots[i]!)
              ? 'capability'
              : k,
        ),
        p.toggle,
      ]);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .slice(0, MAX_CALLS_PER_FIELD);
}

export function replaceAll(text: string, values: string[]): string {
  return values.reduce((t, v, i) => t.split(v).join(`<planted ${i}>`), text);
}

/** What a caller can observe, with the planted values (victim or unknown) made comparable. */
export function observed(root: RootKind, field: string, res: Result, planted: string[]) {
  const errors = (res.errors ?? []).map((e) => ({
    code: e.extensions?.code ?? null,
    message: replaceAll(e.message, planted),
    path: e.path ?? null,
  }));
  const data =
    root === 'query'
      ? replaceAll(JSON.stringify(res.data ?? null), planted).replace(ISO_TIME, '<time>')
      : res.data?.[field] == null
        ? 'null'
        : 'a value';
  return { status: res.status, errors, data };
}

/** Every string inside a JSON value. */
export function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

export function excerpt(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
