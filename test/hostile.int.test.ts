import { randomUUID } from 'node:crypto';
import type { GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTenant, startTestServer, type TestServer } from './utils/server.js';
import {
  INJECTION_PAYLOADS,
  INVALID_IDS,
  aliasBomb,
  codesOf,
  describeSlot,
  eachLimited,
  expectStillServing,
  expectTypedRefusal,
  fragmentAliasBomb,
  fragmentFieldBomb,
  interleaved,
  introspectSchema,
  nestedTasksQuery,
  operationFor,
  post,
  send,
  slotsOf,
  tenantNodeIds,
  tenantSnapshot,
  untypedProblem,
  type OwnIds,
} from './utils/hostile.js';

/**
 * The hostile-input suite: every refusal is a typed error, never a 500 or a crash, and the
 * server answers a normal query right after (expectStillServing ends every test).
 */

const JSON_TYPE = { 'content-type': 'application/json' };
const IMPORT = `mutation($d: JSONObject!) { importOrganisation(document: $d) { nodesCreated } }`;

let server: TestServer;
/** Another tenant on its own server (with a 100 KB body limit): hostile input must not reach it. */
let other: TestServer;
let ids: OwnIds;
let schema: GraphQLSchema;
/** Tenants made by createTenant during the sweep: ours to delete. */
const createdTenants: string[] = [];

beforeAll(async () => {
  [server, other] = await Promise.all([
    startTestServer(),
    startTestServer(undefined, { maxBodyBytes: 100_000 }),
  ]);
  ids = await seed(server);
  await seed(other);
  schema = await introspectSchema(server);
});

afterAll(async () => {
  for (const tenantId of createdTenants) {
    await deleteTenant(server.graph, tenantId);
    await server.graph.write((tx) =>
      tx.run({ cypher: 'MATCH (t:Tenant {id: $tenantId}) DELETE t', params: { tenantId } }),
    );
  }
  await Promise.all([server?.stop(), other?.stop()]);
});

describe('deep nesting', () => {
  it('refuses 50 and 1,000 levels of subtasks with QUERY_TOO_DEEP', async () => {
    for (const depth of [50, 1_000]) {
      const res = await post(server, nestedTasksQuery(depth));
      expect(expectTypedRefusal(res, `depth ${depth}`)).toEqual(['QUERY_TOO_DEEP']);
      expect(res.status).toBe(400);
      expect(res.json!.errors![0]!.extensions).toMatchObject({ limit: 10, received: depth });
    }
    await expectStillServing(server);
  });

  it('refuses 10,000 levels before parsing them (QUERY_TOO_DEEP)', async () => {
    // Refused by a scan before graphql's recursive parser could run out of stack on it.
    const res = await post(server, nestedTasksQuery(10_000));
    expect(expectTypedRefusal(res)).toEqual(['QUERY_TOO_DEEP']);
    expect(res.json!.errors![0]!.message).toMatch(/^Document nesting \d+ is over the limit of 40/);
    await expectStillServing(server);
  });

  it('refuses deeply nested introspection and list literals', async () => {
    const introspection = `{ __schema { types { fields { type { fields { type { fields { type { fields { type { fields { name } } } } } } } } } } } }`;
    expect(expectTypedRefusal(await post(server, introspection))).toContain('QUERY_TOO_DEEP');
    // 2,000 levels of [ ] in an argument: within the token limit, but deep enough to run
    // graphql's recursive parser out of stack, so the nesting scan refuses it first.
    const lists = `{ agents(first: ${'['.repeat(2_000)}1${']'.repeat(2_000)}) { totalCount } }`;
    const deepLists = await post(server, lists);
    expect(expectTypedRefusal(deepLists)).toEqual(['QUERY_TOO_DEEP']);
    await expectStillServing(server);
  });

  // Regression: collectIds (audit) and the import's error preview recursed and overflowed the
  // stack on a document nested thousands of levels deep: INTERNAL_SERVER_ERROR.
  it('refuses a JSONObject nested 1,000,000 levels deep with BAD_USER_INPUT', async () => {
    for (const depth of [5_000, 1_000_000]) {
      const deepObject = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      const deepList = '['.repeat(depth) + ']'.repeat(depth);
      for (const value of [deepObject, deepList]) {
        const document = `{"format":"agent-platform/organisation","version":1,"nodes":[{"label":"Agent","id":"${randomUUID()}","properties":{"p":${value}}}],"relationships":[]}`;
        const body = `{"query":${JSON.stringify(IMPORT)},"variables":{"d":${document}}}`;
        const res = await send(server, { headers: JSON_TYPE, body });
        expect(expectTypedRefusal(res, `depth ${depth}`)).toEqual(['BAD_USER_INPUT']);
      }
      // Deep JSON where nobody looks at it is harmless.
      const ignored = `{"query":"{ __typename }","extensions":{"a":${deepObject}}}`;
      const res = await send(server, { headers: JSON_TYPE, body: ignored });
      expect(res.status).toBe(200);
    }
    await expectStillServing(server);
  });
});

