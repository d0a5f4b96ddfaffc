import type { NodeLike } from './page.js';

/**
 * Cypher projections of exactly what the mappers read (mappers.ts), for the hot reads: the
 * named properties only, with no engine internals, and times as text. The driver turns every
 * DateTime it receives into an object through 64-bit integer arithmetic; on a nested list that
 * was about a sixth of the API's CPU (issue 15), for values the mappers then turn into text
 * anyway. A projection travels as a list, [elementId, ...values], not a map: the driver decodes
 * a map key by key through Object.defineProperty, and 50 agents with 10 tasks each took 3.3–5
 * ms of the API's CPU as {elementId, properties} maps against 1.5 ms as lists. `node` reads one
 * back in the shape of a node, so the mappers and mapOrSkip take it unchanged.
 * test/projections.int.test.ts checks that each mapper reads the same object from a projection
 * as from the node.
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
      'removedFromPlan',
      'planFeedback',
      'decidedBy',
      'decisionComment',
      'family',
      'createdBy',
      'version',
    ],
    times: ['createdAt', 'updatedAt', 'orchestratedAt'],
  },
} as const;

export type ProjectedLabel = keyof typeof FIELDS;

/** A projection of one label: its Cypher, and how to read what that Cypher returns. */
export interface Projection {
  /**
   * Node variable `v` as a Cypher list: its element id, then the properties' values. A
   * projection of a few properties carries the element id only when the id cannot name the
   * node (mapOrSkip's report): for a page of 50 agents with 10 tasks each, the element ids and
   * tenants were a third of the strings the driver decoded (issue 15).
   */
  of(v: string): string;
  /** A value `of` returned, as a node: {elementId, properties} (a missing property is null). */
  node(value: unknown): NodeLike & { elementId: string | null };
}

/** Projections made, by shape. Bounded: the shapes come from the queries' selections. */
const made = new Map<string, Projection>();
const MAX_SHAPES = 500;

/**
 * The projection of `label` as its mapper reads it; with `only`, of just those properties and
 * the id (for an answer that selects no more: toTaskFields). Made once per shape.
 */
export function projection(
  label: ProjectedLabel,
  only: readonly string[] | null = null,
): Projection {
  const key = `${label}:${only?.join(',') ?? '*'}`;
  let found = made.get(key);
  if (!found) {
    const { plain, times } = FIELDS[label];
    const wanted = (p: string) => only === null || p === 'id' || only.includes(p);
    const names = [...plain.filter(wanted), ...times.filter(wanted)];
    const timeNames = new Set<string>(times);
    const element = (v: string) =>
      only === null
        ? `elementId(${v})`
        : `CASE WHEN ${v}.id IS :: STRING NOT NULL THEN null ELSE elementId(${v}) END`;
    found = {
      of: (v) =>
        `[${element(v)}, ${names.map((p) => (timeNames.has(p) ? `toString(${v}.${p})` : `${v}.${p}`)).join(', ')}]`,
      node: (value) => {
        const values = value as unknown[];
        const properties: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) properties[names[i]!] = values[i + 1] ?? null;
        return { elementId: values[0] as string | null, properties };
      },
    };
    if (made.size >= MAX_SHAPES) made.clear();
    made.set(key, found);
  }
  return found;
}

/** Whether a label has a projection (lists of other labels return whole nodes). */
export function isProjected(label: string): label is ProjectedLabel {
  return Object.hasOwn(FIELDS, label);
}
