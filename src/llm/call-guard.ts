import type { Callbacks } from '@langchain/core/callbacks/manager';
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import {
  coerceMessageLikeToMessage,
  type BaseMessage,
  type BaseMessageLike,
} from '@langchain/core/messages';
import type { LLMResult } from '@langchain/core/outputs';
import { StringPromptValue, type BasePromptValueInterface } from '@langchain/core/prompt_values';

/**
 * Asked before each call of a platform model (the budgets' BudgetGuard): it resolves to let the
 * call go, or throws to refuse it. A refused call sends nothing, starts no callback (so no
 * LLMCall is recorded for it) and rejects with the guard's error, as it threw it.
 */
export interface CallGuard {
  /** `messages`: the call's prompts, one list of messages each. */
  admit(messages: BaseMessage[][]): Promise<void>;
}

type ChatModelClass = abstract new (...args: any[]) => BaseChatModel<any, any>;

/**
 * `Base` with a `guard` asked before each call, before LangChain starts the call's callbacks.
 * The guard was a callback handler with `raiseError`, whose throw LangChain's callback manager
 * console.errors before rethrowing it ("Error in handler BudgetGuard, handleLLMStart: ..."):
 * every refusal went to stderr. Every call passes through `generate` (invoke, batch, and
 * withStructuredOutput's chains) or `_streamIterator` (stream), on the model and on whatever
 * withConfig and bindTools make of it, which keep the guard (the model, or a copy built with it).
 */
export function guardedModel<T extends ChatModelClass>(Base: T) {
  abstract class Guarded extends Base {
    /** Asked before each call; none: every call goes. */
    guard: CallGuard | undefined;

    override async generate(
      messages: BaseMessageLike[][],
      options?: Parameters<InstanceType<T>['generate']>[1],
      callbacks?: Callbacks,
    ): Promise<LLMResult> {
      await this.guard?.admit(messages.map((list) => list.map(coerceMessageLikeToMessage)));
      return super.generate(messages, options, callbacks);
    }

    override async *_streamIterator(
      input: BaseLanguageModelInput,
      options?: Parameters<InstanceType<T>['_streamIterator']>[1],
    ): AsyncGenerator<Awaited<ReturnType<InstanceType<T>['invoke']>>> {
      // A model that does not stream is streamed by invoking it: generate asks then.
      if (this.guard && !streamedByInvoking(this)) await this.guard.admit([messagesOf(input)]);
      yield* super._streamIterator(input, options);
    }
  }
  return Guarded;
}

/** LangChain's own test, in BaseChatModel._streamIterator, for a model it invokes to stream. */
function streamedByInvoking(model: BaseChatModel<any, any>): boolean {
  return (
    model._streamResponseChunks === BaseChatModel.prototype._streamResponseChunks ||
    model.disableStreaming
  );
}

/** The messages LangChain makes of a model's input (_convertInputToPromptValue). */
function messagesOf(input: BaseLanguageModelInput): BaseMessage[] {
  if (typeof input === 'string') return new StringPromptValue(input).toChatMessages();
  if (Array.isArray(input)) return input.map(coerceMessageLikeToMessage);
  return (input as BasePromptValueInterface).toChatMessages();
}
