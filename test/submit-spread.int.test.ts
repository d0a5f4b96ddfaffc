import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statementName } from '../graph/statement-name.js';
import { startTestServer, type TestServer } from './utils/server.js';

/**
 * Issue 15: submitTask gave every task to the first Chief of Staff. It now picks the active one
 * with the fewest unfinished tasks, ties drawn at random, so work spreads both when tasks come
 * one by one (exactly, by count) and in a burst (where every submit sees the same counts).
 */
describe('submitTask spreads tasks over the Chiefs of Staff', () => {
  let server: TestServer;
  let chiefs: string[];

  const submit = async (title: string) => {
    const res = await server.gql<
      { submitTask: { assignee: { id: string }; assignment: { reason: string } } },
      never
    >(
      `mutation($title: String!) { submitTask(input: { title: $title }) {
         assignee { id } assignment { reason } } }`,
      { title } as never,
    );
    expect(res.errors).toBeUndefined();
    return res.data!.submitTask;
  };
  const counts = (submitted: { assignee: { id: string } }[]) =>
    chiefs.map((id) => submitted.filter((s) => s.assignee.id === id).length);

  beforeAll(async () => {
    server = await startTestServer();
    const made = await server.gql<{ createAgents: { id: string }[] }, never>(`mutation {
      createAgents(inputs: [{ name: "Chief A", role: CHIEF_OF_STAFF },
        { name: "Chief B", role: CHIEF_OF_STAFF }, { name: "Chief C", role: CHIEF_OF_STAFF }]) { id } }`);
    expect(made.errors).toBeUndefined();
    chiefs = made.data!.createAgents.map((a) => a.id);
  });
  afterAll(() => server.stop());

  it('one by one: to the least loaded each time, saying so', async () => {
    const submitted = [];
    for (let i = 0; i < 12; i++) submitted.push(await submit(`One by one ${i}`));
    expect(counts(submitted)).toEqual([4, 4, 4]);
    expect(submitted[0]!.assignment.reason).toMatch(/the least loaded, with 0 unfinished tasks/);
    expect(submitted[11]!.assignment.reason).toMatch(/with 3 unfinished tasks/);
  });

  it('hands the task to its Chief of Staff in one statement after creating it', async () => {
    const names: string[] = [];
    server.graph.onStatement = (q) => void names.push(statementName(q.cypher));
    try {
      await submit('Counted');
    } finally {
      server.graph.onStatement = undefined;
    }
    // Count the queued steps (TENANT_MAX_QUEUED_STEPS), choose the chief, create (no edges to
    // add, nothing to read again), hand over (assigned, orchestrated, to be planned: four
    // statements and a re-read before), publish; then the audit record and the answer's read
    // of the assignment, not counted.
    const submitting = names.filter((n) => !/^(audit|task-relations)\./.test(n));
    expect(submitting).toEqual([
      'backlog.repository.queuedSteps',
      'agent.repository.activeChiefOfStaff',
      'task.repository.createTasks',
      'workflow.repository.handToChief',
      'task-event.repository.taskEventBatch',
    ]);
  });

  it('in a burst: to every Chief of Staff', async () => {
    const submitted = await Promise.all(Array.from({ length: 30 }, (_, i) => submit(`Burst ${i}`)));
    for (const n of counts(submitted)) expect(n).toBeGreaterThan(0);
  });
});
