import type { ToolServerHeader } from './tool-server.js';
import { BadInputError } from './errors.js';

export enum AgentRole {
  CHIEF_OF_STAFF = 'CHIEF_OF_STAFF',
  MASTER_OPERATOR = 'MASTER_OPERATOR',
}

export enum AgentStatus {
  IDLE = 'IDLE',
  BUSY = 'BUSY',
  PAUSED = 'PAUSED',
  ERROR = 'ERROR',
  OFFLINE = 'OFFLINE',
}

/** Allowed status changes: from -> the statuses it may move to. */
export const AGENT_TRANSITIONS: Record<AgentStatus, readonly AgentStatus[]> = {
  IDLE: [AgentStatus.BUSY, AgentStatus.PAUSED, AgentStatus.OFFLINE, AgentStatus.ERROR],
  BUSY: [AgentStatus.IDLE, AgentStatus.PAUSED, AgentStatus.ERROR, AgentStatus.OFFLINE],
  PAUSED: [AgentStatus.IDLE, AgentStatus.OFFLINE],
  ERROR: [AgentStatus.IDLE, AgentStatus.OFFLINE],
  OFFLINE: [AgentStatus.IDLE],
};

/** Throws BAD_USER_INPUT naming both ends when `from -> to` is not in the table. */
export function assertAgentTransition(from: AgentStatus, to: AgentStatus): void {
  if (!AGENT_TRANSITIONS[from].includes(to)) {
    const allowed = AGENT_TRANSITIONS[from].join(', ');
    throw new BadInputError(
      `An agent cannot go from ${from} to ${to}; from ${from} it may go to ${allowed}`,
      { from, to },
    );
  }
}

export interface Agent {
  id: string;
  tenantId: string;
  name: string;
  description: string | null;
  role: AgentRole;
  status: AgentStatus;
  active: boolean;
  model: string | null;
  systemPrompt: string | null;
  /** The LIVE version's number (issue 12: no longer a count of writes). */
  version: number;
  /** The live version's temperature (null: the provider's default). */
  temperature?: number | null;
  /** The live version's tools ([] or absent: all of the platform's tools). */
  tools?: string[];
  /** The live version's lesson budget (null: the platform's default). */
  lessonBudget?: number | null;
  /** A Chief of Staff's default for submitTask's planApproval: its plans wait for approvePlan. */
  reviewPlans?: boolean;
  /** An outside A2A agent this agent stands for: its steps are sent there (issue 16). */
  remote?: RemoteAgent | null;
  /** Set on the agent a claimed run executes: the :AgentVersion it uses (USED_VERSION). */
  versionId?: string;
  /** ...and that version's number (a canary run's differs from `version`). */
  usedVersion?: number;
  createdAt: string;
  updatedAt: string;
}

/** Where a remote agent is, and the headers its requests carry (values sealed, never shown). */
export interface RemoteAgent {
  url: string;
  headers: ToolServerHeader[];
  headersSealed: string | null;
}

export interface AgentCapability {
  agentId: string;
  name: string;
  proficiency: number;
  runs: number;
  successes: number;
  avgLatencyMs: number;
  avgCostUsd: number;
}
