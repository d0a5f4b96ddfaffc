import * as repo from '../../graph/agent.repository.js';
import { replaceCapabilities } from '../../graph/capability.repository.js';
import { releaseAgentWork } from '../../graph/run.repository.js';
import { publishTasks } from './task-events.js';
import { TOPICS } from '../../subscriptions/topics.js';
import {
  assertAgentTransition,
  AgentStatus,
  type Agent,
  type AgentRole,
  type RemoteAgent,
} from '../domain/agent.js';
import { alreadyExists, BadInputError, ConflictError, NotFoundError } from '../domain/errors.js';
import { pageRequest, type PageInput, type Page, type Sort } from '../domain/page.js';
import {
  atPosition,
  distinctNames,
  LIMITS,
  listOfAtMost,
  numberInRange,
  optionalText,
  requiredName,
  requiredText,
} from '../domain/validate.js';
import type { Emit, UnitOfWork } from './unit-of-work.js';
import type { Tx } from '../../graph/cypher.js';
import { OPERATOR_TOOLS, type Behaviour } from '../domain/agent-version.js';
import { changeBehaviour, firstVersions } from '../evolution/versions/lifecycle.js';

export interface CapabilityData {
  name: string;
  proficiency?: number | null;
}

export interface CreateAgentData {
  name: string;
  description?: string | null;
  role: AgentRole;
  model?: string | null;
  systemPrompt?: string | null;
  temperature?: number | null;
  tools?: string[] | null;
  lessonBudget?: number | null;
  /** Only meaningful for a CHIEF_OF_STAFF: its plans wait for approvePlan by default. */
  reviewPlans?: boolean | null;
  capabilities?: CapabilityData[] | null;
}

export interface UpdateAgentData {
  name?: string | null;
  description?: string | null;
  role?: AgentRole | null;
  model?: string | null;
  systemPrompt?: string | null;
  temperature?: number | null;
  tools?: string[] | null;
  lessonBudget?: number | null;
  reviewPlans?: boolean | null;
  capabilities?: CapabilityData[] | null;
}

/** Agent lifecycle rules; every method that writes is one transaction. */
export class AgentService {
  constructor(private readonly uow: UnitOfWork) {}

  /** Creates agents, each with its version 1 (LIVE, by `actor`). */
  async createMany(
    tenantId: string,
    inputs: CreateAgentData[],
    actor = 'a person',
    /** The outside A2A agent each stands for (RemoteAgentService only). */
    remote: RemoteAgent | null = null,
  ): Promise<Agent[]> {
    listOfAtMost('inputs', inputs, LIMITS.batch);
    const agents = inputs.map((input, i) =>
      atPosition(inputs.length > 1 ? `inputs[${i}].` : '', () => ({
        name: requiredName('name', input.name, LIMITS.name),
        description: optionalText('description', input.description, LIMITS.description) ?? null,
        role: input.role,
        model: optionalText('model', input.model, LIMITS.model) ?? null,
        systemPrompt: optionalText('systemPrompt', input.systemPrompt, LIMITS.systemPrompt) ?? null,
        temperature: null,
        tools: [] as string[],
        lessonBudget: null,
        ...extraBehaviour(input),
        reviewPlans: input.reviewPlans ?? false,
        capabilities: capabilities(input.capabilities ?? []),
        remote,
      })),
    );
    const names = agents.map((a) => a.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) throw new BadInputError(`The agent name "${twice}" appears twice in this batch`);

    return this.uow.run(async (tx, emit) => {
      await assertNamesFree(tx, tenantId, names);
      const created = await repo.createAgents(tx, tenantId, agents);
      await firstVersions(tx, emit, created, actor);
      for (const agent of created) {
        emit({
          topic: TOPICS.agentStatusChanged,
          payload: { tenantId, agent, previousStatus: null },
        });
      }
      return created;
    });
  }

