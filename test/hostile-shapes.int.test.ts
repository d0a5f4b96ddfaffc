import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer } from './utils/server.js';
import {
  nestedTasksQuery,
  aliasBomb,
  fragmentAliasBomb,
  fragmentFieldBomb,
  send,
  post,
  expectTypedRefusal,
  expectStillServing,
  tenantNodeIds,
  JSON_TYPE,
  type OwnIds,
} from './utils/hostile.js';
import { startHostileServers, stopHostileServers } from './utils/hostile-servers.js';

/**
 * The hostile-input suite, shapes: deep nesting, alias and fragment bombs, huge strings and
 * lists (hostile-sweeps.int.test.ts: injection, invalid ids, malformed and oversized requests).
 * Every refusal is a typed error, never a 500 or a crash, and the server answers a normal query
 * right after (expectStillServing ends every test).
 */

const IMPORT = `mutation($d: JSONObject!) { importOrganisation(document: $d) { nodesCreated } }`;

let server: TestServer;
/** Another tenant on its own server (with a 100 KB body limit): hostile input must not reach it. */
let other: TestServer;
let ids: OwnIds;

beforeAll(async () => {
  ({ server, other, ids } = await startHostileServers());
});

afterAll(() => stopHostileServers({ server, other }, []));

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
    // this refusal; that the rule looks each fragment up once is counted in limits-rules.test.ts.
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

  it('answers a 200 KB id with NOT_FOUND in a few hundred bytes, not echoing it whole', async () => {
    const id = 'i'.repeat(200_000);
    for (const query of [
      `query($id: ID!) { task(id: $id) { id } }`,
      `mutation($id: ID!) { cancelTask(id: $id) { id } }`,
    ]) {
      const res = await post(server, query, { id });
      expect(expectTypedRefusal(res, query)).toEqual(['NOT_FOUND']);
      expect(res.text.length, query).toBeLessThan(2_000);
    }
  });

  // The audit trail once copied every id of a mutation's arguments, even of a refused one: one
  // 2 MB request stored 50,000 ids (writeAuditEvent now caps them, and their length).
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
