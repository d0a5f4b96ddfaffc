import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { efficacyCounts } from '../graph/lesson.repository.js';
import { unreflectedRuns } from '../graph/reflection.repository.js';
import { TOPICS, type EvolutionEvent } from '../subscriptions/topics.js';
import { learnFrom, reflectionPass } from '../src/evolution/lessons/learn.js';
import { lessonLifecyclePass } from '../src/evolution/lessons/lifecycle.js';
import { newcombe } from '../src/evolution/lessons/stats.js';
import { Role } from '../src/domain/auth.js';
import {
  constructLesson,
  constructRuns,
  ensureCapability,
  evolutionContext,
} from './utils/lesson-history.js';
import { startTestServer, type TestServer } from './utils/server.js';

// Lessons with evidence (issue 12) on constructed histories: efficacy exact, promotion,
// retirement, de-duplication, and the mutations people use.

const LESSON_FIELDS = `
  id content kind status capability family strength derivedFrom appliedRuns
  efficacy { applied appliedSuccesses notApplied notAppliedSuccesses delta low high }
  transitions { from to reason actor }`;

interface LessonView {
  id: string;
  content: string;
  status: string;
  capability: string | null;
  family: string | null;
  strength: number;
  derivedFrom: string[];
  appliedRuns: number;
  efficacy: {
    applied: number;
    appliedSuccesses: number;
    notApplied: number;
    notAppliedSuccesses: number;
    delta: number | null;
    low: number | null;
    high: number | null;
  };
  transitions: { from: string | null; to: string; reason: string; actor: string }[];
}

