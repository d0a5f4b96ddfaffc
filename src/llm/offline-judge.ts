/**
 * The offline model as the run judge (issue 12): deterministic, no understanding. It reads the
 * judge's request (a JSON object after the `Judge this result` line) and scores the result by
 * how many key terms of the expected output and of the description it contains.
 */
import { verdictOf } from '../domain/evaluation.js';

/** The line the judge's request starts with (src/evolution/evaluate/judge.ts). */
export const JUDGE_REQUEST = 'Judge this result against what was expected.';

export interface OfflineJudgement {
  score: number;
  verdict: string;
  reasons: string[];
  feedback: string;
}

/** What the judge's request carries. */
interface JudgeRequest {
  task?: string | null;
  description?: string | null;
  expectedOutput?: string | null;
  result?: string | null;
}

/** Terms that say nothing about the content (kept short: words under 4 letters are ignored). */
const STOP = new Set(
  `about above after again also another because been before being between both could does doing
  down during each either every from further have having here into itself just like make more
  most much must only other over same should some such than that their them then there these
  they this those through under until very were what when where which while will with would
  your yours step steps task tasks result results output produce write short answer report`.split(
    /\s+/,
  ),
);

/** At most this many terms are checked. */
const MAX_TERMS = 30;

/** The distinct key terms of a text, in order of appearance. */
export function keyTerms(text: string | null | undefined): string[] {
  const words = (text ?? '').toLowerCase().match(/[\p{L}\p{N}]{4,}/gu) ?? [];
  return [...new Set(words.filter((w) => !STOP.has(w) && !/^\d+$/.test(w)))];
}

/** Whether the input is the judge's request. */
export function isRunJudging(input: string): boolean {
  return input.trimStart().startsWith(JUDGE_REQUEST);
}

/** The judgement: coverage of the expected output's (then the description's) key terms. */
export function judgeOffline(input: string): OfflineJudgement {
  let request: JudgeRequest = {};
  try {
    request = JSON.parse(input.slice(input.indexOf('{'))) as JudgeRequest;
  } catch {
    // A request that is not JSON has nothing to check against: judged as such below.
  }
  const expected = keyTerms(request.expectedOutput);
  const described = keyTerms(request.description).filter((t) => !expected.includes(t));
  const terms = [...expected, ...described].slice(0, MAX_TERMS);
  const found = new Set(keyTerms(request.result));
  if (terms.length === 0) {
    const feedback = 'No expected output or description to check the result against.';
    return { score: 0.7, verdict: verdictOf(0.7), reasons: [feedback], feedback };
  }
  const covered = terms.filter((t) => found.has(t));
  const missing = terms.filter((t) => !found.has(t));
  const score = Math.round((covered.length / terms.length) * 100) / 100;
  const from = expected.length > 0 ? 'the expected output and the description' : 'the description';
  const reasons = [`the result covers ${covered.length} of ${terms.length} key terms of ${from}`];
  if (missing.length > 0) reasons.push(`missing: ${missing.slice(0, 10).join(', ')}`);
  if (covered.length > 0) reasons.push(`found: ${covered.slice(0, 10).join(', ')}`);
  const feedback =
    missing.length === 0
      ? 'The result mentions everything that was expected.'
      : `Cover what is missing: ${missing.slice(0, 5).join(', ')}.`;
  return { score, verdict: verdictOf(score), reasons, feedback };
}
