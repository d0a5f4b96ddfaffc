/**
 * The offline model in collective decisions (issue 12), deterministic like the rest of it.
 *
 * - Voice: an execution report says whose it is and which of the agent's own instructions it
 *   followed, read from the system prompt (src/agents/prompts.ts: "You are NAME, ..." then the
 *   agent's instructions). So two voters with the same instructions give the same answer except
 *   for their name, which the majority count ignores (evolution/consensus/majority.ts), and
 *   voters told to work differently give different answers, as real models would.
 * - Judge: of several answers to one step, the best is the one whose distinctive lines (lines
 *   not shared by every answer: a shared line cannot tell them apart; quoted tool results left
 *   out) hold the most of the step's key terms; a tie goes to the first. It reads the prompt of consensus/judge.ts.
 */
import type { BaseMessage } from '@langchain/core/messages';

/** The lines an offline execution report ends with: who answered, following what. */
export function voiceLines(messages: BaseMessage[]): string[] {
  const system = messages.find((m) => m.type === 'system')?.text ?? '';
  const [first = '', ...rest] = system.split('\n');
  const name = /^You are (.+?), an? (?:Master Operator|Chief of Staff)\b/.exec(first)?.[1];
  const own = rest.map((l) => l.trim()).find((l) => l && !/\[\[purpose:[a-z]+\]\]/.test(l));
  return [
    ...(own ? [`Approach: ${own.length > 200 ? `${own.slice(0, 199)}…` : own}`] : []),
    ...(name ? [`Answered by ${name}.`] : []),
  ];
}

/** Whether an `evaluation` prompt is the consensus judge's. */
export const isConsensusJudging = (input: string) => /^\s*Consensus:/.test(input);

const STOP = new Set(
  (
    'the a an and or but of to in on at by for from with as is are was were be been it its this ' +
    'that these those into than then them they their there what which who whom how why when ' +
    'step title description priority answer answers low medium high urgent give find write make'
  ).split(' '),
);

const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/** The judge's pick: `choice` is 1-based, as the prompt numbers the answers. */
export function judgeConsensus(input: string): { choice: number; feedback: string } {
  const head = input.split(/^Answer \d+:\s*$/m)[0] ?? '';
  const answers = input.split(/^Answer \d+:\s*$/m).slice(1);
  const step = /^Title:\s*(.*)$/m.exec(head)?.[1] ?? '';
  const description = /^Description:\s*(.*)$/m.exec(head)?.[1] ?? '';
  const terms = [...new Set(words(`${step} ${description}`))].filter(
    (w) => w.length > 2 && !STOP.has(w),
  );
  if (answers.length === 0) return { choice: 1, feedback: 'No answers to judge (offline model).' };
  // An answer's own lines: quoted tool results are evidence the voters fetched, and a search
  // that ran a moment later (after another workflow committed) would tip the choice.
  const lines = answers.map((a) =>
    a
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && l !== 'Tool results:' && !/^- [a-z_]+: /.test(l)),
  );
  const shared = (l: string) => lines.every((ls) => ls.includes(l));
  const covered = lines.map((ls) => {
    const own = new Set(words(ls.filter((l) => !shared(l)).join(' ')));
    return terms.filter((t) => own.has(t));
  });
  let best = 0;
  covered.forEach((c, i) => {
    if (c.length > covered[best]!.length) best = i;
  });
  const hits = covered[best]!;
  const feedback =
    hits.length === 0
      ? `No answer adds any of the step's key terms beyond what all share; the first stands (offline judge).`
      : `Answer ${best + 1} covers ${hits.length} of the step's ${terms.length} key terms beyond what all answers share (${hits.join(', ')}); the others cover at most ${Math.max(0, ...covered.filter((_, i) => i !== best).map((c) => c.length))} (offline judge).`;
  return { choice: best + 1, feedback };
}