describe('lessons', { timeout: 120_000 }, () => {
  let server: TestServer;
  const read = async (id: string) => {
    const res = await server.gql<{ knowledge: LessonView }, object>(
      `query ($id: ID!) { knowledge(id: $id) { ${LESSON_FIELDS} } }`,
      { id },
    );
    expect(res.errors).toBeUndefined();
    return res.data!.knowledge;
  };
  const outcomes = (applied: string[], n: number, passes: number) =>
    Array.from({ length: n }, (_, i) => ({ applied, pass: i < passes }));

  beforeAll(async () => {
    server = await startTestServer();
    await ensureCapability(server, 'shipping');
  });
  afterAll(() => server?.stop());

  it('measure efficacy exactly on a constructed history: applied against comparable runs since the lesson', async () => {
    const id = await constructLesson(server, 'Give weights in kg.', {
      capability: 'shipping',
      family: 'ship-parcels',
    });
    // Applied 7 of 8 PASS, not applied 3 of 10; runs of another family or capability, and
    // runs from before the lesson, do not count.
    await constructRuns(server, 'ship-parcels', 'shipping', [
      ...outcomes([id], 8, 7),
      ...outcomes([], 10, 3),
    ]);
    await constructRuns(server, 'other-family', 'shipping', outcomes([], 5, 0));
    await constructRuns(server, 'ship-parcels', null, outcomes([], 4, 4));
    await constructRuns(server, 'ship-parcels', 'shipping', outcomes([], 6, 6), -7200);

    const lesson = await read(id);
    const expected = newcombe({ n: 8, successes: 7 }, { n: 10, successes: 3 });
    expect(lesson.efficacy).toEqual({
      applied: 8,
      appliedSuccesses: 7,
      notApplied: 10,
      notAppliedSuccesses: 3,
      delta: expected.delta,
      low: expected.low,
      high: expected.high,
    });
    expect(lesson.efficacy.delta).toBeCloseTo(7 / 8 - 3 / 10, 12);
    expect(lesson).toMatchObject({ status: 'CANDIDATE', capability: 'shipping', appliedRuns: 8 });
  });

  it('promote a candidate that helps, with its reason, and announce it', async () => {
    const id = await constructLesson(server, 'Label fragile parcels.', {
      capability: 'shipping',
      family: 'fragile-parcels',
    });
    await constructRuns(server, 'fragile-parcels', 'shipping', [
      ...outcomes([id], 6, 6),
      ...outcomes([], 8, 1),
    ]);
    const events = server.pubsub.subscribe(TOPICS.evolution, { tenantId: server.tenantId });
    await lessonLifecyclePass.run(
      evolutionContext(server, { minApplied: 5 }),
      new AbortController().signal,
    );
    const lesson = await read(id);
    expect(lesson.status).toBe('ACTIVE');
    expect(lesson.transitions.at(-1)).toMatchObject({
      from: 'CANDIDATE',
      to: 'ACTIVE',
      actor: 'PLATFORM',
    });
    expect(lesson.transitions.at(-1)!.reason).toMatch(/^it helps: delta 87\.5%/);
    let announced: EvolutionEvent | undefined;
    while (!announced) {
      const next = (await events.next()).value as EvolutionEvent;
      if (next.subjectId === id) announced = next;
    }
    await events.return?.();
    expect(announced).toMatchObject({ kind: 'LESSON_CHANGED', subjectLabel: 'Knowledge' });
    // A second pass changes nothing: the move was conditional on CANDIDATE.
    await lessonLifecyclePass.run(
      evolutionContext(server, { minApplied: 5 }),
      new AbortController().signal,
    );
    expect((await read(id)).transitions.filter((t) => t.to === 'ACTIVE')).toHaveLength(1);
  });

  it('keep a candidate that helps but was applied too few times', async () => {
    const id = await constructLesson(server, 'Weigh twice.', {
      capability: 'shipping',
      family: 'few-parcels',
    });
    await constructRuns(server, 'few-parcels', 'shipping', [
      ...outcomes([id], 4, 4),
      ...outcomes([], 8, 0),
    ]);
    await lessonLifecyclePass.run(
      evolutionContext(server, { minApplied: 5 }),
      new AbortController().signal,
    );
    expect((await read(id)).status).toBe('CANDIDATE');
  });

  it('retire a candidate that hurts', async () => {
    const id = await constructLesson(server, 'Skip the customs form.', {
      capability: 'shipping',
      family: 'customs-parcels',
    });
    await constructRuns(server, 'customs-parcels', 'shipping', [
      ...outcomes([id], 8, 1),
      ...outcomes([], 10, 9),
    ]);
    await lessonLifecyclePass.run(evolutionContext(server), new AbortController().signal);
    const lesson = await read(id);
    expect(lesson.status).toBe('RETIRED');
    expect(lesson.transitions.at(-1)).toMatchObject({ from: 'CANDIDATE', to: 'RETIRED' });
    expect(lesson.transitions.at(-1)!.reason).toMatch(/^it hurts/);
  });

  it('retire an ACTIVE lesson whose recent applied runs fail where its earlier ones passed (the world changed)', async () => {
    const id = await constructLesson(server, 'Give weights in lb.', {
      capability: 'shipping',
      family: 'shifting-parcels',
    });
    await server.gql(
      `mutation ($id: ID!) { activateLesson(id: $id, reason: "proven by hand") { id } }`,
      { id },
    );
    // Earlier: 10 of 10 passed with it; then the world changed: the last 10 all failed.
    await constructRuns(server, 'shifting-parcels', 'shipping', [
      ...outcomes([id], 10, 10),
      ...outcomes([id], 10, 0),
    ]);
    await lessonLifecyclePass.run(
      evolutionContext(server, { recentRuns: 10 }),
      new AbortController().signal,
    );
    const lesson = await read(id);
    expect(lesson.status).toBe('RETIRED');
    expect(lesson.transitions.at(-1)!.reason).toMatch(
      /^the world changed: recent applied runs 0\/10 PASS against 10\/10/,
    );
  });

  it('reflect on failed runs once, strengthening a near-copy instead of writing a second lesson', async () => {
    const family = 'crate-parcels';
    const [first, second] = await constructRuns(server, family, 'shipping', [
      { pass: false, comment: 'The answer must give weights in kg.' },
      { pass: false, comment: 'Wrong again. The result should always give weights in kg.' },
    ]);
    const [later] = await constructRuns(server, family, 'shipping', [{ pass: true }], 10);
    const ctx = evolutionContext(server);
    // A pass takes a page of the oldest runs (the other tests' too): run it until none is left.
    const pending = () => server.graph.read((tx) => unreflectedRuns(tx, [server.tenantId], 100));
    for (let i = 0; i < 50 && (await pending()).length > 0; i++) {
      await reflectionPass.run(ctx, new AbortController().signal);
    }
    await reflectionPass.run(ctx, new AbortController().signal);
    const lessons = await server.graph.read((tx) =>
      tx.run<{ id: string }>({
        cypher: `MATCH (l:Knowledge {tenantId: $tenantId, kind: 'LESSON', family: $family}) RETURN l.id AS id`,
        params: { tenantId: server.tenantId, family },
      }),
    );
    expect(lessons).toHaveLength(1);
    const lesson = await read(lessons[0]!.id);
    expect(lesson).toMatchObject({
      content: 'Give weights in kg.',
      status: 'CANDIDATE',
      capability: 'shipping',
      family,
      // the first failure, its near-copy, and the success that followed them
      strength: 3,
    });
    expect(new Set(lesson.derivedFrom)).toEqual(new Set([first, second, later]));
    expect(lesson.transitions).toEqual([
      expect.objectContaining({ from: null, to: 'CANDIDATE', actor: 'PLATFORM' }),
    ]);
    // Every run was reflected on once: nothing is left for the next tick.
    const left = await pending();
    expect(left.filter((r) => [first, second, later].includes(r.runId))).toEqual([]);
  });

  it('reflect again on a run a person rates after it was reflected on, with the person’s comment', async () => {
    const family = 'late-parcels';
    const [runId] = await constructRuns(server, family, 'shipping', [{ pass: true }], 20);
    const ctx = evolutionContext(server);
    const pending = () => server.graph.read((tx) => unreflectedRuns(tx, [server.tenantId], 100));
    const reflectAll = async () => {
      for (let i = 0; i < 50 && (await pending()).length > 0; i++) {
        await reflectionPass.run(ctx, new AbortController().signal);
      }
    };
    const lessons = () =>
      server.graph.read((tx) =>
        tx.run<{ content: string }>({
          cypher: `MATCH (l:Knowledge {tenantId: $tenantId, kind: 'LESSON', family: $family})
                   RETURN l.content AS content`,
          params: { tenantId: server.tenantId, family },
        }),
      );
    await reflectAll(); // a pass with no failure before it: nothing to learn
    expect(await lessons()).toEqual([]);
    const rated = await server.gql(
      `mutation($runId: ID!) { rateRun(runId: $runId, score: 0.1,
        comment: "The answer must give weights in kg") { verdict } }`,
      { runId } as never,
    );
    expect(rated.errors).toBeUndefined();
    await reflectAll();
    expect(await lessons()).toEqual([{ content: 'Give weights in kg.' }]);
  });

  it('retire a lesson that a failed run followed when its feedback asks for a rule that replaces it (the world changed)', async () => {
    const family = 'parcel-weights';
    const stale = await constructLesson(server, 'Give weights in kg.', {
      capability: 'shipping',
      family,
    });
    const unrelated = await constructLesson(server, 'Insure parcels over 100 EUR.', {
      capability: 'shipping',
      family,
    });
    // The rule changed: a run that followed both lessons failed, and the user says why.
    const [failed] = await constructRuns(server, family, 'shipping', [
      {
        pass: false,
        applied: [stale, unrelated],
        comment: 'Our carrier changed. State every parcel weight in lb (pounds) from now on.',
      },
    ]);
    const subject = (
      await server.graph.read((tx) => unreflectedRuns(tx, [server.tenantId], 500))
    ).find((r) => r.runId === failed);
    expect(subject).toBeDefined();
    const learned = await learnFrom(evolutionContext(server), subject!);
    expect(learned).toMatchObject({
      kind: 'created',
      content: 'State every parcel weight in lb (pounds) from now on.',
    });
    const old = await read(stale);
    expect(old.status).toBe('RETIRED');
    expect(old.transitions.at(-1)).toMatchObject({ from: 'CANDIDATE', to: 'RETIRED' });
    expect(old.transitions.at(-1)!.reason).toMatch(
      /replaced by "State every parcel weight in lb \(pounds\) from now on\." after run/,
    );
    // A lesson about something else that the same run followed stands.
    expect((await read(unrelated)).status).toBe('CANDIDATE');
  });

  it('let an OPERATOR retire and activate a lesson with a reason, and refuse what the lifecycle does not allow', async () => {
    const id = await constructLesson(server, 'Insure parcels over 100 EUR.', {
      capability: null,
      family: 'insured-parcels',
    });
    const viewer = await server.keyFor(Role.VIEWER);
    const retire = `mutation ($id: ID!, $reason: String!) { retireLesson(id: $id, reason: $reason) { id status } }`;
    const denied = await server.gql(
      retire,
      { id, reason: 'x' },
      { authorization: `Bearer ${viewer}` },
    );
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const blank = await server.gql(retire, { id, reason: '  ' });
    expect(blank.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(blank.errors?.[0]?.message).toMatch(/reason must be 1 to 1000 characters, but got 0/);
    const unknown = await server.gql(retire, {
      id: '00000000-0000-4000-8000-000000000000',
      reason: 'x',
    });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const retired = await server.gql<{ retireLesson: { status: string } }, object>(retire, {
      id,
      reason: 'insurance is now included',
    });
    expect(retired.data?.retireLesson.status).toBe('RETIRED');
    const again = await server.gql(retire, { id, reason: 'twice' });
    expect(again.errors?.[0]?.message).toMatch(
      /cannot go from RETIRED to RETIRED; from RETIRED it may go to ACTIVE/,
    );
    const activated = await server.gql<{ activateLesson: { status: string } }, object>(
      `mutation ($id: ID!) { activateLesson(id: $id, reason: "insurance is back") { id status } }`,
      { id },
    );
    expect(activated.data?.activateLesson.status).toBe('ACTIVE');
    const lesson = await read(id);
    // (A constructed lesson has no creation transition: only these two moves.)
    expect(lesson.transitions.map((t) => [t.from, t.to, t.reason])).toEqual([
      ['CANDIDATE', 'RETIRED', 'insurance is now included'],
      ['RETIRED', 'ACTIVE', 'insurance is back'],
    ]);
    expect(lesson.transitions[0]!.actor).not.toBe('PLATFORM');
  });

  it('let a person retire and activate a lesson recorded by hand, which reads CANDIDATE', async () => {
    // recordKnowledge writes no status: the moves said "changed meanwhile", again and again.
    const recorded = await server.gql<{ recordKnowledge: { id: string; status: string } }, object>(
      `mutation { recordKnowledge(input: { kind: LESSON, content: "Always cite sources." }) {
        id status } }`,
    );
    expect(recorded.errors).toBeUndefined();
    const { id, status } = recorded.data!.recordKnowledge;
    expect(status).toBe('CANDIDATE');
    const retired = await server.gql<{ retireLesson: { status: string } }, object>(
      `mutation ($id: ID!) { retireLesson(id: $id, reason: "we link sources now") { status } }`,
      { id },
    );
    expect(retired.errors).toBeUndefined();
    expect(retired.data?.retireLesson.status).toBe('RETIRED');
    expect((await read(id)).transitions.map((t) => [t.from, t.to])).toEqual([
      ['CANDIDATE', 'RETIRED'],
    ]);
  });

  it('count nothing for a lesson of another tenant', async () => {
    const other = await startTestServer();
    try {
      const id = await constructLesson(other, 'Foreign rule.', {
        capability: null,
        family: 'ship-parcels',
      });
      const counts = await server.graph.read((tx) => efficacyCounts(tx, server.tenantId, [id]));
      expect(counts.get(id)).toMatchObject({ applied: 0, notApplied: 0 });
      const res = await server.gql(`query ($id: ID!) { knowledge(id: $id) { id } }`, { id });
      expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    } finally {
      await other.stop();
    }
  });
});
