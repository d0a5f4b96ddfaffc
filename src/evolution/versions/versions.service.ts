import {
  ensureLiveVersions,
  versionRecords,
  versionsOfAgents,
  type VersionRecord,
} from '../../../graph/agent-version.repository.js';
import { agentsByIds, lockAgent } from '../../../graph/agent.repository.js';
import type { Tx } from '../../../graph/cypher.js';
import type { PubSub } from '../../../subscriptions/pubsub.js';
import { VersionStatus, type AgentVersion } from '../../domain/agent-version.js';
import type { BudgetDefaults } from '../../domain/budget.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { requiredText } from '../../domain/validate.js';
import type { LlmConfig } from '../../llm/config.js';
import type { Logger } from '../../logger.js';
import type { UnitOfWork } from '../../services/unit-of-work.js';
import { DEFAULT_EVOLUTION, type CanaryConfig } from '../config.js';
import { announce, promote, rollBack, rollBackLive, versionOrThrow } from './lifecycle.js';
import { proposeAgentVersion } from './propose.js';

export type { VersionRecord };

/** Longest reason a person may give for a promotion or rollback. */
const REASON_MAX = 1000;

/** Agent versions' use cases (issue 12): history, proposals, promotion and rollback by hand. */
export class AgentVersionService {
  private readonly canary: CanaryConfig;

  constructor(
    private readonly deps: {
      uow: UnitOfWork;
      llm: LlmConfig;
      logger: Logger;
      budgets?: BudgetDefaults;
      pubsub?: PubSub;
      canary?: CanaryConfig;
    },
  ) {
    this.canary = deps.canary ?? DEFAULT_EVOLUTION.canary;
  }

  /** The agent's versions, newest first; NOT_FOUND for an unknown or foreign agent. */
  async history(tenantId: string, agentId: string): Promise<VersionRecord[]> {
    await this.ensureLive(tenantId, agentId);
    return this.deps.uow.read((tx) => versionRecords(tx, tenantId, { agentId }));
  }

  /** Versions with their records, by id (any order; unknown ids are absent). */
  records(tenantId: string, versionIds: readonly string[]): Promise<VersionRecord[]> {
    return this.deps.uow.read((tx) => versionRecords(tx, tenantId, { versionIds }));
  }

  /** The agents' LIVE versions (made from their fields for agents from before versions). */
  async live(tenantId: string, agentIds: readonly string[]): Promise<AgentVersion[]> {
    const read = () =>
      this.deps.uow.read((tx) => versionsOfAgents(tx, tenantId, agentIds, [VersionStatus.LIVE]));
    const found = await read();
    if (found.length >= agentIds.length) return found;
    await this.deps.uow.run(async (tx, emit) => {
      for (const v of await ensureLiveVersions(tx, tenantId, agentIds)) {
        announce(emit, v, null, v.reason);
      }
    });
    return read();
  }

  propose(tenantId: string, agentId: string, actor: string): Promise<AgentVersion> {
    return proposeAgentVersion(
      { ...this.deps, canaryShare: this.canary.share },
      tenantId,
      agentId,
      actor,
    );
  }

  /** A CANDIDATE becomes LIVE by hand; CONFLICT when it is not a candidate. */
  promote(tenantId: string, versionId: string, reason: string, actor: string) {
    const why = requiredText('reason', reason, REASON_MAX);
    return this.deps.uow.run(async (tx, emit) => {
      const { v } = await lockedVersion(tx, tenantId, versionId);
      if (v.status !== VersionStatus.CANDIDATE) throw notCandidate(v, 'promoted');
      const done = await promote(tx, emit, v, `by hand: ${why}`, actor);
      if (!done) throw notCandidate(await versionOrThrow(tx, tenantId, versionId), 'promoted');
      return done;
    });
  }

  /**
   * Rolls back by hand: a CANDIDATE is ROLLED_BACK; a LIVE version is ROLLED_BACK and its
   * parent's behaviour comes back as a new LIVE version. CONFLICT for other statuses.
   */
  rollback(tenantId: string, versionId: string, reason: string, actor: string) {
    const why = `by hand: ${requiredText('reason', reason, REASON_MAX)}`;
    return this.deps.uow.run(async (tx, emit) => {
      const { seen, v } = await lockedVersion(tx, tenantId, versionId);
      // A candidate promoted meanwhile: rolling back a LIVE version is not what was asked.
      if (seen.status === VersionStatus.CANDIDATE && v.status === VersionStatus.LIVE) {
        throw new ConflictError(
          `Version ${v.version} (${v.id}) became LIVE while this waited; to go back to its parent, roll it back again`,
          { status: v.status },
        );
      }
      if (v.status === VersionStatus.LIVE) return rollBackLive(tx, emit, v, why, actor);
      if (v.status !== VersionStatus.CANDIDATE) throw notCandidate(v, 'rolled back');
      const done = await rollBack(tx, emit, v, why, actor);
      if (!done) throw notCandidate(await versionOrThrow(tx, tenantId, versionId), 'rolled back');
      return done;
    });
  }

  private async ensureLive(tenantId: string, agentId: string): Promise<void> {
    const [agent] = await this.deps.uow.read((tx) => agentsByIds(tx, tenantId, [agentId]));
    if (!agent) throw new NotFoundError('Agent', agentId);
    await this.live(tenantId, [agentId]);
  }
}

/**
 * The version as it is once its agent's lock is held: a promotion or rollback that committed
 * while this one waited is seen, so a refusal names the status the version has now.
 */
async function lockedVersion(tx: Tx, tenantId: string, id: string) {
  const seen = await versionOrThrow(tx, tenantId, id);
  await lockAgent(tx, tenantId, seen.agentId);
  return { seen, v: await versionOrThrow(tx, tenantId, id) };
}

function notCandidate(v: AgentVersion, what: string) {
  return new ConflictError(
    `Version ${v.version} (${v.id}) is ${v.status}; only a CANDIDATE can be ${what}${what === 'rolled back' ? ' (or a LIVE version, to its parent)' : ''}`,
    { status: v.status },
  );
}
