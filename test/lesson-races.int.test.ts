import { afterAll, beforeAll, expect, it } from 'vitest';
import { moveLesson } from '../graph/lesson.repository.js';
import { LessonStatus } from '../src/domain/lesson.js';
import { untilBlocked } from './utils/blocked.js';
import { constructLesson, ensureCapability } from './utils/lesson-history.js';
import { startTestServer, type TestServer } from './utils/server.js';

/*
 * A person retires a lesson that the lifecycle pass moves meanwhile (lessons.int.test.ts: one at
 * a time). The move is checked under the lesson's lock and refused; the refusal committed a
 * transaction of nothing first, audited as a SUCCESS, then as a FAILURE.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  await ensureCapability(server, 'shipping');
});
afterAll(() => server.stop());

it('refuses a retirement of a lesson that moved while it waited, audited once as a failure', async () => {
  const id = await constructLesson(server, 'Weigh every parcel.', {
    capability: 'shipping',
    family: 'raced-lessons',
  });
  let retired: Promise<unknown> | undefined;
  // The lifecycle pass retires the lesson and holds it until it commits; a person's
  // retirement, which read it as CANDIDATE, starts meanwhile.
  await server.graph.write(async (tx) => {
    await moveLesson(tx, server.tenantId, id, [LessonStatus.CANDIDATE], LessonStatus.RETIRED);
    retired = server.gql(
      `mutation($id: ID!) { retireLesson(id: $id, reason: "wrong now") { status } }`,
      { id } as never,
    );
    await untilBlocked(server.graph, 'the retirement to wait for the lesson', {
      name: 'id',
      value: id,
    });
  });
  const res = (await retired) as { errors?: { message: string; extensions: { code: string } }[] };
  // A race, not bad input: CONFLICT, as for agent versions (versions/lifecycle.ts).
  expect(res.errors?.[0]?.extensions.code).toBe('CONFLICT');
  expect(res.errors?.[0]?.message).toMatch(/changed meanwhile and is now RETIRED/);
  const events = await server.graph.read((tx) =>
    tx.run<{ outcome: string }>({
      cypher: `MATCH (e:AuditEvent {tenantId: $tenantId})
               WHERE e.operation CONTAINS 'retireLesson' RETURN e.outcome AS outcome`,
      params: { tenantId: server.tenantId },
    }),
  );
  expect(events.map((e) => e.outcome)).toEqual(['FAILURE']);
});
