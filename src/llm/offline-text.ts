import { skillInPrompt, type SkillStep } from '../domain/skill.js';
import { EARLIER_STEPS, MEMORY_GIVEN, PLAN_REJECTED } from './prompt-markers.js';

/**
 * Plain-text reading for the offline model: words, sentences, a plan drawn from a task's own
 * text, knowledge items from a result. Everything here is pure and deterministic.
 */

/** Words as the offline model counts tokens: runs of letters, digits and underscores. */
export function countWords(text: string): number {
  return text.match(/[\p{L}\p{N}_]+/gu)?.length ?? 0;
}

/** Labels a prompt may put before a line ("Task: ..."); dropped when reading the line. */
const LABEL =
  /^\s*(?:task|title|description|details|goal|objective|request|step|instructions)\s*:\s*/gim;

/** Sentences and lines of `text`, trimmed, without labels or list bullets. */
export function sentences(text: string): string[] {
  return text
    .replace(LABEL, '')
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.replace(/^\s*(?:[-*•]|\d+[.)])\s+/, '').trim())
    .filter((s) => countWords(s) > 0);
}

/** The first `n` words of `text`, without trailing punctuation, first letter upper-case. */
export function headline(text: string, n = 10): string {
  const words = text.trim().split(/\s+/).slice(0, n).join(' ');
  const clean = words.replace(/[\s.,;:!?]+$/, '');
  return clean.charAt(0).toUpperCase() + clean.slice(1);
}

/** A step's title: a "Step:" or "Title:" line, else the first sentence (12 words at most). */
export function stepTitle(text: string): string {
  const labelled = /^\s*(?:step|title)\s*:\s*(.+)$/im.exec(text)?.[1];
  return headline(labelled ?? sentences(text)[0] ?? 'step', 12);
}

const QUESTION = [/\?/, /\bask(?:s|ing)?\b/i, /\bquestions?\b/i, /\bcheck(?:s|ing)?\b/i];

/**
 * What of an operator's prompt a step asks for, from its `Step:` line: its own text (for the
 * outside tools it names), or with its inputs (its questions: a report that says "check" makes
 * the step after it ask too); never the lessons before it or the memory after it.
 */
export function stepText(input: string, o: { inputs: boolean }): string {
  const from = /^\s*step\s*:/im.exec(input)?.index ?? 0;
  const to = input.indexOf(`\n${o.inputs ? MEMORY_GIVEN : EARLIER_STEPS}`, from);
  return input.slice(from, to < 0 ? undefined : to);
}

/** Whether a step calls for a question to another agent: "?", "ask", "question", "check". */
export function mentionsQuestion(text: string): boolean {
  return QUESTION.some((word) => word.test(text));
}

/** The sentence that best states the question: one with "?", else "ask", "question", "check". */
export function questionIn(sentences: string[]): string | undefined {
  for (const word of QUESTION) {
    const hit = sentences.find((s) => word.test(s));
    if (hit) return hit;
  }
  return undefined;
}

export type Capability = 'research' | 'writing' | 'analysis' | 'coding' | 'general';

const CAPABILITY_WORDS: Array<[Exclude<Capability, 'general'>, RegExp]> = [
  [
    'research',
    /\b(?:research\w*|find|search\w*|look up|investigat\w*|gather\w*|collect\w*|explor\w*|discover\w*|sources?)\b/gi,
  ],
  [
    'writing',
    /\b(?:write|writ\w+|draft\w*|summari[sz]\w*|report\w*|document\w*|compose\w*|edit\w*|outline\w*|explain\w*|email)\b/gi,
  ],
  [
    'analysis',
    /\b(?:analy[sz]\w*|compar\w*|evaluat\w*|assess\w*|measur\w*|calculat\w*|estimat\w*|review\w*|examin\w*|metrics?|trends?)\b/gi,
  ],
  [
    'coding',
    /\b(?:code|coding|implement\w*|program\w*|script\w*|debug\w*|refactor\w*|functions?|bugs?|deploy\w*|compil\w*|typescript|python|sql)\b/gi,
  ],
];

/** The capability whose keyword comes first in `text` (the leading verb decides), else general. */
export function guessCapability(text: string): Capability {
  let best: { capability: Capability; at: number } = { capability: 'general', at: Infinity };
  for (const [capability, words] of CAPABILITY_WORDS) {
    words.lastIndex = 0;
    const at = words.exec(text)?.index;
    if (at !== undefined && at < best.at) best = { capability, at };
  }
  return best.capability;
}

