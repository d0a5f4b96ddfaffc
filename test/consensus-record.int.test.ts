import { describe, expect, it } from 'vitest';
import { answerId } from '../graph/consensus.repository.js';
import { createOperators, createPlan, inTenant } from './utils/engine-steps.js';
import { seedConsensus } from './utils/memory-fixtures.js';

const RUNS = `query($id: ID!) { task(id: $id) { runs { id decision { votes reason
  chosen { id content agent { name } } answers { id content chosen agent { name } } } } } }`;

interface AnswerView {
  id: string;
  content: string;
  chosen?: boolean;
  agent: { name: string } | null;
}
interface RunsView {
  task: {
    runs: {
      id: string;
      decision: { votes: number; chosen: AnswerView | null; answers: AnswerView[] } | null;
    }[];
  };
}

describe('a consensus decision whose voter was deleted before the step ended', () => {
  // A voter is not the step's assignee, so deleteAgent lets it go while the vote runs; the
  // decision used to be written without its answer, and without a choice when it was chosen.
  it("keeps every answer and the choice; the deleted voter's answer has no agent", async () => {
    await inTenant(async (server) => {
      const agents = await createOperators(server, { Ada: ['survey'], Bea: ['survey'] });
      const ids = await createPlan(server, [{ key: 'step', title: 'Measure the bridge span' }]);
      const deleted = await server.gql(`mutation($id: ID!) { deleteAgent(id: $id) { id } }`, {
        id: agents.Bea,
      } as never);
      expect(deleted.errors).toBeUndefined();

      const seeded = await seedConsensus(
        server.graph,
        server.tenantId,
        'span',
        ids.step!,
        [agents.Ada!, agents.Bea!],
        1,
      );

      const res = await server.gql(RUNS, { id: ids.step } as never);
      expect(res.errors).toBeUndefined();
      const run = (res.data as RunsView).task.runs.find((r) => r.id === seeded.run)!;
      expect(run.decision).not.toBeNull();
      expect(run.decision!.answers).toEqual([
        { id: seeded.answers[0], content: 'span answer 1', chosen: false, agent: { name: 'Ada' } },
        { id: seeded.answers[1], content: 'span answer 2', chosen: true, agent: null },
      ]);
      expect(run.decision!.chosen).toEqual({
        id: answerId(seeded.run, agents.Bea!),
        content: 'span answer 2',
        agent: null,
      });
    });
  });
});
