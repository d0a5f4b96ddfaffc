import type { Tx } from '../../graph/cypher.js';
import {
  effectiveBySubjectIds,
  evaluationsBySubjectIds,
} from '../../graph/evaluation.repository.js';
import type { Evaluation } from '../domain/evaluation.js';
import { groupedBy } from './loaders.js';

type Read = <T>(work: (tx: Tx) => Promise<T>) => Promise<T>;

/** Run.evaluations / Task.evaluations and the effective one of each, one round trip per level. */
export function createEvaluationLoaders(read: Read, tenantId: string) {
  const all = (label: Evaluation['subjectLabel']) =>
    groupedBy(
      (ids) => read((tx) => evaluationsBySubjectIds(tx, tenantId, label, ids)),
      (e) => e.subjectId,
    );
  const effective = (label: Evaluation['subjectLabel']) =>
    groupedBy(
      (ids) => read((tx) => effectiveBySubjectIds(tx, tenantId, label, ids)),
      (e) => e.subjectId,
    );
  return {
    ofRuns: all('Run'),
    ofTasks: all('Task'),
    effectiveOfRuns: effective('Run'),
    effectiveOfTasks: effective('Task'),
  };
}
