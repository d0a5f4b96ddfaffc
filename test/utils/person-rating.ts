import { randomUUID } from 'node:crypto';
import type { Tx } from '../../graph/cypher.js';
import { writeEvaluation } from '../../graph/evaluation.repository.js';
import { EvaluationSource } from '../../src/domain/evaluation.js';

/** A person's rating of a task, which outranks every other evaluation of it. */
export function ratePerson(
  tx: Tx,
  tenantId: string,
  taskId: string,
  score: number,
  rubric = 'a test person',
) {
  return writeEvaluation(tx, {
    id: randomUUID(),
    tenantId,
    subjectLabel: 'Task',
    subjectId: taskId,
    source: EvaluationSource.PERSON,
    score,
    rubric,
    reasons: [],
    comment: null,
    by: 'a test person',
    offline: false,
  });
}
