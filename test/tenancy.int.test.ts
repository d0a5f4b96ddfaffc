import { randomUUID } from 'node:crypto';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';
import { subscribe, type Subscription } from './utils/ws.js';
import { mapBounded } from './utils/bounded.js';
import { introspectSchema, type RootKind } from './utils/schema-walk.js';
import {
  KINDS,
  OWN_LABEL,
  PROBE_CONCURRENCY,
  WALK_LIMITS,
  stringsIn,
  watch,
  wsErrors,
  type Fixtures,
  type Watch,
} from './utils/tenancy-probes.js';
import {
  TenancyAgentStatusChanged,
  TenancyImport,
  TenancyMessageSent,
  TenancyNode,
  TenancySendMessage,
  TenancySetAgentStatus,
  TenancyTaskUpdated,
  TenancyUpdateTask,
  seedTenant,
  snapshotTenant,
  type TenantSnapshot,
} from './utils/tenancy-fixtures.js';
import {
  attackerHeardOn,
  tenancyWalk,
  walkTemplates,
  type OpenProbe,
} from './utils/tenancy-walk.js';

/*
 * The cross-tenant matrix (security issue): every node belongs to exactly one tenant, and an
 * id of another tenant behaves exactly like an unknown id. Every root field of the schema is
 * found by introspection and called as an attacker tenant with the victim's ids, so a field
 * added later is covered without anyone remembering. Both tenants use ONE server, as in
 * production: the victim's subscriptions share the PubSub that the attacker's mutations
 * publish to. The attacker's own server only provides its tenant (and its cleanup).
 */

