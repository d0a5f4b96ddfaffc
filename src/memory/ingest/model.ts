import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { PubSub } from '../../../subscriptions/pubsub.js';
import type { BudgetDefaults } from '../../domain/budget.js';
import { lockEpisodeIfThere } from '../../../graph/memory/ingest.repository.js';
import { LLMCallRecorder } from '../../llm/accounting.js';
import type { Write } from '../../llm/call-writer.js';
import { BudgetGuard } from '../../llm/budget.js';
import type { LlmConfig } from '../../llm/config.js';
import { createChatModel, describeModel } from '../../llm/models.js';
import type { Logger } from '../../logger.js';
import type { UnitOfWork } from '../../services/unit-of-work.js';

/** Who an ingestion's model calls are booked to: the episode's provenance, when it has one. */
export interface CallSubject {
  tenantId: string;
  /** The episode ingested: its calls are recorded only while it is there. */
  episodeId: string;
  runId: string | null;
  taskId: string | null;
  agentId: string | null;
}

/** Counts the requests a model makes (a client's structured-output fallback is one more). */
class CallCounter extends BaseCallbackHandler {
  name = 'memory_call_counter';
  count = 0;
  override handleChatModelStart(): void {
    this.count++;
  }
  override handleLLMStart(): void {
    this.count++;
  }
}

/** The model of one episode's ingestion, with its calls recorded, budgeted and counted. */
export interface IngestionModel {
  model: BaseChatModel;
  /** Model requests made so far. */
  calls(): number;
  /** Waits until the :LLMCall records are written. */
  flush(): Promise<void>;
}

export interface IngestionModelDeps {
  uow: UnitOfWork;
  llm: LlmConfig;
  logger: Logger;
  /** Spending limits: ingestion spends the tenant's (and the run's task's) budget too. */
  budgets?: BudgetDefaults;
  pubsub?: PubSub;
}

/**
 * A `memory`-purpose model for one episode: every call an :LLMCall (runId and taskId from the
 * episode's provenance, null otherwise), checked against the budgets first, and counted. A call
 * whose episode is gone when it is recorded (its tenant was removed meanwhile) is only logged:
 * its record would write the removed tenant back.
 */
export function ingestionModel(deps: IngestionModelDeps, subject: CallSubject): IngestionModel {
  const request = { purpose: 'memory' as const };
  const { tenantId, episodeId } = subject;
  const store: Write = (work) =>
    deps.uow.write(async (tx) => {
      if (await lockEpisodeIfThere(tx, tenantId, episodeId)) return work(tx);
      deps.logger.warn(
        { tenantId, episodeId },
        'a model call of an episode removed with its tenant is not recorded',
      );
      // The recorder's writes return nothing (call-writer.ts: writeCall).
      return undefined as Awaited<ReturnType<typeof work>>;
    });
  const recorder = new LLMCallRecorder({
    store,
    tenantId: subject.tenantId,
    purpose: 'memory',
    runId: subject.runId,
    taskId: subject.taskId,
    agentId: subject.agentId,
    prices: deps.llm.prices,
    describe: describeModel(request, deps.llm),
    log: deps.logger,
  });
  const counter = new CallCounter();
  const guard = deps.budgets
    ? new BudgetGuard(
        { uow: deps.uow, defaults: deps.budgets, logger: deps.logger },
        { tenantId: subject.tenantId, agentId: subject.agentId, taskId: subject.taskId },
      )
    : undefined;
  const model = createChatModel(request, deps.llm, [recorder, counter], deps.logger, guard);
  recorder.attach(model);
  return { model, calls: () => counter.count, flush: () => recorder.flush() };
}
