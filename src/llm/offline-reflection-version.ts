/*
 * The offline model's answer to proposeAgentVersion's reflection (issue 12), deterministic: it
 * keeps the current instructions and appends the rules it reads in the low-scoring runs'
 * evaluations (a person's comment "Always state the unit.", a judge's reason "The answer must
 * cite the source."), each once, as a lesson's reflection reads them (offline-rules.ts). The
 * prompt is src/evolution/versions/propose.ts's; its first line is `Propose:`.
 */

import { imperativeRules } from './offline-rules.js';

/** The marker line that starts proposeAgentVersion's prompt. */
export const PROPOSE_MARKER = 'Propose:';

export function isVersionProposal(input: string): boolean {
  return input.trimStart().startsWith(PROPOSE_MARKER);
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