describe('alias and fragment bombs', () => {
  it('refuses 1,500 aliases with TOO_MANY_ALIASES and 10,000 with TOO_MANY_TOKENS', async () => {
    const many = await post(server, aliasBomb(1_500));
    expect(expectTypedRefusal(many)).toEqual(['TOO_MANY_ALIASES']);
    expect(many.json!.errors![0]!.extensions).toMatchObject({ limit: 30, received: 1_500 });
    // Each alias is three tokens: 10,000 of them stop the parser first.
    expect(expectTypedRefusal(await post(server, aliasBomb(10_000)))).toEqual(['TOO_MANY_TOKENS']);
    await expectStillServing(server);
  });

  it('refuses fragments spreading each other 2^40 times with TOO_MANY_ALIASES, at once', async () => {
    // A walk of all 2^40 spreads would end in the request timeout (503 REQUEST_TIMEOUT), not in
    // this refusal; that the rule looks each fragment up once is counted in limits.test.ts.
    const res = await post(server, fragmentAliasBomb(40));
    expect(expectTypedRefusal(res)).toEqual(['TOO_MANY_ALIASES']);
    await expectStillServing(server);
  });

  it('refuses a fragment bomb without aliases (4^7 selections) with QUERY_TOO_COMPLEX', async () => {
    const res = await post(server, fragmentFieldBomb(7));
    expect(expectTypedRefusal(res)).toEqual(['QUERY_TOO_COMPLEX']);
    await expectStillServing(server);
  });

  it('refuses nested pages of 100 with QUERY_TOO_COMPLEX', async () => {
    const pages = `{ agents(first: 100) { nodes { tasks(first: 100) { subtasks { dependencies { id title } } } messages(first: 100) { content } } } }`;
    const res = await post(server, pages);
    expect(expectTypedRefusal(res)).toEqual(['QUERY_TOO_COMPLEX']);
    await expectStillServing(server);
  });

  it('refuses a fragment cycle with GRAPHQL_VALIDATION_FAILED', async () => {
    const cycle = `query { ...A } fragment A on Query { viewer { keyId } ...B } fragment B on Query { health { version } ...A }`;
    const res = await post(server, cycle);
    expect(new Set(expectTypedRefusal(res))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
    expect(res.json!.errors![0]!.message).toMatch(/Cannot spread fragment "A" within itself/);
    await expectStillServing(server);
  });
});

describe('huge strings and lists', () => {
  const FIVE_MB = 'x'.repeat(5_000_000);

  it('refuses a 5 MB string and a 200 KB name with BAD_USER_INPUT, writing nothing', async () => {
    const before = await tenantNodeIds(server.graph, server.tenantId);
    const cases: [string, string, Record<string, unknown>][] = [
      [
        'description by variable',
        `mutation($d: String) { createAgent(input: { name: "huge", role: MASTER_OPERATOR, description: $d }) { id } }`,
        { d: FIVE_MB },
      ],
      ['title as a literal', `mutation { createTask(input: { title: "${FIVE_MB}" }) { id } }`, {}],
      [
        'knowledge content',
        `mutation($c: String!) { recordKnowledge(input: { content: $c }) { id } }`,
        { c: FIVE_MB },
      ],
      ['search query', `query($q: String!) { search(query: $q) { score } }`, { q: FIVE_MB }],
      [
        '200 KB name',
        `mutation($n: String!) { createAgent(input: { name: $n, role: MASTER_OPERATOR }) { id } }`,
        { n: 'n'.repeat(200_000) },
      ],
    ];
    for (const [what, query, variables] of cases) {
      const res = await post(server, query, variables);
      expect(expectTypedRefusal(res, what)).toEqual(['BAD_USER_INPUT']);
      // The message states the contract and the size, never echoes the value.
      expect(res.text.length, what).toBeLessThan(2_000);
    }
    expect(await tenantNodeIds(server.graph, server.tenantId)).toEqual(before);
    await expectStillServing(server);
  });

  it('refuses 10,000 agents in one batch and 50,000 recipients with BAD_USER_INPUT, writing nothing', async () => {
    const before = await tenantNodeIds(server.graph, server.tenantId);
    const agents = Array.from({ length: 10_000 }, (_, i) => ({
      name: `bulk ${i}`,
      role: 'MASTER_OPERATOR',
    }));
    const batch = await post(
      server,
      `mutation($i: [CreateAgentInput!]!) { createAgents(inputs: $i) { id } }`,
      { i: agents },
    );
    expect(expectTypedRefusal(batch)).toEqual(['BAD_USER_INPUT']);
    expect(batch.json!.errors![0]!.message).toMatch(/at most 100 .*10000/);

    const recipients = Array.from({ length: 50_000 }, () => randomUUID());
    const send50k = await post(
      server,
      `mutation($to: [ID!]) { sendMessage(input: { content: "hi", toAgentIds: $to }) { id } }`,
      { to: recipients },
    );
    expect(expectTypedRefusal(send50k)).toEqual(['BAD_USER_INPUT']);

    const tags = await post(
      server,
      `mutation($t: [String!]) { recordKnowledge(input: { content: "c", tags: $t }) { id } }`,
      { t: Array.from({ length: 50_000 }, (_, i) => `t${i}`) },
    );
    expect(expectTypedRefusal(tags)).toEqual(['BAD_USER_INPUT']);
    expect(await tenantNodeIds(server.graph, server.tenantId)).toEqual(before);
    await expectStillServing(server);
  });

  // KNOWN BUG, left failing on purpose: the audit trail copies every id of a mutation's
  // arguments, even of a refused one, so one 2 MB request stores 50,000 ids (and a 10 KB "id"
  // is stored whole). A cheap way to fill the graph; collectIds (src/audit-scope.ts) or the
  // audit service should cap what it keeps.
  it('does not copy the 50,000 ids of a refused request into the audit trail', async () => {
    const recipients = Array.from({ length: 50_000 }, () => randomUUID());
    const res = await post(
      server,
      `mutation($to: [ID!]) { sendMessage(input: { content: "audit", toAgentIds: $to }) { id } }`,
      { to: recipients },
    );
    expect(expectTypedRefusal(res)).toEqual(['BAD_USER_INPUT']);
    const [event] = await server.graph.read((tx) =>
      tx.run<{ ids: number }>({
        cypher: `MATCH (a:AuditEvent {tenantId: $tenantId, operation: 'sendMessage', outcome: 'FAILURE'})
                 RETURN size(a.targetIds) AS ids ORDER BY a.createdAt DESC LIMIT 1`,
        params: { tenantId: server.tenantId },
      }),
    );
    expect(event!.ids).toBeLessThanOrEqual(1_000);
    await expectStillServing(server);
  });
});

describe('Cypher injection in every string argument', () => {
  it('gives typed errors or stores the text, and touches no other data', async () => {
    const slots = slotsOf(schema, 'String');
    // Sanity: the generator finds the arguments we know of.
    const names = slots.map(describeSlot);
    expect(names).toEqual(
      expect.arrayContaining([
        'mutation.createAgent(input.name)',
        'mutation.createAgent(input.capabilities[0].name)',
        'mutation.sendMessage(input.content)',
        'mutation.deleteOrganisation(confirm)',
        'query.searchKnowledge(query)',
        'query.agents(filter.text)',
        'query.tasks(after)',
      ]),
    );
    const ownBefore = await tenantNodeIds(server.graph, server.tenantId);
    const otherBefore = await tenantSnapshot(other.graph, other.tenantId);
    // The other tenant's agents, tasks, message, knowledge, keys...: something to lose.
    expect((JSON.parse(otherBefore) as unknown[]).length).toBeGreaterThanOrEqual(8);

    const cases = interleaved(
      slots.flatMap((slot) => INJECTION_PAYLOADS.map((payload) => ({ slot, payload }))),
      ({ slot }) => `${slot.operation}.${slot.field.name}`,
    );
    const problems: string[] = [];
    let stored = 0;
    // A 503 REQUEST_TIMEOUT counts as a problem, though it is typed: no operation here may run
    // past the request limit (60 s for test servers). Chat ran past 15 s on a loaded 2-core
    // machine while the sweep sent each operation's cases in a burst: its writes queued on the
    // seed agent's lock behind each other and behind the replies of earlier chats. Chat now holds that lock for fewer round trips
    // (chat-locks.int.test.ts), and interleaved() keeps the sweep from load-testing one node.
    await eachLimited(cases, 4, async ({ slot, payload }) => {
      const { query, variables } = operationFor(slot, payload, ids);
      const res = await post(server, query, variables);
      const problem = untypedProblem(res);
      if (problem) problems.push(`${describeSlot(slot)} <- ${preview(payload)}: ${problem}`);
      if (codesOf(res).length === 0) stored++;
      const data = res.json?.data as { createTenant?: { tenant: { id: string } } } | null;
      if (data?.createTenant) createdTenants.push(data.createTenant.tenant.id);
    });

    expect(problems).toEqual([]);
    // Not everything was refused: many payloads were plain text that got stored.
    expect(stored).toBeGreaterThan(cases.length / 4);
    // The chat replies the sweep started end here, not in the middle of the next test.
    await server.services.chat.idle();
    const ownAfter = new Set(await tenantNodeIds(server.graph, server.tenantId));
    expect(ownBefore.filter((id) => !ownAfter.has(id))).toEqual([]);
    expect(await tenantSnapshot(other.graph, other.tenantId)).toBe(otherBefore);
    await expectStillServing(server);
    await expectStillServing(other);
    // Fifteen requests per string argument of the schema (~1,800, chat, submitTask and
    // documents among them), CPU-bound on a loaded 2-core machine: 160-200 s measured with two
    // copies of this file and engine-durability running at once. Room for the schema to grow.
  }, 600_000);

  it('stores injection strings byte for byte', async () => {
    // Each payload has agents of its own: four at a time.
    await eachLimited([...INJECTION_PAYLOADS.entries()], 4, async ([i, payload]) => {
      const created = await post(
        server,
        `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id description systemPrompt capabilities { name } } }`,
        {
          input: {
            name: `round trip ${i}`,
            role: 'MASTER_OPERATOR',
            description: payload,
            systemPrompt: payload,
            capabilities: payload.length <= 50 ? [{ name: payload }] : [],
          },
        },
      );
      expect(created.json?.errors, created.text.slice(0, 300)).toBeUndefined();
      const { id } = (created.json!.data as { createAgent: { id: string } }).createAgent;
      const read = await post(
        server,
        `query($id: ID!) { agent(id: $id) { description systemPrompt capabilities { name } } }`,
        { id },
      );
      const agent = (read.json!.data as { agent: Record<string, unknown> }).agent;
      expect(agent.description).toBe(payload);
      expect(agent.systemPrompt).toBe(payload);
      if (payload.length <= 50) expect(agent.capabilities).toEqual([{ name: payload }]);
      // And in the graph itself, not just through the API.
      const [stored] = await server.graph.read((tx) =>
        tx.run<{ description: string }>({
          cypher:
            'MATCH (a:Agent {id: $id, tenantId: $tenantId}) RETURN a.description AS description',
          params: { id, tenantId: server.tenantId },
        }),
      );
      expect(stored!.description).toBe(payload);
    });

    // Results and errors of tasks, which only a status change stores.
    for (const payload of INJECTION_PAYLOADS.slice(0, 4)) {
      const task = await post(server, `mutation { createTask(input: { title: "result" }) { id } }`);
      const { id } = (task.json!.data as { createTask: { id: string } }).createTask;
      await post(
        server,
        `mutation($id: ID!) { setTaskStatus(id: $id, status: IN_PROGRESS) { id } }`,
        { id },
      );
      const done = await post(
        server,
        `mutation($id: ID!, $r: String) { setTaskStatus(id: $id, status: COMPLETED, result: $r) { result } }`,
        { id, r: payload },
      );
      expect(done.json?.data, done.text.slice(0, 300)).toEqual({
        setTaskStatus: { result: payload },
      });
    }

    const message = await post(
      server,
      `mutation($c: String!, $to: [ID!]) { sendMessage(input: { content: $c, toAgentIds: $to }) { content } }`,
      { c: INJECTION_PAYLOADS[1], to: [ids.agent] },
    );
    expect(message.json?.data).toEqual({ sendMessage: { content: INJECTION_PAYLOADS[1] } });
    const knowledge = await post(
      server,
      `mutation($c: String!) { recordKnowledge(input: { content: $c, tags: [$c] }) { content tags } }`,
      { c: INJECTION_PAYLOADS[0] },
    );
    expect(knowledge.json?.data).toEqual({
      recordKnowledge: { content: INJECTION_PAYLOADS[0], tags: [INJECTION_PAYLOADS[0]] },
    });
    await expectStillServing(server);
  }, 120_000); // ~100 requests, four at a time: slow on a loaded 2-core CI
});

describe('invalid ids', () => {
  it('answers every ID argument with NOT_FOUND or BAD_USER_INPUT for ids of nothing', async () => {
    const slots = slotsOf(schema, 'ID');
    expect(slots.map(describeSlot)).toEqual(
      expect.arrayContaining(['query.agent(id)', 'mutation.sendMessage(input.toAgentIds[0])']),
    );
    const cases = interleaved(
      slots.flatMap((slot) => INVALID_IDS.map((id) => ({ slot, id }))),
      ({ slot }) => `${slot.operation}.${slot.field.name}`,
    );
    const problems: string[] = [];
    await eachLimited(cases, 4, async ({ slot, id }) => {
      const { query, variables } = operationFor(slot, id, ids);
      const res = await post(server, query, variables);
      const what = `${describeSlot(slot)} <- ${preview(id)}`;
      const codes = codesOf(res);
      const problem = untypedProblem(res);
      if (problem) problems.push(`${what}: ${problem}`);
      else if (codes.some((code) => code !== 'NOT_FOUND' && code !== 'BAD_USER_INPUT')) {
        problems.push(
          `${what}: ${codes.join(', ')} ${res.json!.errors![0]!.message.slice(0, 200)}`,
        );
      } else if (codes.length === 0 && (slot.operation === 'mutation' || !slot.optional)) {
        // A filter may match nothing; a mutation must not act on (or skip) an id of nothing.
        problems.push(`${what}: accepted an id of nothing`);
      }
    });
    expect(problems).toEqual([]);
    await expectStillServing(server);
  }, 120_000); // one request per ID argument of the schema: slow on a loaded 2-core CI
});

describe('malformed requests', () => {
  const VIEWER = JSON.stringify({ query: '{ viewer { keyId } }' });
  const cases: [string, Parameters<typeof send>[1], number][] = [
    ['truncated JSON', { headers: JSON_TYPE, body: '{"query": "{ viewer' }, 400],
    [
      'invalid UTF-8',
      { headers: JSON_TYPE, body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22]) },
      400,
    ],
    ['a JSON array (batching is off)', { headers: JSON_TYPE, body: `[${VIEWER},${VIEWER}]` }, 400],
    ['a JSON string', { headers: JSON_TYPE, body: '"{ viewer { keyId } }"' }, 400],
    ['null', { headers: JSON_TYPE, body: 'null' }, 400],
    ['an empty body', { headers: JSON_TYPE, body: '' }, 400],
    ['an empty object', { headers: JSON_TYPE, body: '{}' }, 400],
    ['text/plain (CSRF)', { headers: { 'content-type': 'text/plain' }, body: VIEWER }, 400],
    [
      'form-urlencoded (CSRF)',
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: VIEWER },
      400,
    ],
    ['no content-type (CSRF)', { body: VIEWER }, 400],
    [
      'GET with a mutation (CSRF)',
      {
        method: 'GET',
        search: `?query=${encodeURIComponent('mutation { createConversation { id } }')}`,
      },
      400,
    ],
    [
      'GET with a mutation, preflighted',
      {
        method: 'GET',
        headers: { 'apollo-require-preflight': 'true' },
        search: `?query=${encodeURIComponent('mutation { createConversation { id } }')}`,
      },
      405,
    ],
    ['query as a number', { headers: JSON_TYPE, body: '{"query": 5}' }, 400],
    [
      'variables as a string',
      { headers: JSON_TYPE, body: '{"query": "{ __typename }", "variables": "{}"}' },
      400,
    ],
    [
      'variables as a list',
      { headers: JSON_TYPE, body: '{"query": "{ __typename }", "variables": []}' },
      400,
    ],
    [
      'operationName as an object',
      { headers: JSON_TYPE, body: '{"query": "{ __typename }", "operationName": {}}' },
      400,
    ],
    [
      'extensions as a string',
      { headers: JSON_TYPE, body: '{"query": "{ __typename }", "extensions": "x"}' },
      400,
    ],
  ];

  it('answers each with a 4xx and a typed BAD_REQUEST', async () => {
    const before = await tenantNodeIds(server.graph, server.tenantId);
    for (const [what, init, status] of cases) {
      const res = await send(server, init);
      expect(res.status, `${what}: ${res.text}`).toBe(status);
      expect(expectTypedRefusal(res, what)).toEqual(['BAD_REQUEST']);
    }
    // The refused mutations created nothing.
    expect(await tenantNodeIds(server.graph, server.tenantId)).toEqual(before);
    await expectStillServing(server);
  });

  it('answers a 10 KB bearer key with UNAUTHENTICATED (401)', async () => {
    const res = await send(server, {
      headers: { ...JSON_TYPE, authorization: `Bearer ${'k'.repeat(10_000)}` },
      body: VIEWER,
    });
    expect(res.status).toBe(401);
    expect(expectTypedRefusal(res)).toEqual(['UNAUTHENTICATED']);
    await expectStillServing(server);
  });
});

