import { randomUUID } from 'node:crypto';
import type { GraphQLSchema } from 'graphql';
import { expect } from 'vitest';
import { mapBounded } from './bounded.js';
import { operationTemplate, rootFields, type OperationTemplate } from './schema-walk.js';
import type { TestServer } from './server.js';
import {
  ALLOWED_CODES,
  CAPABILITY_SLOTS,
  OWN_LABEL,
  PROBE_CONCURRENCY,
  SKIPPED,
  capabilityOf,
  excerpt,
  isCapabilitySlot,
  isTenantSlot,
  listen,
  observed,
  plansFor,
  post,
  replaceAll,
  wsErrors,
  type Fixtures,
  type Listener,
  type Plan,
  type Result,
  until,
  type Watch,
} from './tenancy-probes.js';
import {
  TenancySendMessage,
  TenancySetAgentStatus,
  TenancyUpdateTask,
} from './tenancy-fixtures.js';

/*
 * The cross-tenant matrix's walk (tenancy.int.test.ts): every root field called as the attacker
 * with the victim's values and again with unknown ones, and every answer inspected for leaks.
 */

/** A subscription with victim values, kept open for the rest of the walk. */
export interface OpenProbe {
  name: string;
  listener: Listener;
}

/** Both tenants, their fixtures, and where the walk records what it found. */
export interface WalkContext {
  victim: TestServer;
  attacker: TestServer;
  token: string;
  victimLabel: string;
  victimIds: Fixtures;
  ownIds: Fixtures;
  victimAlternates: Fixtures;
  ownAlternates: Fixtures;
  /** Every id of the victim: its nodes, keys and tenant. */
  allVictimIds: string[];
  /** Every text of the victim that holds the token: names, titles, contents... */
  secrets: string[];
  problems: string[];
  exercised: Set<string>;
  createdTenants: string[];
  probes: OpenProbe[];
}

/**
 * The operation of every walked root field (all but SKIPPED), its ID positions and the Strings
 * that name a tenant or a capability as slots; `importDocument` is what importOrganisation gets.
 */
export function walkTemplates(
  schema: GraphQLSchema,
  token: string,
  importDocument: object,
): { expectedFields: string[]; templates: OperationTemplate[] } {
  const fields = rootFields(schema).filter((f) => !SKIPPED.has(`${f.root}.${f.field.name}`));
  const expectedFields = fields.map((f) => `${f.root}.${f.field.name}`);
  const templates = fields.map(({ root, field }) =>
    operationTemplate(schema, root, field, {
      isSlot: (name, scalar, fieldName) =>
        scalar === 'ID' ||
        (scalar === 'String' &&
          (name === 'confirm' || CAPABILITY_SLOTS.has(`${fieldName}.${name}`))),
      scalar: (scalar, name, fieldName) => {
        switch (scalar) {
          case 'String':
            // Searches look for the victim's own word; everything else gets plain text.
            return name === 'query' || name === 'text' ? token : 'tenancy probe';
          case 'Int':
            return 5;
          case 'Float':
            return 0.5;
          case 'Boolean':
            return false;
          case 'DateTimeISO':
            return new Date().toISOString();
          case 'JSONObject':
            // Re-importing the victim's ids must be refused (CONFLICT), never touch them.
            return fieldName === 'importOrganisation' ? importDocument : {};
        }
        throw new Error(`no probe value for scalar ${scalar} (${fieldName}.${name})`);
      },
    }),
  );
  return { expectedFields, templates };
}

