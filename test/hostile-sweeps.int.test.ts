import type { GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer } from './utils/server.js';
import {
  INJECTION_PAYLOADS,
  INVALID_IDS,
  send,
  post,
  codesOf,
  expectTypedRefusal,
  untypedProblem,
  expectStillServing,
  tenantSnapshot,
  tenantNodeIds,
  JSON_TYPE,
  type OwnIds,
  preview,
} from './utils/hostile.js';
import {
  slotsOf,
  operationFor,
  describeSlot,
  interleaved,
  eachLimited,
  sweepSlots,
} from './utils/hostile-operations.js';
import { startHostileServers, stopHostileServers } from './utils/hostile-servers.js';
import { NOT_IN_NAMES } from '../src/domain/validate.js';

/**
 * The hostile-input suite, sweeps: Cypher injection in every string argument, invalid ids,
 * malformed and oversized requests (hostile-shapes.int.test.ts: nesting, bombs, huge input).
 * Every refusal is a typed error, never a 500 or a crash, and the server answers a normal query
 * right after (expectStillServing ends every test).
 */

let server: TestServer;
/** Another tenant on its own server (with a 100 KB body limit): hostile input must not reach it. */
let other: TestServer;
let ids: OwnIds;
let schema: GraphQLSchema;
/** Tenants made by createTenant during the sweep: ours to delete. */
const createdTenants: string[] = [];

beforeAll(async () => {
  ({ server, other, ids, schema } = await startHostileServers());
});

afterAll(() => stopHostileServers({ server, other }, createdTenants));

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

    const cases = slots.flatMap((slot) => INJECTION_PAYLOADS.map((value) => ({ slot, value })));
    // A 503 REQUEST_TIMEOUT counts as a problem, though it is typed: no operation here may run
    // past the request limit (60 s for test servers). Chat ran past 15 s on a loaded 2-core
    // machine while the sweep sent each operation's cases in a burst: its writes queued on the
    // seed agent's lock behind each other and behind the replies of earlier chats. Chat now
    // holds that lock for fewer round trips (chat-locks.int.test.ts), and the sweep's
    // interleaving keeps it from load-testing one node.
    const { problems, accepted: stored } = await sweepSlots(server, ids, cases, createdTenants);

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
      // Names refuse control and text-direction characters (test/name-characters.int.test.ts):
      // such a payload is refused as a capability's name, typed, and stored in free text.
      const asName = payload.length <= 50 && !NOT_IN_NAMES.test(payload);
      if (payload.length <= 50 && !asName) {
        const refused = await post(
          server,
          `mutation($c: String!) { createAgent(input: { name: "refused ${i}", role: MASTER_OPERATOR, capabilities: [{ name: $c }] }) { id } }`,
          { c: payload },
        );
        expect(codesOf(refused), refused.text.slice(0, 300)).toEqual(['BAD_USER_INPUT']);
      }
      const created = await post(
        server,
        `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id description systemPrompt capabilities { name } } }`,
        {
          input: {
            name: `round trip ${i}`,
            role: 'MASTER_OPERATOR',
            description: payload,
            systemPrompt: payload,
            capabilities: asName ? [{ name: payload }] : [],
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
      if (asName) expect(agent.capabilities).toEqual([{ name: payload }]);
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