export type StepDraft = {
  key: string;
  title: string;
  instructions: string;
  /** Guessed from the text; a skill's step keeps its own. */
  capability: Capability | (string & {});
  /** Indexes of earlier steps: each step follows the one before it. */
  dependsOn: number[];
  output: string;
  /** Plans split from text never carry conditions; a skill's steps keep theirs. */
  condition: string | null;
};

/**
 * 2 to 4 steps drawn from a task's text: split on sentences and "then"; when that gives one
 * piece, on "and"; a single piece gets a second step that summarises it; past four, the rest
 * joins the fourth. A "Description:" line, when present, is the text that is split; a rejected
 * plan's reason after it is planned as a sentence of its own, without the line's framing.
 */
export function planSteps(task: string): StepDraft[] {
  // A skill offered in the prompt (issue 12) is followed as it is.
  const skill = skillInPrompt(task);
  if (skill) return skillSteps(skill);
  const description = (/^\s*description\s*:\s*([\s\S]+)$/im.exec(task)?.[1] ?? task).replaceAll(
    PLAN_REJECTED,
    '',
  );
  const split = (s: string, on: RegExp) =>
    s
      .split(on)
      .map(tidy)
      .filter((p) => countWords(p) > 0);
  let pieces = sentences(description).flatMap((s) =>
    split(s, /;|,\s*and\s+|\b(?:and then|then|after that|afterwards|finally)\b/i),
  );
  if (pieces.length < 2) pieces = pieces.flatMap((p) => split(p, /,?\s+and\s+/i));
  pieces = pieces.filter(
    (p, i) => pieces.findIndex((q) => q.toLowerCase() === p.toLowerCase()) === i,
  );
  if (pieces.length === 0) pieces = ['Work on the task'];
  if (pieces.length === 1) pieces.push(`Summarise the outcome of: ${headline(pieces[0]!)}`);
  if (pieces.length > 4) pieces = [...pieces.slice(0, 3), pieces.slice(3).join('; ')];
  return pieces.map((piece, i) => {
    const title = headline(piece);
    return {
      key: `step-${i + 1}`,
      title,
      instructions: `${piece.charAt(0).toUpperCase()}${piece.slice(1)}${/[.!?]$/.test(piece) ? '' : '.'}`,
      capability: guessCapability(piece),
      dependsOn: i === 0 ? [] : [i - 1],
      output: `A short note on: ${title}`,
      condition: null,
    };
  });
}

/** A skill's steps as drafts: its keys, capabilities, order and conditions. */
function skillSteps(steps: SkillStep[]): StepDraft[] {
  const keys = steps.map((s) => s.key);
  return steps.map((s) => {
    const [instructions, output] = s.instructions.split(/\n\s*Expected output:\s*/i);
    return {
      key: s.key,
      title: s.title,
      instructions: instructions!.trim() || s.title,
      capability: s.capability ?? guessCapability(s.instructions),
      dependsOn: s.dependsOn.map((d) => keys.indexOf(d)).filter((i) => i >= 0),
      output: output?.trim() || `A short note on: ${s.title}`,
      condition: s.condition,
    };
  });
}

/** Trims a piece and the joining words or punctuation left at its ends. */
function tidy(piece: string): string {
  return piece
    .trim()
    .replace(/^(?:[,;:]\s*|and\s+|then\s+)+/i, '')
    .replace(/[\s,;:]+$/, '')
    .trim();
}

export type KnowledgeDraft = {
  content: string;
  kind: 'FACT' | 'LESSON';
  confidence: number;
  entities: Array<{ title: string; kind: string }>;
};

/** One fact or lesson per sentence (up to three); advice words make a lesson. */
export function knowledgeItems(text: string): KnowledgeDraft[] {
  return sentences(text)
    .slice(0, 3)
    .map((content) => ({
      content,
      kind: /\b(?:should|must|avoid|lesson|learned|learnt|next time|better to|always|never|prefer)\b/i.test(
        content,
      )
        ? 'LESSON'
        : 'FACT',
      confidence: 0.6,
      entities: [...new Set(content.match(/(?<=\S\s+)\p{Lu}[\p{L}\p{N}-]+/gu) ?? [])]
        .slice(0, 3)
        .map((title) => ({ title, kind: 'concept' })),
    }));
}