  /**
   * Changes an agent. A change of behaviour (systemPrompt, model, temperature, tools,
   * lessonBudget) makes a new LIVE version by `actor`; name, description, role and
   * capabilities are the agent's own and make none.
   */
  async update(
    tenantId: string,
    id: string,
    input: UpdateAgentData,
    actor = 'a person',
  ): Promise<Agent> {
    const patch: repo.AgentPatch = {};
    if (input.name !== undefined && input.name !== null) {
      patch.name = requiredName('name', input.name, LIMITS.name);
    }
    if (input.role) patch.role = input.role;
    // Not a behaviour of the model: the agent's own setting, no new version (null: unchanged).
    if (input.reviewPlans != null) patch.reviewPlans = input.reviewPlans;
    for (const field of ['description', 'model', 'systemPrompt'] as const) {
      const max =
        field === 'systemPrompt'
          ? LIMITS.systemPrompt
          : field === 'model'
            ? LIMITS.model
            : LIMITS.description;
      const value = optionalText(field, input[field], max);
      if (value !== undefined) patch[field] = value;
    }
    const caps = input.capabilities ? capabilities(input.capabilities) : undefined;
    const behaviour: Partial<Behaviour> = { ...extraBehaviour(input) };
    for (const field of ['model', 'systemPrompt'] as const) {
      if (patch[field] !== undefined) behaviour[field] = patch[field];
      delete patch[field];
    }

    return this.uow.run(async (tx, emit) => {
      await lockOrThrow(tx, tenantId, id);
      if (patch.name) await assertNamesFree(tx, tenantId, [patch.name], id);
      if (caps) await replaceCapabilities(tx, tenantId, id, caps);
      await changeBehaviour(tx, emit, tenantId, id, behaviour, actor);
      return repo.patchAgent(tx, tenantId, id, patch);
    });
  }

  /** Moves the agent along the status transition table; BAD_USER_INPUT names from and to. */
  setStatus(tenantId: string, id: string, status: AgentStatus): Promise<Agent> {
    return this.uow.run(async (tx, emit) => {
      const before = await lockOrThrow(tx, tenantId, id);
      if (before.status === status) return before;
      assertAgentTransition(before.status, status);
      return changed(tx, emit, tenantId, before, { status });
    });
  }

  /** Active agents take work; activating brings an agent back to IDLE. */
  activate(tenantId: string, id: string): Promise<Agent> {
    return this.uow.run(async (tx, emit) => {
      const before = await lockOrThrow(tx, tenantId, id);
      if (before.active && before.status !== AgentStatus.OFFLINE) return before;
      const status = before.status === AgentStatus.OFFLINE ? AgentStatus.IDLE : before.status;
      return changed(tx, emit, tenantId, before, { active: true, status });
    });
  }

  /** Inactive agents take no new work and go OFFLINE. */
  deactivate(tenantId: string, id: string): Promise<Agent> {
    return this.uow.run(async (tx, emit) => {
      const before = await lockOrThrow(tx, tenantId, id);
      if (!before.active) return before;
      return changed(tx, emit, tenantId, before, { active: false, status: AgentStatus.OFFLINE });
    });
  }

  /**
   * Deletes an agent. An agent with unfinished tasks is refused with CONFLICT, unless
   * `reassignTo` names another agent to take them over in the same transaction.
   */
  delete(tenantId: string, id: string, reassignTo?: string | null): Promise<string[]> {
    if (reassignTo === id) {
      throw new BadInputError('reassignTo must be another agent than the one being deleted');
    }
    return this.uow.run(async (tx) => {
      await lockOrThrow(tx, tenantId, id);
      let moved: string[] = [];
      // `!= null`, not truthiness: reassignTo "" names no agent (NOT_FOUND), it is not "none".
      if (reassignTo != null) {
        await lockOrThrow(tx, tenantId, reassignTo);
        moved = await repo.moveOpenAssignments(tx, tenantId, id, reassignTo);
      } else {
        const open = await repo.countOpenAssignments(tx, tenantId, id);
        if (open > 0) {
          throw new ConflictError(
            `This agent holds ${open} unfinished task(s): cancel or finish them, or pass reassignTo to hand them to another agent`,
            { openTasks: open },
          );
        }
      }
      await repo.deleteAgent(tx, tenantId, id);
      return moved;
    });
  }

