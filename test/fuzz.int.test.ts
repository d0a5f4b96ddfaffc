import { parse, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scheduler } from '../src/engine/scheduler.js';
import { startOfflineAgents, waitForWorkflow } from './utils/engine.js';
import { brokenPromise, fuzzCases } from './utils/fuzz-cases.js';
import { eachLimited, interleaved } from './utils/hostile-operations.js';
import { expectStillServing, post, preview, tenantSnapshot, type OwnIds } from './utils/hostile.js';
import { startHostileServers, stopHostileServers } from './utils/hostile-servers.js';
import type { TestServer } from './utils/server.js';
import { subscribe } from './utils/ws.js';

/**
 * The schema-driven fuzz: for every Query and Mutation field, cases from a seeded PRNG (missing
 * arguments, nulls, wrong types, empty, huge and control-character strings, extreme numbers,
 * unknown enum values, random ids and another tenant's, 10k-item lists, deep JSON) with the
 * result's scalar fields selected. Every answer keeps the promise of the README: a typed error
 * or a result, never a 5xx, INTERNAL_SERVER_ERROR or a stack trace; the other tenant is left as
 * it was, and afterwards the server answers and the engine still completes a submitted task.
 * FUZZ_SEED and FUZZ_CASES (cases per field, 6 by default) widen a local run; FUZZ_LOG=1 prints
 * every case's answer.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_101);
const PER_FIELD = Number(process.env.FUZZ_CASES ?? 6);
const log = (what: string, answer: string | undefined) => {
  if (process.env.FUZZ_LOG) console.log(`FUZZ ${what} -> ${answer}`);
};

let server: TestServer;
let other: TestServer;
let ids: OwnIds;
let otherIds: OwnIds;
let schema: GraphQLSchema;
let scheduler: Scheduler | undefined;
const createdTenants: string[] = [];

/** Our seeded ids, and the other tenant's (its id among them: deleteOrganisation's confirm). */
const fuzzIds = () => ({ own: ids, other: [...Object.values(otherIds), other.tenantId] });

beforeAll(async () => {
  ({ server, other, ids, otherIds, schema } = await startHostileServers());
  // The engine runs through the fuzz: workflows that bad input started must not stall it.
  scheduler = startOfflineAgents(server, { stepTimeoutMs: 30_000, leaseMs: 10_000 });
});

afterAll(async () => {
  await scheduler?.stop();
  await server?.services.chat.idle();
  await stopHostileServers({ server, other }, createdTenants);
});

describe('the schema-driven fuzz', () => {
  it('answers every case with a result or a typed error, and leaves the other tenant be', async () => {
    const cases = fuzzCases(schema, fuzzIds(), SEED, PER_FIELD);
    // Sanity: every root field has its cases (99 Query and Mutation fields today).
    const fields = new Set(cases.map((c) => c.what.split('#')[0]));
    expect(fields.size).toBeGreaterThanOrEqual(99);
    expect([...fields]).toEqual(expect.arrayContaining(['query.agent', 'mutation.submitTask']));
    const otherBefore = await tenantSnapshot(other.graph, other.tenantId);
    const problems: string[] = [];
    // Two at a time: the cases are fixed by the seed; what runs beside what is not, and need
    // not be (each case stands alone). Interleaved: one field's cases in a row would wait on
    // each other (one export at a time).
    const ordered = interleaved(cases, (c) => c.what.split('#')[0]!);
    await eachLimited(ordered, 2, async (c) => {
      const res = await post(server, c.query, c.variables);
      const problem = brokenPromise(res.status, res.text);
      if (problem) {
        const vars = preview(c.variables);
        problems.push(`${c.what} ${vars}: ${problem}: ${res.text.slice(0, 300)}`);
      }
      log(c.what, `${res.status} ${res.text.slice(0, 200)}`);
      const data = res.json?.data as { createTenant?: { tenant: { id: string } } } | null;
      if (data?.createTenant) createdTenants.push(data.createTenant.tenant.id);
    });
    expect(problems, `seed ${SEED}`).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await server.services.chat.idle();
    expect(await tenantSnapshot(other.graph, other.tenantId)).toBe(otherBefore);
  }, 180_000);

  it('answers every subscription case over graphql-ws with events or a typed error', async () => {
    const cases = fuzzCases(schema, fuzzIds(), SEED, PER_FIELD, ['subscription']);
    expect(cases.length).toBeGreaterThanOrEqual(9 * PER_FIELD);
    const problems: string[] = [];
    for (const c of cases) {
      // Ready when the server registered it or answered: one that does neither fails here.
      const sub = await subscribe(server, parse(c.query), c.variables);
      const first = await sub.waitForNext(200).catch(() => null);
      await sub.close();
      const problem = first?.errors ? brokenPromise(200, JSON.stringify(first)) : null;
      log(c.what, JSON.stringify(first)?.slice(0, 200));
      if (problem) problems.push(`${c.what} ${preview(c.variables)}: ${problem}`);
    }
    expect(problems, `seed ${SEED}`).toEqual([]);
  }, 120_000);

  it('still answers, and the engine still completes a task on the offline model', async () => {
    await expectStillServing(server);
    await expectStillServing(other);
    // What the fuzz may have set on purpose (a budget of one token, a tool that waits for a
    // person) would hold a new task back as designed: put it back first.
    const reset = await post(
      server,
      `mutation { setBudget(scope: TENANT, usd: null, tokens: null) { budget { scope } } }`,
    );
    expect(reset.json?.errors, reset.text).toBeUndefined();
    const policies = await post(server, `{ toolPolicies { tool } }`);
    for (const { tool } of (policies.json!.data as { toolPolicies: { tool: string }[] })
      .toolPolicies) {
      await post(server, `mutation($t: String!) { removeToolPolicy(tool: $t) }`, { t: tool });
    }
    const agents = await post(
      server,
      `mutation { createAgents(inputs: [
        { name: "Fuzz chief", role: CHIEF_OF_STAFF },
        { name: "Fuzz doer", role: MASTER_OPERATOR,
          capabilities: [{ name: "research" }, { name: "analysis" }, { name: "writing" }] }
      ]) { id } }`,
    );
    expect(agents.json?.errors, agents.text).toBeUndefined();
    // Our own chief, without a plan review: the least loaded may be one the fuzz made with
    // reviewPlans, whose plans wait for a person as designed.
    const [chief] = (agents.json!.data as { createAgents: { id: string }[] }).createAgents;
    const submitted = await post(
      server,
      `mutation($chief: ID!) { submitTask(input: { title: "After the fuzz",
         description: "Research the market for electric bikes. Then write a short brief.",
         chiefOfStaffId: $chief, planApproval: false }) { id } }`,
      { chief: chief!.id },
    );
    expect(submitted.json?.errors, submitted.text).toBeUndefined();
    const rootId = (submitted.json!.data as { submitTask: { id: string } }).submitTask.id;
    const tasks = await waitForWorkflow(
      server,
      rootId,
      (all) => all.find((t) => t.id === rootId)?.status === 'COMPLETED',
      30_000,
    );
    expect(tasks.find((t) => t.id === rootId)?.status).toBe('COMPLETED');
  }, 120_000);
});
