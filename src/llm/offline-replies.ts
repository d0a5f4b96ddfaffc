import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import type { FillHints } from './offline-fill.js';
import {
  countWords,
  headline,
  knowledgeItems,
  planSteps,
  questionIn,
  sentences,
  stepTitle,
} from './offline-text.js';
import { extractMemory, judgeMemory } from './offline-memory.js';
import { isConsensusJudging, judgeConsensus, voiceLines } from './offline-consensus.js';
import { isLessonReflection, offlineRule, rulesFollowedLine } from './offline-lessons.js';
import { isRunJudging, judgeOffline } from './offline-judge.js';
import { isVersionProposal, proposeVersion } from './offline-reflection-version.js';
import type { Purpose } from './routing.js';
import { REPORT_MARK, REPORTS_HEADING } from '../agents/synthesize.js';

/**
 * What the offline model says for each purpose: the text reply (`fields.summary`) and the
 * hints that steer schema filling (tool arguments, structured output). `input` is the last
 * human message; `results` the tool messages after it.
 */
export function hintsFor(
  purpose: Purpose,
  input: string,
  messages: BaseMessage[],
  results: BaseMessage[],
): FillHints {
  const base = { sentences: sentences(input) };
  const title = stepTitle(input);
  switch (purpose) {
    case 'planning': {
      const steps = planSteps(input);
      const list = steps.map(
        (s, i) =>
          `${i + 1}. ${s.title} [${s.capability}]${i > 0 ? ` (after step ${i})` : ''}: ${s.instructions}`,
      );
      const summary = `Plan (offline model) in ${steps.length} steps:\n${list.join('\n')}`;
      const rationale =
        'Split from the task text by the offline model; each step follows the last.';
      return { ...base, records: steps, fields: { summary, feedback: rationale } };
    }
    case 'execution': {
      const asked = questionIn(base.sentences) ?? `What do you know about ${title}?`;
      // One line per result (a search answers a hit per line): the consensus judge leaves
      // quoted lines out, and a hit on a line of its own counted as the answer's own words.
      const quoted = results.map(
        (r) => `- ${toolName(r, messages)}: ${clip(r.text.replace(/\s*\n\s*/g, ' '), 300)}`,
      );
      const summary = [
        `Execution report (offline model) for "${title}".`,
        `Step: ${clip(base.sentences.join(' '), 300)}`,
        quoted.length > 0 ? `Tool results:\n${quoted.join('\n')}` : 'No tool results.',
        // The lessons its prompt gave as rules (issue 12), followed as a model would.
        ...[rulesFollowedLine(input)].filter(Boolean),
        // Who answered, following which instructions: consensus voters differ (issue 12).
        ...voiceLines(messages),
      ].join('\n');
      return { ...base, fields: { query: title, question: asked, summary } };
    }
    case 'evaluation': {
      if (isConsensusJudging(input)) {
        const { choice, feedback } = judgeConsensus(input);
        return { ...base, fields: { choice, feedback, summary: feedback } };
      }
      // The run judge (src/evolution/evaluate/judge.ts): key-term coverage (offline-judge.ts).
      if (isRunJudging(input)) {
        const judged = judgeOffline(input);
        return { ...base, fields: { ...judged, summary: judged.feedback } };
      }
      const feedback = `The offline model accepts the result for "${title}" without judging it.`;
      const summary = `Evaluation (offline model): PASS. ${feedback}`;
      return { ...base, fields: { success: true, score: 0.8, feedback, summary } };
    }
    case 'extraction': {
      const items = knowledgeItems(input);
      const summary = items.map((k) => `${k.kind}: ${k.content}`).join('\n');
      return { ...base, records: items, fields: { summary } };
    }
    case 'synthesis': {
      const reports = reportsIn(input);
      // A chat's running summary (src/agents/chat.ts) sends lines, not reports.
      if (!reports) {
        const firsts = input.split('\n').map((line) => sentences(line)[0]);
        const summary = `Summary (offline model): ${firsts.filter(Boolean).join(' ')}`;
        return { ...base, fields: { summary, title: headline(input) } };
      }
      const summary = [
        `Summary (offline model) of ${reports.length} report(s) for "${title}":`,
        ...reports.map((r) => `- ${r.step}: ${clip(r.content.replace(/\s*\n\s*/g, ' '), 400)}`),
      ].join('\n');
      return { ...base, fields: { summary, title: headline(input) } };
    }
    case 'memory': {
      // Memory ingestion's two calls: the contradiction judge, else extraction (offline-memory.ts).
      if (/^\s*Judge:/.test(input)) {
        const { contradicts, feedback } = judgeMemory(input);
        return { ...base, fields: { contradicts, feedback, summary: feedback } };
      }
      const { entities, facts } = extractMemory(input);
      const summary = `Memory extraction (offline model, heuristic): ${entities.length} entities, ${facts.length} facts.`;
      return { ...base, fields: { entities, facts, summary } };
    }
    case 'reflection': {
      if (isLessonReflection(input)) {
        const { rule, rationale, replaces } = offlineRule(input);
        return {
          ...base,
          fields: { rule, feedback: rationale, replaces, summary: rule ?? rationale },
        };
      }
      // proposeAgentVersion's reflection (src/evolution/versions/propose.ts).
      if (isVersionProposal(input)) {
        const { instructions, rationale } = proposeVersion(input);
        return { ...base, fields: { instructions, feedback: rationale, summary: rationale } };
      }
      // Learning's chains (issue 12) give their own hints (src/evolution); this is the default.
      const summary = `Reflection (offline model): ${clip(input.trim(), 300)}`;
      return { ...base, fields: { summary } };
    }
    case 'chat': {
      const earlier = messages.filter((m) => m.type !== 'system').length - 1;
      const words = messages.reduce((n, m) => n + countWords(m.text), 0);
      const summary =
        `You asked: "${clip(input.trim(), 300)}". This is the offline model (deterministic, ` +
        `no network); context: ${Math.max(0, earlier)} earlier message(s), ${words} words.`;
      return { ...base, fields: { summary } };
    }
  }
}

/** A tool result's tool: its name, else the name of the call it answers. */
function toolName(result: BaseMessage, messages: BaseMessage[]): string {
  if (result.name) return result.name;
  const id = (result as BaseMessage & { tool_call_id?: string }).tool_call_id;
  for (const m of messages) {
    const call = AIMessage.isInstance(m) ? m.tool_calls?.find((c) => c.id === id) : undefined;
    if (call) return call.name;
  }
  return 'tool';
}

const clip = (text: string, n: number) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

/** The reports a synthesis request carries (src/agents/synthesize.ts, `reportsSection`). */
function reportsIn(input: string): { step: string; content: string }[] | null {
  const at = input.indexOf(`\n${REPORTS_HEADING}`);
  if (at < 0) return null;
  return input
    .slice(at)
    .split(`\n${REPORT_MARK}`)
    .slice(1)
    .map((block) => {
      const [step = '', ...lines] = block.split('\n');
      return { step: step.trim(), content: lines.join('\n').trim() };
    });
}
