import { randomUUID } from 'node:crypto';
import {
  print,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
} from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { graphql } from './generated/index.js';
import type { OrganisationDocument } from '../src/domain/organisation-export.js';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';
import { subscribe, type Subscription } from './utils/ws.js';
import { seedSkillAndSpawn } from './utils/skill-fixtures.js';
import { seedConsensus, seedEvaluations, seedMemory } from './utils/memory-fixtures.js';
import { holdForInput } from '../graph/tool-approval.repository.js';
import { seedVersions } from './utils/version-fixtures.js';
import { seedLesson } from './utils/lesson-fixtures.js';
import { mapBounded } from './utils/bounded.js';
import {
  introspectSchema,
  operationTemplate,
  rootFields,
  type OperationTemplate,
  type RootKind,
  type Slot,
} from './utils/schema-walk.js';

/*
 * The cross-tenant matrix (security issue): every node belongs to exactly one tenant, and an
 * id of another tenant behaves exactly like an unknown id. Every root field of the schema is
 * found by introspection and called as an attacker tenant with the victim's ids, so a field
 * added later is covered without anyone remembering. Both tenants use ONE server, as in
 * production: the victim's subscriptions share the PubSub that the attacker's mutations
 * publish to. The attacker's own server only provides its tenant (and its cleanup).
 */

const TenancyCreateAgents = graphql(`
  mutation TenancyCreateAgents($inputs: [CreateAgentInput!]!) {
    createAgents(inputs: $inputs) {
      id
    }
  }
`);

const TenancyCreateTasks = graphql(`
  mutation TenancyCreateTasks($inputs: [CreateTaskInput!]!) {
    createTasks(inputs: $inputs) {
      id
    }
  }
`);

const TenancySendMessage = graphql(`
  mutation TenancySendMessage($input: SendMessageInput!) {
    sendMessage(input: $input) {
      id
      conversation {
        id
      }
    }
  }
`);

const TenancyRecordKnowledge = graphql(`
  mutation TenancyRecordKnowledge($input: RecordKnowledgeInput!) {
    recordKnowledge(input: $input) {
      id
    }
  }
`);

const TenancyCreateApiKey = graphql(`
  mutation TenancyCreateApiKey($name: String!, $role: Role!) {
    createApiKey(name: $name, role: $role) {
      apiKey {
        id
      }
    }
  }
`);

const TenancyCreateConversation = graphql(`
  mutation TenancyCreateConversation($title: String) {
    createConversation(title: $title) {
      id
    }
  }
`);

const TenancyExport = graphql(`
  query TenancyExport {
    exportOrganisation
  }
`);

const TenancyApiKeys = graphql(`
  query TenancyApiKeys {
    apiKeys(first: 100) {
      nodes {
        id
        name
        role
        prefix
        createdAt
        revokedAt
      }
    }
  }
`);

const TenancyNode = graphql(`
  query TenancyNode($id: ID!) {
    node(id: $id) {
      id
    }
  }
`);

const TenancyImport = graphql(`
  mutation TenancyImport($document: JSONObject!, $merge: Boolean) {
    importOrganisation(document: $document, merge: $merge) {
      nodesCreated
    }
  }
`);

const TenancySetAgentStatus = graphql(`
  mutation TenancySetAgentStatus($id: ID!, $status: AgentStatus!) {
    setAgentStatus(id: $id, status: $status) {
      id
    }
  }
`);

const TenancyUpdateTask = graphql(`
  mutation TenancyUpdateTask($id: ID!, $input: UpdateTaskInput!) {
    updateTask(id: $id, input: $input) {
      id
    }
  }
`);

const TenancyAgentStatusChanged = graphql(`
  subscription TenancyAgentStatusChanged($agentId: ID) {
    agentStatusChanged(agentId: $agentId) {
      agent {
        id
        name
      }
    }
  }
`);

const TenancyTaskUpdated = graphql(`
  subscription TenancyTaskUpdated($rootId: ID, $taskId: ID) {
    taskUpdated(rootId: $rootId, taskId: $taskId) {
      task {
        id
        title
      }
      change
    }
  }
`);

const TenancyMessageSent = graphql(`
  subscription TenancyMessageSent($conversationId: ID, $agentId: ID) {
    messageSent(conversationId: $conversationId, agentId: $agentId) {
      id
      content
    }
  }
`);