/** The walk's calls, recording into `ctx`; calls() counts the calls made so far. */
export function tenancyWalk(ctx: WalkContext) {
  const { victim, attacker, token, victimLabel, problems, exercised, createdTenants, probes } = ctx;
  const { victimIds, ownIds, victimAlternates, ownAlternates, allVictimIds, secrets } = ctx;
  let calls = 0;

  /** Calls as the attacker on the shared server. */
  const attack = (query: string, variables: Record<string, unknown>) =>
    post(victim.url, attacker.adminKey, query, variables);

  /** Leaks and refusals that are not clean, in one response of a victim-id call. */
  function inspect(where: string, res: Result): void {
    const data = JSON.stringify(res.data ?? null);
    const everything = JSON.stringify({ data: res.data ?? null, errors: res.errors ?? [] });
    if (res.status >= 500) problems.push(`${where}: HTTP ${res.status}`);
    for (const id of allVictimIds) {
      if (data.includes(id))
        problems.push(`${where}: data holds victim id ${id}: ${excerpt(data)}`);
    }
    if (data.includes(token)) problems.push(`${where}: data holds victim text: ${excerpt(data)}`);
    for (const secret of secrets) {
      if (everything.includes(secret)) {
        problems.push(`${where}: response holds victim text "${secret}": ${excerpt(everything)}`);
      }
    }
    for (const error of res.errors ?? []) {
      const code = error.extensions?.code;
      if (typeof code !== 'string' || !ALLOWED_CODES.has(code)) {
        problems.push(`${where}: error with code ${String(code)}: ${error.message}`);
      }
    }
  }

  /** Fills a plan's slots; `unknown` swaps every victim value for a fresh, unknown one. */
  function fill(template: OperationTemplate, plan: Plan, unknown: Map<string, string> | null) {
    const planted: string[] = [];
    const labels: string[] = [];
    const used = new Set<string>();
    // A kind's second slot in one call gets the alternate id: addTaskDependency(a, b), not (a, a).
    const pick = (i: number, primary: Fixtures, alternate: Fixtures) => {
      const kind = plan.kinds[i]!;
      const key = `${plan.owners[i]} ${kind}`;
      const second = used.has(key);
      used.add(key);
      labels[i] = `${template.slots[i]!.path}=${key}${second ? ' (another)' : ''}`;
      return second ? alternate[kind] : primary[kind];
    };
    const variables = template.variables((i) => {
      const slot = template.slots[i]!;
      // A capability is named, not an id: the owner's name, whatever the plan's kinds.
      const capability = isCapabilitySlot(template.field, slot);
      if (capability) labels[i] = `${slot.path}=${plan.owners[i]} capability`;
      if (plan.owners[i] === 'own') {
        return capability ? capabilityOf(OWN_LABEL) : pick(i, ownIds, ownAlternates);
      }
      let value: string;
      if (isTenantSlot(slot)) {
        labels[i] = `${slot.path}=victim tenant`;
        value = victim.tenantId;
      } else if (capability) {
        value = capabilityOf(victimLabel);
      } else {
        value = pick(i, victimIds, victimAlternates);
      }
      if (!unknown) {
        if (!planted.includes(value)) planted.push(value);
        return value;
      }
      if (!unknown.has(value)) unknown.set(value, randomUUID());
      const swapped = unknown.get(value)!;
      if (!planted.includes(swapped)) planted.push(swapped);
      return swapped;
    }, plan.toggle);
    const args = [...labels, ...(plan.toggle ? ['booleans=true'] : [])];
    return { variables, planted, where: `${template.root}.${template.field}(${args.join(', ')})` };
  }

  /**
   * One call with victim values and, when it planted any, the same call with unknown values
   * right after it: existence must not leak, so both must be answered alike.
   */
  async function probeHttp(template: OperationTemplate, plan: Plan): Promise<void> {
    const hit = fill(template, plan, null);
    const where = hit.where;
    const res = await attack(template.document, hit.variables);
    calls++;
    exercised.add(`${template.root}.${template.field}`);
    inspect(where, res);
    if (template.field === 'createTenant') {
      const id = (res.data?.createTenant as { tenant?: { id?: string } } | null)?.tenant?.id;
      if (id) createdTenants.push(id);
    }
    if (hit.planted.length === 0) return;
    const miss = fill(template, plan, new Map());
    const unknownRes = await attack(template.document, miss.variables);
    calls++;
    const seen = observed(template.root, template.field, res, hit.planted);
    const expected = observed(template.root, template.field, unknownRes, miss.planted);
    if (JSON.stringify(seen) !== JSON.stringify(expected)) {
      problems.push(
        `${where}: answered differently than for unknown ids:\n  victim:  ${excerpt(JSON.stringify(seen))}\n  unknown: ${excerpt(JSON.stringify(expected))}`,
      );
    }
  }

  /**
   * Probes the fields, PROBE_CONCURRENCY calls at a time; a probe and its control still run one
   * after the other. Probes with victim values are refused and change nothing the others see
   * (the walk's own subject: the snapshots check it). A field without slots (createAgent,
   * importOrganisation...) succeeds and changes the attacker's organisation, so it runs alone
   * at its place in schema order: every probe meets the organisation a one-by-one walk would.
   */
  async function walkHttp(templates: OperationTemplate[]): Promise<void> {
    let batch: { template: OperationTemplate; plan: Plan }[] = [];
    const flush = async () => {
      await mapBounded(batch, PROBE_CONCURRENCY, (p) => probeHttp(p.template, p.plan));
      batch = [];
    };
    for (const template of templates) {
      const probes = plansFor(template).map((plan) => ({ template, plan }));
      if (template.slots.length > 0) {
        batch.push(...probes);
        continue;
      }
      await flush();
      for (const p of probes) await probeHttp(p.template, p.plan);
    }
    await flush();
  }

  async function walkSubscription(template: OperationTemplate): Promise<void> {
    // One listener at a time: each waits for its own answer (see listen).
    for (const plan of plansFor(template)) {
      const hit = fill(template, plan, null);
      const where = hit.where;
      const miss = fill(template, plan, new Map());
      const probe = await listen(victim, attacker.adminKey, template.document, hit.variables);
      const control = await listen(victim, attacker.adminKey, template.document, miss.variables);
      calls += 2;
      exercised.add(`${template.root}.${template.field}`);
      await control.close();
      // Kept open for the rest of the walk: it must never announce anything of the victim.
      probes.push({ name: where, listener: probe });
      const seen = wsErrors(probe.errors).map((e) => ({
        code: e.extensions?.code ?? null,
        message: replaceAll(e.message, hit.planted),
      }));
      const expected = wsErrors(control.errors).map((e) => ({
        code: e.extensions?.code ?? null,
        message: replaceAll(e.message, miss.planted),
      }));
      inspect(where, { status: 200, errors: wsErrors(probe.errors) });
      if (JSON.stringify(seen) !== JSON.stringify(expected)) {
        problems.push(
          `${where}: answered differently than for unknown ids: ${JSON.stringify(seen)} vs ${JSON.stringify(expected)}`,
        );
      }
    }
  }

  return { walkHttp, walkSubscription, calls: () => calls };
}

