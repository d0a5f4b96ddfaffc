/*
 * When two lessons say the same (issue 12): a new lesson that is a near-copy of one of its
 * scope strengthens that one instead of standing beside it.
 */

/** Words that do not change what a rule asks ("Always give X" = "Give X"); negations stay. */
const FILLER = new Set(
  (
    'a an the and or of to in on at by for with as is are be it its this that these those ' +
    'always please make sure ensure every each your you should must need needs will shall ' +
    'when whenever answer answers result results output report step'
  ).split(' '),
);

/** The words of a rule that carry its meaning: lower case, filler out, a plural's "s" off. */
export function ruleTokens(text: string): Set<string> {
  return new Set(
    text
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter((w) => w && !FILLER.has(w))
      .map((w) => (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w)),
  );
}

/** Jaccard similarity of two rules' tokens, 0..1 (1 for two empty rules). */
export function ruleSimilarity(a: string, b: string): number {
  const x = ruleTokens(a);
  const y = ruleTokens(b);
  if (x.size === 0 && y.size === 0) return 1;
  let shared = 0;
  for (const w of x) if (y.has(w)) shared++;
  return shared / (x.size + y.size - shared);
}

/** From this similarity on, a new lesson is a near-copy of an existing one. */
export const NEAR_COPY = 0.8;

/** The existing lesson the rule is a near-copy of (the most similar), or undefined. */
export function nearCopy<T extends { content: string }>(
  rule: string,
  lessons: readonly T[],
): T | undefined {
  let best: T | undefined;
  let bestScore = NEAR_COPY;
  for (const l of lessons) {
    const s = ruleSimilarity(rule, l.content);
    if (s >= bestScore) {
      best = l;
      bestScore = s;
    }
  }
  return best;
}

/** A rule's canonical text (its sorted tokens), for a stable id. */
export function canonicalRule(rule: string): string {
  return [...ruleTokens(rule)].sort().join(' ');
}

/** A rule as prompts show it: one line, trimmed, ending with a full stop, at most 300 chars. */
export function tidyRule(rule: string): string {
  const line = rule.replace(/\s+/g, ' ').trim().slice(0, 300);
  if (!line) return '';
  const capital = line[0]!.toUpperCase() + line.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