/** The kinds of id tried in every ID position; one fixture of each per tenant. */
const KINDS = [
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
type Kind = (typeof KINDS)[number];
type Fixtures = Record<Kind, string>;

/** Root fields not walked: health reads no tenant data. */
const SKIPPED = new Set(['query.health']);
/** Calls per field at most: id kinds rotated through every position, plus mixed calls. */
const MAX_CALLS_PER_FIELD = 12;
/**
 * HTTP probes in flight at once. Each call costs a few Neo4j round trips and little work, so one
 * call at a time left the server mostly waiting: 1,500 calls took 166 s on a quiet CI run and
 * over 300 s on a loaded machine.
 */
const PROBE_CONCURRENCY = 4;
/**
 * Limits that never hide a tenancy bug, as the admin key never lets a role check hide one: the
 * walk selects every field two levels deep, far more than a client does (query.agents went
 * over the default complexity of 50,000 as Agent grew), and on a loaded machine Neo4j's first
 * plan of a statement can take over the default 15 s. The limits suite tests the limits.
 */
const WALK_LIMITS = { maxComplexity: 1_000_000, requestTimeoutMs: 60_000 };
/** Refusals a cross-tenant call may get; anything else (INTERNAL_SERVER_ERROR...) is a bug. */
const ALLOWED_CODES = new Set(['NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT', 'FORBIDDEN']);
const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g;

interface Result {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: readonly GraphQLFormattedError[];
}

async function post(
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
async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !check();) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * An attacker's subscription on victim ids (the probe) and, on the same socket, the same
 * subscription on the attacker's own ids (the control). The probe can never legitimately hear
 * anything, so its silence is measured against the control: the attacker's own change, published
 * after the events under test through the same pub/sub to the same socket, must have reached the
 * control before the probe's silence counts. No quiet window.
 */
interface Watch {
  probe: unknown[];
  control: unknown[];
  close(): Promise<void>;
}

async function watch(
  server: Pick<TestServer, 'wsUrl' | 'pubsub'>,
  key: string,
  query: string,
  probe: Record<string, unknown>,
  control: Record<string, unknown>,
): Promise<Watch> {
  const heard = { probe: [] as unknown[], control: [] as unknown[] };
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
    client.subscribe(
      { query, variables },
      { next: (e) => void into.push(e), error: (e) => void into.push({ error: e }), complete() {} },
    );
  }
  await until(
    'both operations of a watch to be made',
    () =>
      server.pubsub.subscriptionsMade() >= made + 2 ||
      heard.probe.length + heard.control.length > 0,
  );
  return {
    ...heard,
    async close() {
      await client.dispose();
    },
  };
}

/** A raw graphql-ws subscription that keeps every event and every error as sent. */
interface Listener {
  events: FormattedExecutionResult[];
  errors: unknown[];
  close(): Promise<void>;
}

