import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './utils/server.js';

/** Any character a terminal, log viewer or Neo4j Browser would act on rather than print. */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/**
 * Review found NOT_FOUND repeating the id a client sent as it came: a newline forged a second
 * log line, an ESC sequence recoloured (or cleared) the terminal that printed the error.
 */
describe('user input echoed in an error', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('escapes control characters in an unknown id, in the message and in extensions', async () => {
    const id = 'x\n[INFO] forged\u001b[2J\u0000\u202eend';
    const res = await server.gql(`query($id: ID!) { task(id: $id) { id } }`, { id } as never);
    const error = res.errors?.[0];
    expect(error?.extensions?.code).toBe('NOT_FOUND');
    expect(error?.message).not.toMatch(CONTROLS);
    expect(error?.message).toBe(
      'Task "x\\n[INFO] forged\\u001B[2J\\u0000\\u202Eend" does not exist',
    );
    expect(error?.extensions?.id).toBe('x\\n[INFO] forged\\u001B[2J\\u0000\\u202Eend');
  });

  it('cuts a long id at 100 characters before escaping, and says how long it was', async () => {
    const id = `${'a'.repeat(99)}\u001b${'b'.repeat(200)}`;
    const res = await server.gql(`query($id: ID!) { task(id: $id) { id } }`, { id } as never);
    expect(res.errors?.[0]?.message).toBe(
      `Task "${'a'.repeat(99)}\\u001B… (300 characters)" does not exist`,
    );
  });

  it('escapes control characters in any other value a message repeats (a cursor)', async () => {
    const res = await server.gql(
      `query($after: String) { auditEvents(after: $after) { totalCount } }`,
      {
        after: '\u001b]0;pwned\u0007',
      } as never,
    );
    const error = res.errors?.[0];
    expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error?.message).not.toMatch(CONTROLS);
    expect(error?.message).toContain('"\\u001B]0;pwned\\u0007"');
  });

  it('escapes what GraphQL itself repeats of a value it could not coerce', async () => {
    const res = await server.gql(
      `query($first: Int) { auditEvents(first: $first) { totalCount } }`,
      {
        first: 'x\u202e\u0085y',
      } as never,
    );
    const error = res.errors?.[0];
    expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error?.message).not.toMatch(CONTROLS);
    expect(error?.message).toContain('"x\\u202E\\u0085y"');
  });
});
