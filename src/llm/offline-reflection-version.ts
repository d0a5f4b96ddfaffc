/*
 * The offline model's answer to proposeAgentVersion's reflection (issue 12), deterministic: it
 * keeps the current instructions and appends the imperative rules it finds in the low-scoring
 * runs' evaluations (a person's comment "Always state the unit.", a judge's reason "Cite the
 * source."), each once. The prompt is src/evolution/versions/propose.ts's; its first line is
 * `Propose:`.
 */

/** The marker line that starts proposeAgentVersion's prompt. */
export const PROPOSE_MARKER = 'Propose:';

export function isVersionProposal(input: string): boolean {
  return input.trimStart().startsWith(PROPOSE_MARKER);
}

/** Words an imperative rule starts with (lower case). */
const IMPERATIVE = new Set(
  (
    "always never do dont don't avoid use include state cite check give keep make add prefer " +
    'mention ensure write answer report list name show quote verify explain start end put ' +
    'return respond follow provide remove skip stop never double-check confirm convert round ' +
    'express spell sort order summarise summarize'
  ).split(/\s+/),
);

/** Sentences of `text` that read as imperative rules. */
export function imperativeRules(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim().replace(/^[-*•]\s*/, ''))
    .filter((s) => {
      const first =
        s
          .split(/\s+/)[0]
          ?.toLowerCase()
          .replace(/[^a-z'-]/g, '') ?? '';
      return s.length >= 8 && s.length <= 300 && IMPERATIVE.has(first);
    })
    .map((s) => (/[.!?]$/.test(s) ? s : `${s}.`));
}

/** The current instructions, between the prompt's `<<<` and `>>>` lines. */
function currentInstructions(input: string): string {
  const m = /^Current instructions:\n<<<\n([\s\S]*?)\n?>>>/m.exec(input);
  return (m?.[1] ?? '').trim();
}

/** The evaluations' text: every `comment:` and `reason:` line of the prompt. */
function evaluationText(input: string): string[] {
  return input
    .split('\n')
    .map((l) => /^\s*-?\s*(?:comment|reason):\s*(.+)$/i.exec(l)?.[1]?.trim())
    .filter((s): s is string => !!s);
}

export function proposeVersion(input: string): { instructions: string; rationale: string } {
  const current = currentInstructions(input);
  const seen = new Set(imperativeRules(current).map((r) => r.toLowerCase()));
  const added: string[] = [];
  for (const text of evaluationText(input)) {
    for (const rule of imperativeRules(text)) {
      const key = rule.toLowerCase();
      if (seen.has(key) || current.toLowerCase().includes(key.replace(/\.$/, ''))) continue;
      seen.add(key);
      added.push(rule);
    }
  }
  const instructions = [current, ...added.map((r) => `- ${r}`)].filter(Boolean).join('\n');
  const rationale =
    added.length > 0
      ? `Offline reflection: added ${added.length} rule(s) that the low-scoring runs' evaluations ask for: ${added.join(' ')}`
      : 'Offline reflection: the evaluations name no imperative rule; the instructions are kept as they are.';
  // Empty when there were none and nothing is added: no change, which proposeAgentVersion refuses.
  return { instructions, rationale };
}
