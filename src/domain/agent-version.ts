import { createHash } from 'node:crypto';
import type { Agent } from './agent.js';

/*
 * Agent versions (issue 12): what defines an agent's behaviour (instructions, model,
 * temperature, tools, lesson budget) is an :AgentVersion. One is LIVE per agent; a CANDIDATE
 * gets a share of the agent's runs (a canary) until the evidence promotes or rolls it back.
 */

export enum VersionStatus {
  /** Proposed; runs a canary share of the agent's work until decided. */
  CANDIDATE = 'CANDIDATE',
  /** The version the agent runs (one per agent). */
  LIVE = 'LIVE',
  /** Was live, replaced by a newer version. */
  RETIRED = 'RETIRED',
  /** A candidate that lost (or was rolled back by hand); never runs again. */
  ROLLED_BACK = 'ROLLED_BACK',
}

export enum VersionOrigin {
  /** Written by a person (createAgent, updateAgent). */
  PERSON = 'PERSON',
  /** Proposed by the platform (proposeAgentVersion's reflective chain). */
  PLATFORM = 'PLATFORM',
}

/** The fields that make an agent behave as it does; changing one makes a new version. */
export const BEHAVIOUR_FIELDS = [
  'systemPrompt',
  'model',
  'temperature',
  'tools',
  'lessonBudget',
] as const;

/** The tools a version may name (the Master Operator's; src/agents/tools.ts makes them). */
export const OPERATOR_TOOLS = [
  'search_knowledge',
  'search_memory',
  'record_knowledge',
  'read_dependency_outputs',
  'ask_agent',
  'report_progress',
] as const;

export interface Behaviour {
  /** The instructions. */
  systemPrompt: string | null;
  model: string | null;
  /** null: the provider's default. */
  temperature: number | null;
  /** Tool names the version may use; [] for all of the platform's tools. */
  tools: string[];
  /** Most lessons a prompt of this version carries; null for the platform's default. */
  lessonBudget: number | null;
}

export interface AgentVersion extends Behaviour {
  id: string;
  tenantId: string;
  agentId: string;
  version: number;
  status: VersionStatus;
  origin: VersionOrigin;
  /** Why it exists (the rationale of a proposal, "created", the person's change). */
  reason: string;
  /** Share of the agent's runs a CANDIDATE gets, 0..1; 0 for the others. */
  canaryShare: number;
  /** The version it evolved from; null for the first. */
  parentId: string | null;
  createdAt: string;
}

/** Moves a person or the platform may make: from -> allowed targets. */
export const VERSION_TRANSITIONS: Readonly<Record<VersionStatus, readonly VersionStatus[]>> = {
  CANDIDATE: [VersionStatus.LIVE, VersionStatus.ROLLED_BACK],
  LIVE: [VersionStatus.RETIRED, VersionStatus.ROLLED_BACK],
  RETIRED: [],
  ROLLED_BACK: [],
};

/** True when `patch` changes a behaviour field of `live` (compared by value). */
export function changesBehaviour(live: Behaviour, patch: Partial<Behaviour>): boolean {
  return BEHAVIOUR_FIELDS.some((field) => {
    if (!(field in patch) || patch[field] === undefined) return false;
    return JSON.stringify(patch[field]) !== JSON.stringify(live[field]);
  });
}

/**
 * A run's fixed point in [0, 1) from its id: the first 48 bits of sha256(id). A run goes to
 * the candidate when its point falls below the candidate's canary share (compared where the
 * claim records the version: useVersions). The same run id always lands on the same point, so
 * a retried claim transaction picks the same version.
 */
export function canaryPoint(runId: string): number {
  const hex = createHash('sha256').update(runId).digest('hex').slice(0, 12);
  return parseInt(hex, 16) / 2 ** 48;
}

/** The agent as a run of `version` sees it: the version's behaviour over the agent's fields. */
export function withVersion(agent: Agent, version: AgentVersion | undefined): Agent {
  if (!version) return agent;
  return {
    ...agent,
    systemPrompt: version.systemPrompt,
    model: version.model,
    temperature: version.temperature,
    tools: version.tools,
    lessonBudget: version.lessonBudget,
    versionId: version.id,
    usedVersion: version.version,
  };
}