  /** A page of agents, with what `ahead` names read of each in the same statement. */
  list(
    tenantId: string,
    filter: repo.AgentFilter,
    sort: Sort,
    input: PageInput,
    ahead: repo.AgentListAhead = {},
  ): Promise<Page<Agent> & { related: Map<string, repo.AgentRelated> }> {
    const page = pageRequest(input);
    const text = optionalText('text', filter.text, LIMITS.search) ?? undefined;
    return this.uow.read((tx) =>
      repo.listAgents(tx, tenantId, { ...filter, text }, sort, page, ahead),
    );
  }
}

async function lockOrThrow(tx: Tx, tenantId: string, id: string): Promise<Agent> {
  const agent = await repo.lockAgent(tx, tenantId, id);
  if (!agent) throw new NotFoundError('Agent', id);
  return agent;
}

async function changed(
  tx: Tx,
  emit: Emit,
  tenantId: string,
  before: Agent,
  patch: repo.AgentPatch,
): Promise<Agent> {
  const agent = await repo.patchAgent(tx, tenantId, before.id, patch);
  if (agent.status !== before.status) {
    emit({
      topic: TOPICS.agentStatusChanged,
      payload: { tenantId, agent, previousStatus: before.status },
    });
  }
  if (!agent.active || UNAVAILABLE.includes(agent.status)) {
    // Redistribution: its queued steps lose the assignment, its running ones go back to READY
    // (their workers abort them) and the engine assigns them to other agents.
    const reason = `agent ${agent.name} became ${agent.active ? agent.status : 'inactive'}`;
    const released = await releaseAgentWork(tx, tenantId, agent.id, reason);
    await publishTasks(tx, emit, released, 'REASSIGNING');
  }
  return agent;
}

/** Statuses in which an agent takes no work. */
const UNAVAILABLE: readonly AgentStatus[] = [
  AgentStatus.PAUSED,
  AgentStatus.ERROR,
  AgentStatus.OFFLINE,
];

async function assertNamesFree(tx: Tx, tenantId: string, names: string[], exceptId?: string) {
  const [taken] = await repo.takenAgentNames(tx, tenantId, names, exceptId);
  if (taken) {
    throw alreadyExists('Agent', { name: taken });
  }
}

/** temperature, tools, lessonBudget as given (undefined: not given), checked. */
function extraBehaviour(input: Pick<CreateAgentData, 'temperature' | 'tools' | 'lessonBudget'>) {
  const out: Partial<Pick<Behaviour, 'temperature' | 'tools' | 'lessonBudget'>> = {};
  if (input.temperature !== undefined) {
    out.temperature =
      input.temperature === null ? null : numberInRange('temperature', input.temperature, 0, 2);
  }
  if (input.tools !== undefined) {
    out.tools =
      input.tools === null
        ? []
        : distinctNames('tools', input.tools, LIMITS.capabilities, LIMITS.name);
    const unknown = out.tools.find((t) => !(OPERATOR_TOOLS as readonly string[]).includes(t));
    if (unknown) {
      throw new BadInputError(
        `tools must be among ${OPERATOR_TOOLS.join(', ')} (or empty for all), but got "${unknown}"`,
        { field: 'tools' },
      );
    }
  }
  if (input.lessonBudget !== undefined) {
    const budget = input.lessonBudget;
    if (budget !== null && !Number.isInteger(budget)) {
      throw new BadInputError(
        `lessonBudget must be a whole number from 0 to 50, but got ${budget}`,
      );
    }
    out.lessonBudget = budget === null ? null : numberInRange('lessonBudget', budget, 0, 50);
  }
  return out;
}

function capabilities(list: CapabilityData[]) {
  const names = distinctNames(
    'capabilities.name',
    list.map((c) => c.name),
    LIMITS.capabilities,
    LIMITS.name,
  );
  return names.map((name) => {
    const given = list.find((c) => c.name.trim() === name)?.proficiency;
    return { name, proficiency: numberInRange('proficiency', given ?? 0.5, 0, 1) };
  });
}