describe('oversized requests', () => {
  it('refuses a body over MAX_BODY_BYTES with 413 PAYLOAD_TOO_LARGE, even without a length', async () => {
    const padded = (bytes: number) =>
      JSON.stringify({ query: '{ viewer { keyId } }' }).padEnd(bytes, ' ');
    const within = await send(other, { headers: JSON_TYPE, body: padded(99_000) });
    expect(within.status, within.text).toBe(200);

    for (const size of [100_001, 5_000_000]) {
      const res = await send(other, { headers: JSON_TYPE, body: padded(size) });
      expect(res.status).toBe(413);
      expect(expectTypedRefusal(res, `${size} bytes`)).toEqual(['PAYLOAD_TOO_LARGE']);
    }
    // Chunked, no content-length: the limit counts bytes as they arrive.
    const chunk = new TextEncoder().encode(' '.repeat(10_000));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 50) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const chunked = await send(other, { headers: JSON_TYPE, body: stream });
    expect(chunked.status).toBe(413);
    expect(codesOf(chunked)).toEqual(['PAYLOAD_TOO_LARGE']);
    await expectStillServing(other);
  });

  it('refuses headers over Node’s limit with 431 and keeps serving', async () => {
    const res = await send(other, {
      headers: { ...JSON_TYPE, 'x-padding': 'p'.repeat(64_000) },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(res.status).toBe(431);
    await expectStillServing(other);
  });
});

/** An agent, tasks, a conversation with a message, a knowledge item and a key in the tenant. */
async function seed(target: TestServer): Promise<OwnIds> {
  const run = async <T>(query: string, variables?: Record<string, unknown>): Promise<T> => {
    const res = await post(target, query, variables);
    expect(res.json?.errors, res.text).toBeUndefined();
    return res.json!.data as T;
  };
  const { createAgents } = await run<{ createAgents: { id: string }[] }>(
    `mutation { createAgents(inputs: [{ name: "seed one", role: MASTER_OPERATOR, capabilities: [{ name: "seed" }] }, { name: "seed two", role: CHIEF_OF_STAFF }]) { id } }`,
  );
  const [agent, otherAgent] = createAgents.map((a) => a.id) as [string, string];
  const { createTasks } = await run<{ createTasks: { id: string }[] }>(
    `mutation($a: ID) { createTasks(inputs: [{ key: "p", title: "seed task", assigneeId: $a }, { key: "c", title: "seed subtask", parentKey: "p" }]) { id } }`,
    { a: agent },
  );
  const [task, otherTask] = createTasks.map((t) => t.id) as [string, string];
  const { sendMessage } = await run<{ sendMessage: { id: string; conversation: { id: string } } }>(
    `mutation($to: [ID!]) { sendMessage(input: { content: "seed message", toAgentIds: $to, conversationTitle: "seed" }) { id conversation { id } } }`,
    { to: [agent] },
  );
  const { recordKnowledge } = await run<{ recordKnowledge: { id: string } }>(
    `mutation($a: ID, $t: ID) { recordKnowledge(input: { content: "seed fact", tags: ["seed"], agentId: $a, taskId: $t }) { id } }`,
    { a: agent, t: task },
  );
  const { createApiKey } = await run<{ createApiKey: { apiKey: { id: string } } }>(
    `mutation { createApiKey(name: "seed viewer", role: VIEWER) { apiKey { id } } }`,
  );
  return {
    agent,
    otherAgent,
    task,
    otherTask,
    conversation: sendMessage.conversation.id,
    message: sendMessage.id,
    knowledge: recordKnowledge.id,
    apiKey: createApiKey.apiKey.id,
  };
}

/** A payload short enough for a failure message. */
function preview(value: string): string {
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
