import { isEnumType, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer } from './utils/server.js';
import { expectStillServing, tenantSnapshot, type OwnIds } from './utils/hostile.js';
import { slotsOf, describeSlot, sweepSlots, type Slot } from './utils/hostile-operations.js';
import { startHostileServers, stopHostileServers } from './utils/hostile-servers.js';

/**
 * The hostile-input suite, values: numbers, dates and JSON objects at their extremes, and every
 * value of every enum, in every argument of the schema that takes one (hostile-sweeps does the
 * strings and ids). Each is stored, or refused with a typed error; never a 500, a crash or a
 * write to another tenant, and the server answers a normal query after.
 */

let server: TestServer;
let other: TestServer;
let ids: OwnIds;
let schema: GraphQLSchema;
const createdTenants: string[] = [];

beforeAll(async () => {
  ({ server, other, ids, schema } = await startHostileServers());
});

afterAll(() => stopHostileServers({ server, other }, createdTenants));

/** Values at the edges of each scalar: in range for GraphQL, not always for the domain. */
const EXTREMES: Record<string, readonly unknown[]> = {
  Int: [0, -1, -2_147_483_648, 2_147_483_647],
  Float: [0, -1, 5e-324, -Number.MAX_VALUE, Number.MAX_VALUE],
  Boolean: [true, false],
  DateTimeISO: [
    '1970-01-01T00:00:00.000Z',
    '0001-01-01T00:00:00.000Z',
    '9999-12-31T23:59:59.999Z',
    '+275760-09-13T00:00:00.000Z',
    '-271821-04-20T00:00:00.000Z',
    '2026-02-30T00:00:00.000Z',
    'yesterday',
  ],
  JSONObject: [
    {},
    JSON.parse('{"__proto__": {"polluted": true}}') as unknown,
    { constructor: { prototype: { polluted: true } } },
    { n: Number.MAX_VALUE, tiny: 5e-324, nul: '\u0000', list: [null, [[]], {}] },
    { 'a.b': 1, $where: 'x', '': '', 'MATCH (n) DETACH DELETE n': true },
  ],
};

function valuesFor(slot: Slot): readonly unknown[] {
  if (isEnumType(slot.type)) return slot.type.getValues().map((v) => v.value as unknown);
  return EXTREMES[slot.type.name] ?? [];
}

describe('extreme values in every argument', () => {
  it('stores them or gives typed errors, and touches no other tenant', async () => {
    const slots = [...Object.keys(EXTREMES), 'enum'].flatMap((named) => slotsOf(schema, named));
    // Sanity: the generator finds the arguments we know of.
    expect(slots.map(describeSlot)).toEqual(
      expect.arrayContaining([
        'query.tasks(first)',
        'mutation.setTaskStatus(status)',
        'mutation.createAgent(input.role)',
      ]),
    );
    const otherBefore = await tenantSnapshot(other.graph, other.tenantId);
    const cases = slots.flatMap((slot) => valuesFor(slot).map((value) => ({ slot, value })));
    const { problems, accepted } = await sweepSlots(server, ids, cases, createdTenants);

    expect(problems).toEqual([]);
    expect(accepted).toBeGreaterThan(cases.length / 4);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await server.services.chat.idle();
    expect(await tenantSnapshot(other.graph, other.tenantId)).toBe(otherBefore);
    await expectStillServing(server);
    await expectStillServing(other);
  }, 600_000);
});
