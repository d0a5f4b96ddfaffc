import type { CandidateAgent } from '../../graph/claim.repository.js';
import { AgentRole } from '../domain/agent.js';

/** Operators named per capability (the rest are counted), whom a step's DELEGATION goes to. */
export const NAMED = 3;
/** Capabilities listed, those with the most operators first; the rest are counted. */
const LISTED = 50;
/** Capabilities past those named on one line, before they are only counted. */
const NAMED_REST = 100;

/**
 * The Master Operators as a plan needs them: one line per capability (a step names one; the
 * engine picks the operator), with how many operators have it, how many steps they run now
 * and the least busy few by name. One line per operator grew the planning prompt with the
 * organisation: 1,000 operators were about 40 KB, some 10,000 tokens, on every planning call
 * and every repair of it (test/plan-team.test.ts).
 */
export function describeTeam(candidates: CandidateAgent[]): string {
  const operators = candidates.filter((c) => c.agent.role === AgentRole.MASTER_OPERATOR);
  const groups = new Map<string, CandidateAgent[]>();
  for (const o of operators) {
    const names = o.capabilities.length ? o.capabilities.map((c) => c.name) : [''];
    for (const name of names) {
      const group = groups.get(name);
      if (group) group.push(o);
      else groups.set(name, [o]);
    }
  }
  const ranked = [...groups].sort(([a, x], [b, y]) => y.length - x.length || a.localeCompare(b));
  const lines = ranked.slice(0, LISTED).map(([capability, group]) => {
    const label = capability || 'no listed capability';
    const load = group.reduce((n, o) => n + o.load, 0);
    const names = delegates(group).map((o) => o.agent.name);
    if (group.length > NAMED) names.push(`${group.length - NAMED} more`);
    return `- ${label}: ${count(group.length, 'operator')} (${names.join(', ')}), ${count(load, 'step')} running`;
  });
  const rest = ranked.slice(LISTED).map(([name]) => name || 'no listed capability');
  if (rest.length > 0) {
    const named = rest.slice(0, NAMED_REST).join(', ');
    const more = rest.length > NAMED_REST ? ` and ${rest.length - NAMED_REST} others` : '';
    lines.push(`- ${count(rest.length, 'more capability', 'more capabilities')}: ${named}${more}`);
  }
  return lines.join('\n');
}

/**
 * Of the operators able to take a step, those its DELEGATION goes to: the few least busy, the
 * ones the team description names (the engine assigns the step to one of the able). To every
 * able operator, a plan wrote about 1,000 TO edges at 1,000 operators (issue 15).
 */
export function delegates(able: CandidateAgent[]): CandidateAgent[] {
  return [...able]
    .sort((a, b) => a.load - b.load || a.agent.name.localeCompare(b.agent.name))
    .slice(0, NAMED);
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