async function listen(
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
function wsErrors(errors: unknown[]): GraphQLFormattedError[] {
  return errors.flatMap((e) => {
    if (Array.isArray(e)) return e as GraphQLFormattedError[];
    const close = e as { code?: number; reason?: string; message?: string };
    return [{ message: close.code ? `closed ${close.code}: ${close.reason}` : String(e) }];
  });
}

/** The id kind an ID position most likely wants, from its name, then the field's name. */
function preferredKind(slot: Slot, field: string): Kind {
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
const isTenantSlot = (slot: Slot) => slot.scalar === 'String' && slot.name === 'confirm';
const OWN_LABEL = 'Attacker own';
/** String slots that name a capability (not an id: never rotated through the id kinds). */
const CAPABILITY_SLOTS = new Set(['capabilityPerformance.name']);
const isCapabilitySlot = (field: string, slot: Slot) =>
  CAPABILITY_SLOTS.has(`${field}.${slot.name}`);
/** The capability each tenant's seed gives its operator. */
const capabilityOf = (label: string) => `${label.replace(/ /g, '-')}-research`;

/** One call: who owns the id in each slot, of which kind, and the optional Booleans. */
interface Plan {
  owners: ('victim' | 'own')[];
  kinds: Kind[];
  toggle: boolean;
}

/**
 * The calls for one field: every slot with the victim id of its preferred kind; with several
 * slots, each slot alone the victim's and the rest the attacker's own (so the victim id is
 * the one that must be refused); then every kind in every slot, rotated.
 */
function plansFor(template: OperationTemplate): Plan[] {
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

function replaceAll(text: string, values: string[]): string {
  return values.reduce((t, v, i) => t.split(v).join(`<planted ${i}>`), text);
}

/** What a caller can observe, with the planted values (victim or unknown) made comparable. */
function observed(root: RootKind, field: string, res: Result, planted: string[]) {
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
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

function excerpt(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

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
  /** The ids of each tenant's consensus run, decision and answers (not in the export). */
  const consensusIds = new Map<string, string[]>();
  /** The ids of each tenant's judged runs and their evaluations (not in the export). */
  const evaluationIds = new Map<string, string[]>();

  let before: {
    doc: OrganisationDocument;
    keys: unknown;
    nodes: number;
    audit: number;
    links: number;
    foreignLinks: number;
  };
  let after: typeof before;

  const problems: string[] = [];
  const exercised = new Set<string>();
  let expectedFields: string[] = [];
  let calls = 0;
  const createdTenants: string[] = [];
  const probes: { name: string; listener: Listener }[] = [];
  let victimSubs: Record<string, Subscription<unknown>>;
  let attackerWatches: Record<string, Watch>;
  const victimHeardDuringWalk: Record<string, unknown[]> = {};
  let attackerHeardDuringWalk: Record<string, unknown[]> = {};

  let ownStatus: 'IDLE' | 'BUSY' = 'IDLE';
  /**
   * The attacker changes its own fixtures (one event for every watch's control) and waits until
   * every control has heard it; then returns what each probe heard, which must be nothing.
   */
  async function attackerHeard(): Promise<Record<string, unknown[]>> {
    const watches = Object.values(attackerWatches);
    const before = watches.map((w) => w.control.length);
    const own: TestServer['gql'] = (doc, variables) =>
      victim.gql(doc, variables, attackerHeaders());
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
  }

  /** Calls as the attacker on the shared server. */
  const attack = (query: string, variables: Record<string, unknown>) =>
    post(victim.url, attacker.adminKey, query, variables);
  const attackerHeaders = () => ({ authorization: `Bearer ${attacker.adminKey}` });

  async function seed(
    server: TestServer,
    headers: Record<string, string>,
    label: string,
    ids: Fixtures,
    alternates: Fixtures,
    tenantId: string,
  ) {
    const gql: TestServer['gql'] = (doc, variables) => server.gql(doc, variables, headers);
    const agents = await gql(TenancyCreateAgents, {
      inputs: [
        {
          name: `${label} chief`,
          description: `${label} plans`,
          role: 'CHIEF_OF_STAFF',
          systemPrompt: `${label} prompt`,
          capabilities: [{ name: `${label.replace(/ /g, '-')}-planning` }],
        },
        {
          name: `${label} operator`,
          role: 'MASTER_OPERATOR',
          model: 'offline',
          capabilities: [{ name: `${label.replace(/ /g, '-')}-research`, proficiency: 0.9 }],
        },
      ],
    });
    expect(agents.errors).toBeUndefined();
    const [chief, operator] = agents.data!.createAgents.map((a) => a.id);
    const tasks = await gql(TenancyCreateTasks, {
      inputs: [
        { key: 'root', title: `${label} launch`, description: `${label} the whole plan` },
        {
          key: 'sub',
          parentKey: 'root',
          title: `${label} research`,
          assigneeId: operator,
          delegatedById: chief,
          requiredCapabilities: [`${label.replace(/ /g, '-')}-research`],
        },
        { key: 'dep', parentKey: 'root', title: `${label} write-up`, dependsOnKeys: ['sub'] },
      ],
    });
    expect(tasks.errors).toBeUndefined();
    const [root, sub, dep] = tasks.data!.createTasks.map((t) => t.id);
    const first = await gql(TenancySendMessage, {
      input: {
        content: `${label} please research`,
        fromAgentId: chief,
        toAgentIds: [operator!],
        aboutTaskId: sub,
        conversationTitle: `${label} conversation`,
      },
    });
    expect(first.errors).toBeUndefined();
    const conversation = first.data!.sendMessage.conversation.id;
    const reply = await gql(TenancySendMessage, {
      input: {
        content: `${label} research done`,
        fromAgentId: operator,
        toAgentIds: [chief!],
        conversationId: conversation,
      },
    });
    expect(reply.errors).toBeUndefined();
    const fact = await gql(TenancyRecordKnowledge, {
      input: {
        content: `${label} learned a fact`,
        tags: [`${label.replace(/ /g, '-')}-tag`],
        agentId: operator,
        taskId: sub,
      },
    });
    expect(fact.errors).toBeUndefined();
    const lesson = await gql(TenancyRecordKnowledge, {
      input: {
        content: `${label} learned a lesson`,
        kind: 'LESSON',
        agentId: chief,
        taskId: root,
        supersedesId: fact.data!.recordKnowledge.id,
      },
    });
    expect(lesson.errors).toBeUndefined();
    const empty = await gql(TenancyCreateConversation, { title: `${label} empty conversation` });
    expect(empty.errors).toBeUndefined();
    // Memory, written as ingestion would (ingested already, so nothing changes it meanwhile).
    const memory = await seedMemory(server.graph, tenantId, label, operator!);
    // A skill and a spawned agent (issue 12): skills(family) and Agent.spawnedBy must not leak.
    await seedSkillAndSpawn(server.graph, tenantId, label, root!, operator!, chief!);
    // A consensus step's answers and decision (issue 12): their text and ids must not leak.
    const consensus = await seedConsensus(server.graph, tenantId, label, sub!, [operator!, chief!]);
    consensusIds.set(tenantId, [consensus.run, consensus.decision, ...consensus.answers]);
    // Judged runs and a person's rating (issue 12): not in the export, so listed apart.
    const judged = await seedEvaluations(server.graph, tenantId, label, sub!, operator!);
    evaluationIds.set(tenantId, [...judged.runs, ...judged.evaluations]);
    // A tool call held for a person (issue 13), under the call id the walk sends for every
    // String: resolveToolCall with the victim's run id reaches it unless tenancy stops it.
    await server.graph.write((tx) =>
      holdForInput(tx, {
        tenantId,
        taskId: sub!,
        runId: judged.runs[0]!,
        calls: [
          {
            callId: 'tenancy probe',
            tool: 'ask_agent',
            args: JSON.stringify({ question: `${label} held question` }),
          },
        ],
      }),
    );
    // Two agent-loop checkpoints of that run (issue 13): forkRun and Run.checkpoints must not
    // reach them from another tenant.
    const checkpoints = [randomUUID(), randomUUID()];
    await server.graph.write((tx) =>
      tx.run({
        cypher: `
          MATCH (r:Run {tenantId: $tenantId, id: $runId})
          UNWIND range(0, size($ids) - 1) AS i
          CREATE (r)-[:CHECKPOINTED]->(:Checkpoint {id: $ids[i], tenantId: $tenantId,
            threadId: $taskId, ns: '', checkpointId: 'checkpoint-' + i, step: i, source: 'loop',
            next: ['model_request'], messageCount: 1, bytes: 0, createdAt: datetime()})`,
        params: { tenantId, runId: judged.runs[0], taskId: sub, ids: checkpoints },
      }),
    );
    // An ACTIVE lesson drawn from one judged run and applied in the other (issue 12): its text,
    // efficacy, derivedFrom and transitions must not leak; retire/activateLesson refuse it.
    await seedLesson(server.graph, tenantId, label, judged.runs);
    // Agent versions (issue 12): a candidate to promote or roll back, a live one.
    const versions = await seedVersions(server.graph, tenantId, label, operator!, chief!);
    const key = await gql(TenancyCreateApiKey, { name: `${label} viewer key`, role: 'VIEWER' });
    expect(key.errors).toBeUndefined();
    const otherKey = await gql(TenancyCreateApiKey, {
      name: `${label} operator key`,
      role: 'OPERATOR',
    });
    expect(otherKey.errors).toBeUndefined();
    Object.assign(alternates, {
      agent: chief!,
      task: dep!,
      subtask: dep!,
      message: reply.data!.sendMessage.id,
      conversation: empty.data!.createConversation.id,
      knowledge: lesson.data!.recordKnowledge.id,
      apiKey: otherKey.data!.createApiKey.apiKey.id,
      run: judged.runs[1],
      checkpoint: checkpoints[1]!,
      ...versions.alternates,
      ...memory.alternates,
    } satisfies Fixtures);
    Object.assign(ids, {
      agent: operator!,
      task: root!,
      subtask: sub!,
      message: first.data!.sendMessage.id,
      conversation,
      knowledge: fact.data!.recordKnowledge.id,
      apiKey: key.data!.createApiKey.apiKey.id,
      run: judged.runs[0],
      checkpoint: checkpoints[0]!,
      ...versions.ids,
      ...memory.ids,
    } satisfies Fixtures);
  }

  async function snapshot(): Promise<typeof before> {
    const [doc, keys, [counts]] = await Promise.all([
      victim.gql(TenancyExport),
      victim.gql(TenancyApiKeys),
      victim.graph.read((tx) =>
        tx.run<{ nodes: number; audit: number; links: number; foreignLinks: number }>({
          cypher: `MATCH (n {tenantId: $tenantId})
                 WITH count(CASE WHEN NOT n:AuditEvent THEN 1 END) AS nodes,
                      count(CASE WHEN n:AuditEvent THEN 1 END) AS audit
                 OPTIONAL MATCH (v {tenantId: $tenantId})-[r]-(m)
                 WHERE NOT v:AuditEvent
                 RETURN nodes, audit, count(DISTINCT r) AS links,
                        count(DISTINCT CASE WHEN m.tenantId <> $tenantId THEN r END) AS foreignLinks`,
          params: { tenantId: victim.tenantId },
        }),
      ),
    ]);
    expect(doc.errors).toBeUndefined();
    expect(keys.errors).toBeUndefined();
    return {
      doc: doc.data!.exportOrganisation as OrganisationDocument,
      // lastUsedAt is left out: the victim's own snapshots may touch its admin key.
      keys: keys.data!.apiKeys.nodes,
      nodes: counts!.nodes,
      audit: counts!.audit,
      // Relationships touching the victim's nodes, and those that cross to another tenant.
      links: counts!.links,
      foreignLinks: counts!.foreignLinks,
    };
  }

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

  beforeAll(async () => {
    [victim, attacker] = await Promise.all([
      startTestServer(undefined, WALK_LIMITS),
      startTestServer(undefined, WALK_LIMITS),
    ]);

    // Two tenants, nothing shared: seeded side by side.
    await Promise.all([
      seed(victim, {}, victimLabel, victimIds, victimAlternates, victim.tenantId),
      seed(victim, attackerHeaders(), OWN_LABEL, ownIds, ownAlternates, attacker.tenantId),
    ]);

    before = await snapshot();
    const keyIds = (before.keys as { id: string }[]).map((k) => k.id);
    allVictimIds = [
      ...before.doc.nodes.map((n) => n.id),
      ...keyIds,
      ...Object.values(victimIds),
      ...Object.values(victimAlternates),
      ...(consensusIds.get(victim.tenantId) ?? []),
      ...(evaluationIds.get(victim.tenantId) ?? []),
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
    // Skill steps and spawn reasons are not in the export (issue 12); seedSkillAndSpawn wrote these.
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

    // Admin, so that role checks never hide a tenancy bug.
    const schema = await introspectSchema(victim.url, attacker.adminKey);
    const fields = rootFields(schema).filter((f) => !SKIPPED.has(`${f.root}.${f.field.name}`));
    expectedFields = fields.map((f) => `${f.root}.${f.field.name}`);
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
              return fieldName === 'importOrganisation' ? before.doc : {};
          }
          throw new Error(`no probe value for scalar ${scalar} (${fieldName}.${name})`);
        },
      }),
    );

    const started = Date.now();
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
    const queried = Date.now();
    await walkHttp(of('mutation'));
    console.log(
      `cross-tenant matrix: ${exercised.size} fields, ${calls} calls in ${Date.now() - started} ms (queries and subscriptions ${queried - started} ms, mutations ${Date.now() - queried} ms)`,
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
        const answers = await Promise.all(
          [victimIds[kind], randomUUID()].map(async (target) => {
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
          }),
        );
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
