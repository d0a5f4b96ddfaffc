/*
 * How the offline model reads a rule out of what an evaluator wrote, one function for both of its
 * learning chains: a lesson's reflection (offline-lessons.ts) and an agent version's proposal
 * (offline-reflection-version.ts). "The answer must give weights in kg" is the same rule to both.
 */

import { sentences } from './offline-text.js';

/** Words an imperative rule starts with (lower case). */
const IMPERATIVE = new Set(
  (
    "always never do dont don't avoid use include state cite check give keep make add prefer " +
    'mention ensure write answer report list name show quote verify explain start end put ' +
    'return respond follow provide remove skip stop double-check confirm convert round ' +
    'express spell sort order summarise summarize'
  ).split(/\s+/),
);

const SUBJECT = '(?:the\\s+)?(?:answer|result|report|output|response|reply|step|agent|it|you|they)';
const MODAL = '(must|should|needs?\\s+to|has\\s+to|have\\s+to|ought\\s+to)';

/**
 * A feedback sentence as an imperative rule: "The answer must give X" -> "Give X.", "... must
 * not / should never X" -> "Never X.", "X is missing" -> "Always include X.", an imperative as
 * it is. Null when the sentence asks for nothing, or is too short (under 7 characters without
 * its end mark) or too long (over 300) to be one rule.
 */
export function imperative(sentence: string): string | null {
  const s = sentence.trim().replace(/[.!?]+$/, '');
  if (s.length < 7 || s.length > 300) return null;
  const modal = new RegExp(`^${SUBJECT}\\s+${MODAL}\\s+(not\\s+|never\\s+)?(.+)$`, 'i').exec(s);
  if (modal) return modal[2] ? `Never ${modal[3]}.` : `${cap(modal[3]!)}.`;
  const never = new RegExp(`^${SUBJECT}\\s+(?:must|should)\\s*n[o']t\\s+(.+)$`, 'i').exec(s);
  if (never) return `Never ${never[1]}.`;
  const missing = /^(.+?)\s+(?:is|are|was|were)\s+missing$/i.exec(s);
  if (missing) return `Always include ${missing[1]!.replace(/^the\s+/i, '')}.`;
  const first = s
    .split(/\s+/)[0]!
    .toLowerCase()
    .replace(/[^a-z'-]/g, '');
  return IMPERATIVE.has(first) ? `${cap(s)}.` : null;
}

/** The rules that the sentences of `text` ask for, in order. */
export function imperativeRules(text: string): string[] {
  return sentences(text).flatMap((s) => imperative(s) ?? []);
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
