/**
 * Skills (issue 12): a multi-step plan of a task family that worked, kept as an AWM-style
 * workflow (the steps, their capabilities, order and conditions) and offered to the Chief of
 * Staff when it plans that family again. Pure: the shape, the prompt block and its reading.
 */

/** One step of a skill, as a plan's step: dependencies are keys of earlier steps. */
export interface SkillStep {
  key: string;
  title: string;
  capability: string | null;
  instructions: string;
  dependsOn: string[];
  condition: string | null;
}

export type SkillStatus = 'CANDIDATE' | 'ACTIVE' | 'RETIRED';

/** A `(:Knowledge {kind: 'SKILL'})` as the platform reads it. */
export interface Skill {
  id: string;
  tenantId: string;
  family: string;
  status: SkillStatus;
  /** Successful plans of this shape it was drawn from. */
  strength: number;
  steps: SkillStep[];
  content: string;
  createdAt: string;
  updatedAt: string;
}

/** The steps in dependency order (a step after those it depends on), ties by key. */
export function orderSteps(steps: readonly SkillStep[]): SkillStep[] {
  const left = [...steps].sort((a, b) => a.key.localeCompare(b.key));
  const done = new Set<string>();
  const ordered: SkillStep[] = [];
  while (left.length > 0) {
    const i = left.findIndex((s) => s.dependsOn.every((d) => done.has(d)));
    // A cycle cannot come from a validated plan; keep the rest as it is rather than loop.
    const [next] = left.splice(i < 0 ? 0 : i, 1);
    done.add(next!.key);
    ordered.push(next!);
  }
  return ordered;
}

/**
 * What makes two plans "the same workflow": per step in order, its capability, the positions
 * of its dependencies and whether it has a condition. Titles and wording may differ.
 */
export function skillShape(steps: readonly SkillStep[]): string {
  const ordered = orderSteps(steps);
  const at = new Map(ordered.map((s, i) => [s.key, i]));
  return JSON.stringify(
    ordered.map((s) => [
      s.capability ?? '',
      s.dependsOn.map((d) => at.get(d) ?? -1).sort((a, b) => a - b),
      s.condition ? 1 : 0,
    ]),
  );
}

/** A skill's one-line description (its Knowledge.content). */
export function skillSummary(family: string, steps: readonly SkillStep[]): string {
  const list = orderSteps(steps)
    .map((s, i) => `${i + 1}. ${s.title} [${s.capability ?? 'any'}]`)
    .join('; ');
  return `Workflow for "${family}" tasks: ${list}`;
}

/** The line that carries a skill in a planning prompt; the offline planner reads it back. */
export const SKILL_LINE = 'Skill:';

/**
 * A planning prompt's skill section: a short lead for a real model, then the workflow as one
 * JSON line after "Skill:", steps in order.
 */
export function skillBlock(skill: Pick<Skill, 'family' | 'steps' | 'strength'>): string {
  const steps = orderSteps(skill.steps).map((s) => ({
    key: s.key,
    title: s.title,
    capability: s.capability,
    instructions: s.instructions,
    dependsOn: s.dependsOn,
    condition: s.condition,
  }));
  return (
    `A workflow that worked for "${skill.family}" tasks (${skill.strength} successful plan(s)); ` +
    'follow it unless this task needs otherwise:\n' +
    `${SKILL_LINE} ${JSON.stringify({ family: skill.family, steps })}\n\n`
  );
}

/**
 * The skill's steps offered in a planning prompt, or null: the "Skill:" line before the
 * task's own text (a "Description:" line), so a task cannot smuggle one in.
 */
export function skillInPrompt(prompt: string): SkillStep[] | null {
  const cut = prompt.search(/^\s*description\s*:/im);
  const head = cut < 0 ? prompt : prompt.slice(0, cut);
  const line = /^Skill:\s*(\{.*\})\s*$/m.exec(head)?.[1];
  if (!line) return null;
  try {
    const parsed = JSON.parse(line) as { steps?: unknown };
    if (!Array.isArray(parsed.steps) || parsed.steps.length === 0) return null;
    const steps = parsed.steps.map((s: Record<string, unknown>) => ({
      key: String(s.key),
      title: String(s.title),
      capability: typeof s.capability === 'string' ? s.capability : null,
      instructions: String(s.instructions ?? s.title),
      dependsOn: Array.isArray(s.dependsOn) ? s.dependsOn.map(String) : [],
      condition: typeof s.condition === 'string' && s.condition.trim() ? s.condition : null,
    }));
    return orderSteps(steps);
  } catch {
    return null; // not ours, or cut: plan from the task's text
  }
}
