import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';

/**
 * README walk: `skills(status: "")` listed every skill, as if no status were given, and its
 * refusals carried no `extensions.field`, which the other list filters' carry. A status is one
 * of the three or left out; each refusal names its argument.
 */

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(() => server?.stop());

const skills = (args: string) => server.gql(`{ skills(${args}) { id } }`);

describe('skills filters', () => {
  it.each(['', ' ', 'active', 'DONE'])('refuses status "%s", naming the field', async (status) => {
    const res = await skills(`status: ${JSON.stringify(status)}`);
    expect(res.errors?.[0], JSON.stringify(res)).toMatchObject({
      message: `status must be one of CANDIDATE, ACTIVE, RETIRED, but got ${JSON.stringify(
        status,
      )}`,
      extensions: { code: 'BAD_USER_INPUT', field: 'status' },
    });
  });

  it('refuses a family or capability it cannot read, naming the field', async () => {
    const family = await skills(`family: "!!"`);
    expect(family.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'family',
    });
    const capability = await skills(`capability: "${'c'.repeat(201)}"`);
    expect(capability.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'capability',
    });
  });

  it('takes each status, or none', async () => {
    for (const args of [
      'status: "CANDIDATE"',
      'status: "ACTIVE"',
      'status: "RETIRED"',
      'status: null',
    ])
      expect((await skills(args)).errors, args).toBeUndefined();
  });
});
