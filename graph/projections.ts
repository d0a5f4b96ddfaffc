/**
 * Cypher projections of exactly what the mappers read (mappers.ts), for the hot reads: the
 * named properties only, with no engine internals, and times as text. The driver turns every
 * DateTime it receives into an object through 64-bit integer arithmetic; on a nested list that
 * was about a sixth of the API's CPU (issue 15), for values the mappers then turn into text
 * anyway. A projection is shaped like a node ({elementId, properties}), so the mappers and
 * mapOrSkip take it unchanged. test/projections.int.test.ts checks that each mapper reads the
 * same object from a projection as from the node.
 */
const FIELDS = {
  Agent: {
    plain: [
      'id',
      'tenantId',
      'name',
      'description',
      'role',
      'status',
      'active',
      'model',
      'systemPrompt',
      'version',
      'temperature',
      'tools',
      'lessonBudget',
      'reviewPlans',
      // An outside A2A agent's (issue 16).
      'remoteUrl',
      'remoteHeadersJson',
      'remoteHeadersSealed',
    ],
    times: ['createdAt', 'updatedAt'],
  },
  Task: {
    plain: [
      'id',
      'tenantId',
      'title',
      'description',
      'priority',
      'status',
      'result',
      'error',
      'waitingReason',
      'attempts',
      'maxAttempts',
      'key',
      'condition',
      'requiresApproval',
      'failurePolicy',
      'orchestrated',
      'needsPlan',
      'expectedOutput',
      'decision',
      'planApproval',
      'planFeedback',
      'decidedBy',
      'decisionComment',
      'family',
      'createdBy',
      'version',
    ],
    times: ['createdAt', 'updatedAt'],
  },
} as const;

export type ProjectedLabel = keyof typeof FIELDS;

/**
 * `v` (a node variable of `label`) as the mapper of its label reads it; with `only`, just those
 * properties and the id and tenant (for an answer that selects no more: toTaskFields).
 */
export function projected(
  label: ProjectedLabel,
  v: string,
  only: readonly string[] | null = null,
): string {
  const { plain, times } = FIELDS[label];
  const wanted = (p: string) => only === null || p === 'id' || p === 'tenantId' || only.includes(p);
  const properties = [
    ...plain.filter(wanted).map((p) => `.${p}`),
    ...times.filter(wanted).map((t) => `${t}: toString(${v}.${t})`),
  ].join(', ');
  return `{elementId: elementId(${v}), properties: ${v} {${properties}}}`;
}

/** Whether a label has a projection (lists of other labels return whole nodes). */
export function isProjected(label: string): label is ProjectedLabel {
  return Object.hasOwn(FIELDS, label);
}
