import { randomUUID } from 'node:crypto';
import { createLesson } from '../../graph/lesson.repository.js';
import { markApplied } from '../../graph/memory/applied.repository.js';
import { writeEvaluation } from '../../graph/evaluation.repository.js';
import { stableId } from '../../graph/agent-work.repository.js';
import { EvaluationSource } from '../../src/domain/evaluation.js';
import { DEFAULT_EVOLUTION, type EvolutionConfig } from '../../src/evolution/config.js';
import type { EvolutionContext } from '../../src/evolution/loop.js';
import { loadConfig } from '../../src/config/config.js';
import type { TestServer } from './server.js';

/** Constructed histories for the lesson suites (issue 12): runs, their outcomes, lessons. */

export interface ConstructedRun {
  /** The lessons whose prompt carried it (APPLIED_IN). */
  applied?: string[];
  pass: boolean;
  /** A person's comment on it (PERSON evaluation), e.g. feedback for reflection. */
  comment?: string | null;
  /** Its task's title (the family is given apart). */
  title?: string;
}

/**
 * Writes one ended run per item, in order (each started a second after the last, from `from`
 * seconds after now), of a task of `family` requiring `capability`, each with a PERSON
 * evaluation (0.9 for a pass, 0.1 otherwise) and its APPLIED_IN edges. Returns the run ids.
 */
export async function constructRuns(
  server: TestServer,
  family: string,
  capability: string | null,
  runs: ConstructedRun[],
  from = 0,
): Promise<string[]> {
  const tenantId = server.tenantId;
  const ids: string[] = [];
  for (const [i, run] of runs.entries()) {
    const taskId = randomUUID();
    const runId = randomUUID();
    ids.push(runId);
    await server.services.uow.write(async (tx) => {
      await tx.run({
        cypher: `
          CREATE (t:Task {id: $taskId, tenantId: $tenantId, title: $title, family: $family,
                          priority: 'MEDIUM', status: 'COMPLETED', attempts: 1, maxAttempts: 3,
                          orchestrated: true, version: 1, createdAt: datetime(), updatedAt: datetime()})
          CREATE (r:Run {id: $runId, tenantId: $tenantId, status: $status, attempt: 1,
                         startedAt: datetime() + duration({seconds: $at}),
                         endedAt: datetime() + duration({seconds: $at, milliseconds: 500}),
                         reflectionDueAt: datetime() + duration({seconds: $at, milliseconds: 500}),
                         createdAt: datetime(), updatedAt: datetime()})-[:OF]->(t)
          WITH t
          CALL (t) {
            MATCH (c:Capability {tenantId: $tenantId, name: $capability})
            CREATE (t)-[:REQUIRES]->(c)
          }`,
        params: {
          tenantId,
          taskId,
          runId,
          family,
          capability,
          title: run.title ?? `Constructed ${family} task ${i}`,
          status: run.pass ? 'SUCCEEDED' : 'FAILED',
          at: from + i,
        },
      });
      await writeEvaluation(tx, {
        id: stableId(runId, 'evaluation', 'PERSON', 'tester'),
        tenantId,
        subjectLabel: 'Run',
        subjectId: runId,
        source: EvaluationSource.PERSON,
        score: run.pass ? 0.9 : 0.1,
        rubric: 'a constructed outcome',
        reasons: [],
        comment: run.comment ?? null,
        by: 'tester',
        offline: false,
      });
      await markApplied(
        tx,
        tenantId,
        runId,
        (run.applied ?? []).map((id) => ({ label: 'Knowledge' as const, id })),
      );
    });
  }
  return ids;
}

/** A capability node of the tenant (constructed tasks REQUIRE it). */
export async function ensureCapability(server: TestServer, name: string): Promise<void> {
  await server.services.uow.write((tx) =>
    tx.run({
      cypher: `MERGE (c:Capability {tenantId: $tenantId, name: $name})
               ON CREATE SET c.id = randomUUID(), c.createdAt = datetime(), c.updatedAt = datetime()`,
      params: { tenantId: server.tenantId, name },
    }),
  );
}

/** A CANDIDATE lesson made an hour ago (before every constructed run). */
export async function constructLesson(
  server: TestServer,
  content: string,
  scope: { capability: string | null; family: string | null },
): Promise<string> {
  const id = randomUUID();
  await server.services.uow.write(async (tx) => {
    await createLesson(tx, { id, tenantId: server.tenantId, content, ...scope, runIds: [] });
    await tx.run({
      cypher: `MATCH (l:Knowledge {id: $id}) SET l.createdAt = datetime() - duration('PT1H')`,
      params: { id },
    });
  });
  return id;
}

/** The learning loop's context for the test tenant, on the offline model. */
export function evolutionContext(
  server: TestServer,
  lessons: Partial<EvolutionConfig['lessons']> = {},
): EvolutionContext {
  return {
    uow: server.services.uow,
    logger: server.logger,
    llm: loadConfig({}).llm,
    pubsub: server.pubsub,
    tenantIds: [server.tenantId],
    config: { ...DEFAULT_EVOLUTION, lessons: { ...DEFAULT_EVOLUTION.lessons, ...lessons } },
  };
}
