/*
 * The offline model's side of lessons (issue 12), deterministic:
 * - reflection: a prompt that starts with "Reflect:" gets the feedback turned into one
 *   imperative rule ("The answer must give weights in kg" -> "Give weights in kg.", read as
 *   offline-rules.ts reads it for agent versions too);
 * - execution: a prompt's "Rules to follow:" list is echoed as "Rules followed: ..." in the
 *   report, as a model that follows the instructions in its prompt would.
 */

import { FOLLOWED } from '../evolution/lessons/reflect.js';
import { NEAR_COPY, ruleSimilarity, ruleTokens } from '../evolution/lessons/text.js';
import { imperative } from './offline-rules.js';
import { sentences } from './offline-text.js';

/** A reflection prompt of src/evolution/lessons/reflect.ts. */
export function isLessonReflection(input: string): boolean {
  return /^\s*Reflect:/.test(input);
}

/**
 * The imperative rule the offline model draws from a reflection prompt (null without feedback),
 * and the numbers of the followed lessons it replaces: those about the same thing (sameSubject)
 * that say something else ("kg" against "lb"), near-copies excepted.
 */
export function offlineRule(input: string): {
  rule: string | null;
  rationale: string;
  replaces: number[];
} {
  const feedback = section(input, 'Feedback');
  for (const line of feedback) {
    for (const sentence of sentences(line)) {
      const rule = imperative(sentence);
      if (rule) {
        const replaces = followedIn(input)
          .filter(
            (l) => sameSubject(rule, l.content) && ruleSimilarity(rule, l.content) < NEAR_COPY,
          )
          .map((l) => l.n);
        return { rule, rationale: `Drawn from the feedback "${sentence.trim()}".`, replaces };
      }
    }
  }
  return { rule: null, rationale: 'No feedback says what to do differently.', replaces: [] };
}

/** The numbered lessons under the reflection prompt's FOLLOWED heading. */
function followedIn(input: string): { n: number; content: string }[] {
  return section(input, FOLLOWED.replace(/:$/, '')).flatMap((line) => {
    const m = /^(\d+)\.\s+(.+)$/.exec(line);
    return m ? [{ n: Number(m[1]), content: m[2]! }] : [];
  });
}

/** Verbs that start rules: two rules sharing only these are about different things. */
const RULE_VERBS = new Set(
  'always never not do don avoid use give include state list add check cite write keep put name mention convert'.split(
    ' ',
  ),
);

/**
 * The new rule is about the same thing as an old one: it names at least half of the old rule's
 * content words (not its verbs). "State every parcel weight in lb" covers "Give weights in kg"
 * (weight of weight, kg), not "Insure parcels over 100 EUR" (parcel of five words).
 */
function sameSubject(rule: string, old: string): boolean {
  const words = ruleTokens(rule);
  const content = [...ruleTokens(old)].filter((w) => !RULE_VERBS.has(w));
  const shared = content.filter((w) => words.has(w)).length;
  return shared > 0 && shared * 2 >= content.length;
}

/** The lines of a "Name:" section, up to the next blank line or heading, without bullets. */
export function section(input: string, name: string): string[] {
  const lines = input.split('\n');
  const start = lines.findIndex((l) => l.trim().toLowerCase() === `${name.toLowerCase()}:`);
  if (start < 0) return [];
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.trim() || /^[A-Z][\w ]*:\s*$/.test(line.trim())) break;
    out.push(line.replace(/^\s*[-*•]\s*/, '').trim());
  }
  return out;
}

/** The rules an execution prompt carries, one per line after "Rules to follow:". */
export function rulesIn(input: string): string[] {
  return section(input, 'Rules to follow');
}

/** The report's line that says which rules were followed; '' when the prompt had none. */
export function rulesFollowedLine(input: string): string {
  const rules = rulesIn(input);
  return rules.length ? `Rules followed: ${rules.join(' ')}` : '';
}
