import { getArgumentValues, isObjectType, type FieldNode, type GraphQLResolveInfo } from 'graphql';
import type { AgentListAhead, AgentRelated } from '../graph/agent.repository.js';
import { CAPABILITY_COUNTERS, type CapabilityCounter } from '../graph/capability.repository.js';
import type { Agent } from '../src/domain/agent.js';
import { agentPropertiesOnly } from '../graph/mappers.js';
import type { AppContext } from '../src/server/context.js';
import { MAX_PAGE_SIZE } from '../src/domain/page.js';
import type { TaskStatus } from '../src/domain/task.js';
import { answerAhead } from './read-ahead.js';
import { fieldNodesAt, selectedFieldsOf } from './selection.js';

/** Agent.tasks' loader for one set of arguments and selected fields, made once a request. */
export function agentTasksLoader(
  ctx: AppContext,
  statuses: TaskStatus[] | null,
  limit: number,
  selected: readonly string[] | null,
) {
  return ctx.loaders.keyed('agentTasks', [statuses, limit, selected], () =>
    ctx.loaders.tasks.agentTasks(statuses, limit, selected),
  );
}

/** Agent.tasks' `first` bounds: outside them the field answers BAD_USER_INPUT itself. */
export const AGENT_TASKS_MAX = MAX_PAGE_SIZE;

/** The counters of a capability among the fields an answer selects of it. */
export const selectedCounters = (selected: readonly string[]): CapabilityCounter[] =>
  CAPABILITY_COUNTERS.filter((c) => selected.includes(c));

/**
 * What `agents` reads with its page for the fields its items select (issue 15): their
 * capabilities with the counters any of their `capabilities` fields selects, their tasks when
 * every `tasks` field of the items asks for the same arguments and fields (else Agent.tasks
 * loads them, one statement per distinct set), and of the agents only the properties selected
 * when nothing else is (as @neo4j/graphql does).
 */
export function agentListAhead(info: GraphQLResolveInfo): AgentListAhead {
  // Each response key's field nodes, as Agent.tasks' info.fieldNodes will hold them.
  const byKey = new Map<string, FieldNode[]>();
  const capabilities: FieldNode[] = [];
  const properties = new Set<string>();
  for (const path of [['nodes'], ['edges', 'node']]) {
    for (const f of fieldNodesAt(info, path)) {
      const name = f.name.value;
      if (name === 'tasks') {
        const key = `${path.join('.')}.${f.alias?.value ?? name}`;
        byKey.set(key, [...(byKey.get(key) ?? []), f]);
      } else if (name === 'capabilities') capabilities.push(f);
      else if (name !== '__typename') properties.add(name);
    }
  }
  // Those two read with the page use only the agent's id: the rest may be properties alone.
  const only = agentPropertiesOnly([...properties].sort());
  const ahead: AgentListAhead = only ? { only } : {};
  if (capabilities.length) {
    ahead.capabilities = selectedCounters(selectedFieldsOf(info, capabilities));
  }
  const wanted = [...byKey.values()].map((nodes) => tasksArguments(info, nodes));
  const first = wanted[0];
  if (first && wanted.every((w) => w && JSON.stringify(w) === JSON.stringify(first))) {
    ahead.tasks = first;
  }
  return ahead;
}

/** The arguments Agent.tasks will see for these nodes; null when it will refuse them. */
function tasksArguments(
  info: GraphQLResolveInfo,
  nodes: FieldNode[],
): NonNullable<AgentListAhead['tasks']> | null {
  const agent = info.schema.getType('Agent');
  const definition = isObjectType(agent) ? agent.getFields().tasks : undefined;
  if (!definition) return null;
  let args: Record<string, unknown>;
  try {
    args = getArgumentValues(definition, nodes[0]!, info.variableValues);
  } catch {
    return null; // the field itself reports it
  }
  const limit = (args.first as number | undefined) ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > AGENT_TASKS_MAX) return null;
  const statuses = (args.status as TaskStatus[] | null | undefined) ?? null;
  return { statuses, limit, selected: selectedFieldsOf(info, nodes) };
}

/**
 * Answers the fields the page read for its agents (read-ahead.ts): no resolver of theirs runs.
 * Their tasks are read only when every `tasks` field asks the same (agentListAhead); their
 * capabilities with every counter any `capabilities` field selects (more is never shown).
 */
export function answerAgentFields(agents: readonly Agent[], related: Map<string, AgentRelated>) {
  for (const agent of agents) {
    const of = related.get(agent.id);
    if (of?.capabilities) answerAhead(agent, 'capabilities', of.capabilities);
    if (of?.tasks) answerAhead(agent, 'tasks', of.tasks);
  }
}
