import { subjectStatus } from '../../graph/evaluation-signals.repository.js';
import { EvaluationSource, type Evaluation } from '../domain/evaluation.js';
import { BadInputError, NotFoundError } from '../domain/errors.js';
import { numberInRange, optionalText } from '../domain/validate.js';
import { evaluationId, recordEvaluation } from '../evolution/evaluate/record.js';
import type { UnitOfWork } from './unit-of-work.js';

/** Longest comment a person may leave with a rating. */
export const COMMENT_MAX = 2_000;

/** Statuses a subject can be rated in: a finished task, an ended run. */
const RATABLE: Record<'Task' | 'Run', readonly string[]> = {
  Task: ['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED'],
  Run: ['SUCCEEDED', 'FAILED', 'CANCELLED', 'ABORTED', 'ABANDONED'],
};

/** People's ratings (issue 12): one PERSON evaluation per subject and person, outranking the judge. */
export class EvaluationService {
  constructor(private readonly uow: UnitOfWork) {}

  /**
   * Rates a finished task or an ended run of the tenant for `person`; rating again replaces
   * the person's earlier rating.
   * @throws BAD_USER_INPUT for a score outside 0..1, a comment too long or an unfinished subject;
   *   NOT_FOUND for an id the tenant does not have.
   */
  rate(
    tenantId: string,
    person: string,
    label: 'Task' | 'Run',
    id: string,
    score: number,
    comment?: string | null,
  ): Promise<Evaluation> {
    numberInRange('score', score, 0, 1);
    const text = optionalText('comment', comment, COMMENT_MAX) ?? null;
    return this.uow.run(async (tx, emit) => {
      const subject = await subjectStatus(tx, tenantId, label, id);
      if (!subject) throw new NotFoundError(label, id);
      if (!RATABLE[label].includes(subject.status)) {
        const ok = RATABLE[label];
        const list = `${ok.slice(0, -1).join(', ')} or ${ok.at(-1)}`;
        // An interrupted or released run has ended too, but with no outcome to rate.
        const when = label === 'Task' ? 'has finished' : `has ended with an outcome (${list})`;
        throw new BadInputError(
          `A ${label.toLowerCase()} can be rated once it ${when}, but this one is ${subject.status}`,
          { status: subject.status },
        );
      }
      const written = await recordEvaluation(tx, emit, {
        id: evaluationId(id, EvaluationSource.PERSON, person),
        tenantId,
        subjectLabel: label,
        subjectId: id,
        source: EvaluationSource.PERSON,
        score,
        rubric: `rated by ${person}`,
        reasons: text ? [text.slice(0, 300)] : [],
        comment: text,
        by: person,
        offline: false,
      });
      return written!;
    });
  }
}
