import type { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import type { Callbacks } from '@langchain/core/callbacks/manager';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import type { StepContext } from '../engine/executor.js';
import type { LlmConfig } from '../llm/config.js';
import { LLMCallRecorder } from '../llm/accounting.js';
import type { CallGuard } from '../llm/call-guard.js';
import type { PubSub } from '../../subscriptions/pubsub.js';
import { StepTokenPublisher } from './streaming.js';
import { ancestorIds } from '../../graph/task.repository.js';
import type { CheckpointRetention } from './checkpoint/config.js';
import { Neo4jCheckpointSaver } from './checkpoint/neo4j-saver.js';
import { createChatModel, describeModel } from '../llm/models.js';
import { zeroModelErrors } from '../llm/call-metrics.js';
import type { ModelRequest, Purpose } from '../llm/routing.js';
import type { Logger } from '../logger.js';
import type { UnitOfWork } from '../services/unit-of-work.js';
import type { Embedder } from '../memory/embeddings/embedder.js';
import type { LessonsConfig } from '../evolution/config.js';
import type { McpToolPool } from '../mcp-client/pool.js';
import type { BacklogLimits } from '../domain/backlog.js';

/** What the agent chains need: the graph, the model configuration, and call accounting. */
export interface AgentRuntime {
  uow: UnitOfWork;
  llm: LlmConfig;
  logger: Logger;
  /** Embeds memory searches (issue 11); searches use full text and the graph only without it. */
  embedder?: Embedder | null;
  /** Lessons in prompts: budget and candidate share (issue 12); DEFAULT_EVOLUTION's without it. */
  lessons?: LessonsConfig;
  /** A model for one purpose, for the step's agent, with its calls recorded. */
  model(request: ModelRequest, step: StepContext, purpose: Purpose): BaseChatModel;
  /** Where a step's agent loop saves its checkpoints (issue 13); none: loops are not saved. */
  checkpointer?: CheckpointerFactory;
  /** Sessions to outside MCP servers (issue 16); none: agents get no MCP tools. */
  mcp?: McpToolPool;
  /** A plan's steps and a chat turn count against these; DEFAULT_BACKLOG_LIMITS without. */
  backlog?: BacklogLimits;
}

/** The checkpoint saver of one attempt: writes for `runId`, reads the tenant's threads. */
export type CheckpointerFactory = (scope: {
  tenantId: string;
  runId: string;
}) => BaseCheckpointSaver | undefined;

/** Callbacks that record each model call of a step (an :LLMCall per call). */
export type CallRecorderFactory = (
  step: StepContext,
  purpose: Purpose,
  request: ModelRequest,
) => Callbacks | undefined;

/**
 * The runtime the engine's agent executor uses. Every model call of a step is recorded as an
 * :LLMCall linked to the step's :Run (provider, model, purpose, tokens, latency, cost).
 */
export function createAgentRuntime(deps: {
  uow: UnitOfWork;
  llm: LlmConfig;
  logger: Logger;
  embedder?: Embedder | null;
  lessons?: LessonsConfig;
  recorders?: CallRecorderFactory;
  /** Where steps' tokens stream (stepTokens); none without it. */
  pubsub?: PubSub;
  /** More callbacks for every model call, after the recorders (the real-model smoke test's). */
  observe?: (step: StepContext, purpose: Purpose) => BaseCallbackHandler[];
  /** Asked before every model call of a step, before anything is sent: the budgets. */
  guard?: (step: StepContext) => CallGuard;
  /** Where agent loops save checkpoints; default: Neo4j, with `checkpoints` retention. */
  checkpointer?: CheckpointerFactory;
  checkpoints?: CheckpointRetention;
  mcp?: McpToolPool;
  backlog?: BacklogLimits;
}): AgentRuntime {
  const configured = describeModel({ purpose: 'execution' }, deps.llm);
  zeroModelErrors(configured.provider, configured.model);
  const record: CallRecorderFactory =
    deps.recorders ??
    ((step, purpose, request) => [
      new LLMCallRecorder({
        store: deps.uow,
        tenantId: step.task.tenantId,
        purpose,
        runId: step.run.id,
        taskId: step.task.id,
        agentId: step.agent.id,
        spent: step.run.spent,
        prices: deps.llm.prices,
        describe: describeModel(request, deps.llm),
        log: deps.logger,
      }),
      ...(deps.pubsub && step.run.id
        ? [
            new StepTokenPublisher(
              deps.pubsub,
              {
                tenantId: step.task.tenantId,
                taskId: step.task.id,
                runId: step.run.id,
                agentId: step.agent.id,
                purpose,
              },
              () => deps.uow.read((tx) => ancestorIds(tx, step.task.tenantId, step.task.id)),
            ),
          ]
        : []),
    ]);
  const checkpointer: CheckpointerFactory =
    deps.checkpointer ??
    ((scope) => new Neo4jCheckpointSaver({ uow: deps.uow, ...scope }, deps.checkpoints));
  return {
    ...deps,
    checkpointer,
    model: (request, step, purpose) => {
      const recorded = record(step, purpose, request);
      const extra = deps.observe?.(step, purpose) ?? [];
      const callbacks =
        extra.length === 0 ? recorded : [...(Array.isArray(recorded) ? recorded : []), ...extra];
      // The version the step's run uses sets the temperature (the claim applied it to the agent).
      const temperature = request.temperature ?? step.agent.temperature ?? null;
      const model = createChatModel(
        { ...request, temperature },
        deps.llm,
        callbacks,
        deps.logger,
        deps.guard?.(step),
      );
      // The recorder reads each answer's usage off the wire: a structured answer that fails
      // parsing in the client still has its tokens recorded (accounting.ts).
      for (const cb of Array.isArray(callbacks) ? callbacks : []) {
        if (cb instanceof LLMCallRecorder) cb.attach(model);
      }
      return model;
    },
  };
}