/**
 * The attacker changes its own fixtures (one event for every watch's control) and waits until
 * every control has heard it; then returns what each probe heard, which must be nothing.
 */
export function attackerHeardOn(
  victim: TestServer,
  attackerHeaders: Record<string, string>,
  ownIds: Fixtures,
  attackerWatches: Record<string, Watch>,
): () => Promise<Record<string, unknown[]>> {
  let ownStatus: 'IDLE' | 'BUSY' = 'IDLE';
  return async function attackerHeard() {
    const watches = Object.values(attackerWatches);
    const before = watches.map((w) => w.control.length);
    const own: TestServer['gql'] = (doc, variables) => victim.gql(doc, variables, attackerHeaders);
    ownStatus = ownStatus === 'IDLE' ? 'BUSY' : 'IDLE';
    const status = await own(TenancySetAgentStatus, { id: ownIds.agent, status: ownStatus });
    expect(status.errors).toBeUndefined();
    const update = await own(TenancyUpdateTask, {
      id: ownIds.subtask,
      input: { description: `Attacker control ${ownStatus}` },
    });
    expect(update.errors).toBeUndefined();
    const message = await own(TenancySendMessage, {
      input: {
        content: 'Attacker control',
        toAgentIds: [ownIds.agent],
        conversationId: ownIds.conversation,
      },
    });
    expect(message.errors).toBeUndefined();
    await until('every control event on the attacker’s watches', () =>
      watches.every((w, i) => w.control.length > before[i]!),
    );
    return Object.fromEntries(
      Object.entries(attackerWatches).map(([name, w]) => [name, [...w.probe]]),
    );
  };
}