describe('cross-tenant isolation', () => {
  let victim: TestServer;
  let attacker: TestServer;
  const token = `tq${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const victimLabel = `Victim ${token}`;

  const victimIds: Fixtures = {} as Fixtures;
  const ownIds: Fixtures = {} as Fixtures;
  /** A second id of each kind, for the second slot of one kind in the same call. */
  const victimAlternates: Fixtures = {} as Fixtures;
  const ownAlternates: Fixtures = {} as Fixtures;
  /** Every id of the victim: its nodes, keys and tenant. */
  let allVictimIds: string[] = [];
  /** Every text of the victim that holds the token: names, titles, contents... */
  let secrets: string[] = [];

  let before: TenantSnapshot;
  let after: TenantSnapshot;

  const problems: string[] = [];
  const exercised = new Set<string>();
  let expectedFields: string[] = [];
  let calls = 0;
  const createdTenants: string[] = [];
  const probes: OpenProbe[] = [];

  let victimSubs: Record<string, Subscription<unknown>>;
  let attackerWatches: Record<string, Watch>;
  const victimHeardDuringWalk: Record<string, unknown[]> = {};
  let attackerHeardDuringWalk: Record<string, unknown[]> = {};

  /** The attacker's own change, then what its probes heard (see attackerHeardOn). */
  let attackerHeard: () => Promise<Record<string, unknown[]>>;

  const attackerHeaders = () => ({ authorization: `Bearer ${attacker.adminKey}` });
  const snapshot = () => snapshotTenant(victim);

  beforeAll(async () => {
    [victim, attacker] = await Promise.all([
      startTestServer(undefined, WALK_LIMITS),
      startTestServer(undefined, WALK_LIMITS),
    ]);

    // Two tenants, nothing shared: seeded side by side.
    const [victimHidden] = await Promise.all([
      seedTenant(victim, {}, victimLabel, victimIds, victimAlternates, victim.tenantId),
      seedTenant(victim, attackerHeaders(), OWN_LABEL, ownIds, ownAlternates, attacker.tenantId),
    ]);

    before = await snapshot();
    const keyIds = (before.keys as { id: string }[]).map((k) => k.id);
    allVictimIds = [
      ...before.doc.nodes.map((n) => n.id),
      ...keyIds,
      ...Object.values(victimIds),
      ...Object.values(victimAlternates),
      // Consensus and evaluation ids: not in the export.
      ...victimHidden,
      victim.tenantId,
    ];
    secrets = [
      ...new Set([
        ...stringsIn([before.doc, before.keys]).filter((s) => s.includes(token)),
        // Consensus answers are not in the export (issue 12); seedConsensus wrote these.
        `Victim ${token} answer 1`,
        `Victim ${token} answer 2`,
        // Evaluations are not in the export either (issue 12); seedEvaluations wrote these.
        `Victim ${token} rated it`,
        `Victim ${token} reason`,
        `Victim ${token} rubric`,
        `Victim ${token} person`,
      ]),
    ];
    // Not in the export either (issue 12): skill steps and spawn reasons (seedSkillAndSpawn).
    secrets.push(`Victim ${token} skill step`, `Victim ${token} spawn reason`);
    // Held tool calls are not in the export either (issue 13).
    secrets.push(`Victim ${token} held question`);
    expect(secrets.length).toBeGreaterThan(10);

    victimSubs = {
      agents: await subscribe(victim, TenancyAgentStatusChanged, {}),
      tasks: await subscribe(victim, TenancyTaskUpdated, {}),
      messages: await subscribe(victim, TenancyMessageSent, {}),
    };
    // Each on victim ids, with its control on the attacker's own ids on the same socket.
    const watchAs = (doc: TypedDocumentNode<unknown, never>, on: (ids: Fixtures) => object) =>
      watch(victim, attacker.adminKey, print(doc), { ...on(victimIds) }, { ...on(ownIds) });
    attackerWatches = {
      agent: await watchAs(TenancyAgentStatusChanged, (ids) => ({ agentId: ids.agent })),
      root: await watchAs(TenancyTaskUpdated, (ids) => ({ rootId: ids.task })),
      task: await watchAs(TenancyTaskUpdated, (ids) => ({ taskId: ids.subtask })),
      conversation: await watchAs(TenancyMessageSent, (ids) => ({
        conversationId: ids.conversation,
      })),
      recipient: await watchAs(TenancyMessageSent, (ids) => ({ agentId: ids.agent })),
    };

    attackerHeard = attackerHeardOn(victim, attackerHeaders(), ownIds, attackerWatches);

    // Admin, so that role checks never hide a tenancy bug.
    const schema = await introspectSchema(victim.url, attacker.adminKey);
    const walked = walkTemplates(schema, token, before.doc);
    expectedFields = walked.expectedFields;
    const templates = walked.templates;
    const walk = tenancyWalk({
      victim,
      attacker,
      token,
      victimLabel,
      victimIds,
      ownIds,
      victimAlternates,
      ownAlternates,
      allVictimIds,
      secrets,
      problems,
      exercised,
      createdTenants,
      probes,
    });
    const { walkHttp, walkSubscription } = walk;
    const started = performance.now();
    const ms = (since: number) => Math.round(performance.now() - since);
    const of = (root: RootKind) => templates.filter((t) => t.root === root);
    // Queries first: the attacker's audit trail later names the victim ids it was sent. The
    // subscriptions are walked meanwhile: queries write nothing, so publish nothing, and make
    // no pub/sub subscription (the count that listen() waits on).
    await Promise.all([
      walkHttp(of('query')),
      (async () => {
        for (const t of of('subscription')) await walkSubscription(t);
      })(),
    ]);
    const queried = performance.now();
    await walkHttp(of('mutation'));
    calls = walk.calls();
    console.log(
      `cross-tenant matrix: ${exercised.size} fields, ${calls} calls in ${ms(started)} ms (queries and subscriptions ${Math.round(queried - started)} ms, mutations ${ms(queried)} ms)`,
    );

    after = await snapshot();
    // What everyone heard during the walk, each against a control that must arrive after it.
    const victimControls = {
      agents: [
        () => victim.gql(TenancySetAgentStatus, { id: victimAlternates.agent, status: 'BUSY' }),
        victimAlternates.agent,
      ],
      tasks: [
        () =>
          victim.gql(TenancyUpdateTask, {
            id: victimAlternates.task,
            input: { description: `Victim ${token} control` },
          }),
        victimAlternates.task,
      ],
      messages: [
        () =>
          victim.gql(TenancySendMessage, {
            input: { content: `Victim ${token} control`, toAgentIds: [victimAlternates.agent] },
          }),
        `Victim ${token} control`,
      ],
    } as const;
    for (const [name, sub] of Object.entries(victimSubs)) {
      const [control, marker] = victimControls[name as keyof typeof victimControls];
      victimHeardDuringWalk[name] = await sub.heardBefore(control, (e) =>
        JSON.stringify(e.data ?? null).includes(marker),
      );
    }
    attackerHeardDuringWalk = await attackerHeard();
    // About 1,650 calls: past 300 s beside a second copy of the suite (issue 9 rounds).
  }, 900_000);

  afterAll(async () => {
    for (const sub of [
      ...Object.values(victimSubs ?? {}),
      ...Object.values(attackerWatches ?? {}),
    ]) {
      await sub.close();
    }
    for (const { listener } of probes) await listener.close();
    for (const tenantId of createdTenants) {
      await deleteTenant(victim.graph, tenantId);
      await victim.graph.write((tx) =>
        tx.run({ cypher: 'MATCH (t:Tenant {id: $tenantId}) DELETE t', params: { tenantId } }),
      );
    }
    await attacker?.stop();
    await victim?.stop();
  });

  it('answers every query, mutation and subscription with victim ids as if they were unknown, leaking nothing', () => {
    expect(problems).toEqual([]);
  });

  it('walks every root field of the schema', () => {
    expect([...exercised].sort()).toEqual([...expectedFields].sort());
    expect(exercised.size).toBe(expectedFields.length);
    expect(calls).toBeGreaterThan(expectedFields.length * 2);
  });

  it("leaves the victim's organisation, keys, nodes, links and audit trail exactly as they were", () => {
    expect(after.doc).toEqual(before.doc);
    expect(after.keys).toEqual(before.keys);
    expect(after.nodes).toBe(before.nodes);
    expect(after.audit).toBe(before.audit);
    expect(after.links).toBe(before.links);
    expect(after.foreignLinks).toBe(0);
  });

  it('refuses the attacker’s subscriptions on victim ids with NOT_FOUND, as for unknown ids', () => {
    const codes = Object.fromEntries(
      Object.entries(attackerWatches).map(([name, w]) => [
        name,
        wsErrors(w.refused).map((e) => e.extensions?.code),
      ]),
    );
    expect(codes).toEqual({
      agent: ['NOT_FOUND'],
      root: ['NOT_FOUND'],
      task: ['NOT_FOUND'],
      conversation: ['NOT_FOUND'],
      recipient: ['NOT_FOUND'],
    });
  });

  it("announces nothing of the attacker's walk to the victim, nor anything to subscriptions on victim ids", () => {
    expect(victimHeardDuringWalk).toEqual({ agents: [], tasks: [], messages: [] });
    expect(attackerHeardDuringWalk).toEqual({
      agent: [],
      root: [],
      task: [],
      conversation: [],
      recipient: [],
    });
    const heard = probes.flatMap(({ name, listener }) =>
      listener.events.map((e) => `${name}: ${JSON.stringify(e)}`),
    );
    const leaked = heard.filter(
      (h) => allVictimIds.some((id) => h.includes(id)) || h.includes(token),
    );
    expect(leaked).toEqual([]);
  });

  it("keeps the victim's own changes from the attacker's subscriptions, while the victim hears them", async () => {
    const heardBefore = probes.map((p) => p.listener.events.length);
    const status = await victim.gql(TenancySetAgentStatus, { id: victimIds.agent, status: 'BUSY' });
    expect(status.errors).toBeUndefined();
    const update = await victim.gql(TenancyUpdateTask, {
      id: victimIds.subtask,
      input: { description: `Victim ${token} changed` },
    });
    expect(update.errors).toBeUndefined();
    const direct = await victim.gql(TenancySendMessage, {
      input: {
        content: `Victim ${token} follow-up`,
        toAgentIds: [victimIds.agent],
        conversationId: victimIds.conversation,
      },
    });
    expect(direct.errors).toBeUndefined();
    const broadcast = await victim.gql(TenancySendMessage, {
      input: { content: `Victim ${token} to all`, broadcast: true },
    });
    expect(broadcast.errors).toBeUndefined();

    expect((await victimSubs.agents!.waitForNext()).errors).toBeUndefined();
    expect((await victimSubs.tasks!.waitForNext()).errors).toBeUndefined();
    expect((await victimSubs.messages!.waitForNext()).errors).toBeUndefined();
    expect((await victimSubs.messages!.waitForNext()).errors).toBeUndefined();

    // The attacker's own later changes reached every control: the probes heard nothing before.
    expect(await attackerHeard()).toEqual({
      agent: [],
      root: [],
      task: [],
      conversation: [],
      recipient: [],
    });
    expect(probes.map((p) => p.listener.events.length)).toEqual(heardBefore);
  });

  it('answers node(id) for every victim id exactly as for an unknown id', async () => {
    const unknownId = randomUUID();
    const unknown = await victim.gql(TenancyNode, { id: unknownId }, attackerHeaders());
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const expected = unknown.errors![0]!.message.split(unknownId).join('<id>');
    expect(allVictimIds.length).toBeGreaterThan(10);
    const answers = await mapBounded(allVictimIds, PROBE_CONCURRENCY, (id) =>
      victim.gql(TenancyNode, { id }, attackerHeaders()),
    );
    allVictimIds.forEach((id, i) => {
      const res = answers[i]!;
      expect(res.data ?? null, id).toBeNull();
      expect(res.errors?.[0]?.extensions?.code, id).toBe('NOT_FOUND');
      expect(res.errors![0]!.message.split(id).join('<id>'), id).toBe(expected);
    });
  });

  it('refuses an import that links to victim nodes exactly as one that links to unknown ids', async () => {
    const victimBefore = await snapshot();
    const documentLinkingTo = (target: string) => ({
      format: 'agent-platform/organisation',
      version: 1,
      nodes: [
        {
          label: 'Knowledge',
          id: randomUUID(),
          properties: {
            content: 'borrowed provenance',
            kind: 'FACT',
            confidence: 1,
            // Issue 9: imports keep the domain rules, so the node itself must be valid.
            createdAt: { $datetime: '2024-05-01T10:20:30Z' },
            updatedAt: { $datetime: '2024-05-01T10:20:30Z' },
          },
        },
      ],
      relationships: [] as { type: string; from: string; to: string; properties: object }[],
    });
    for (const merge of [false, true]) {
      for (const kind of KINDS) {
        const answer = async (target: string) => {
          const document = documentLinkingTo(target);
          document.relationships.push({
            type: 'CONTRIBUTED_BY',
            from: document.nodes[0]!.id,
            to: target,
            properties: {},
          });
          const res = await victim.gql(TenancyImport, { document, merge }, attackerHeaders());
          return {
            data: res.data ?? null,
            code: res.errors?.[0]?.extensions?.code,
            message: res.errors?.[0]?.message.split(target).join('<id>'),
          };
        };
        // One after the other: a tenant's imports run one at a time (LIMIT_EXCEEDED).
        const answers = [await answer(victimIds[kind]!), await answer(randomUUID())];
        expect(answers[0]!.code, kind).toBe('BAD_USER_INPUT');
        expect(answers[0], kind).toEqual(answers[1]);
      }
    }
    const victimAfter = await snapshot();
    expect(victimAfter.doc).toEqual(victimBefore.doc);
    expect(victimAfter.nodes).toBe(victimBefore.nodes);
    expect(victimAfter.links).toBe(victimBefore.links);
    expect(victimAfter.foreignLinks).toBe(0);
  });
});
