/**
 * What a model call tells the metrics (issue 17): tokens by kind, cost, duration, and failures
 * by class. Counted once per :LLMCall record, from the same figures, so the metrics and the
 * graph's totals agree.
 */
import { causeChain, isFetchNetworkError, networkCode } from '../domain/error-causes.js';
import type { LLMCallRecord } from '../domain/llm-call.js';
import { bounded, metrics } from '../metrics/metrics.js';

/** Model names come from configuration and agents: the first 50 are labels, the rest `other`. */
const modelLabel = bounded(50);
const purposeLabel = bounded(30);

export function countModelCall(call: LLMCallRecord, error: unknown): void {
  const labels = {
    provider: call.provider,
    model: modelLabel(call.model),
    purpose: purposeLabel(call.purpose),
  };
  const { tokens } = metrics.models;
  const cached = call.cachedPromptTokens;
  if (call.promptTokens - cached > 0)
    tokens.inc({ ...labels, kind: 'input' }, call.promptTokens - cached);
  if (cached > 0) tokens.inc({ ...labels, kind: 'cached_input' }, cached);
  if (call.completionTokens > 0) tokens.inc({ ...labels, kind: 'output' }, call.completionTokens);
  if (call.costUsd > 0) metrics.models.cost.inc(labels, call.costUsd);
  metrics.models.duration.observe(labels, call.latencyMs / 1000);
  if (call.error !== null) {
    metrics.models.errors.inc({
      provider: labels.provider,
      model: labels.model,
      class: errorClass(error),
    });
  }
}

/** The failure classes errorClass gives. */
const ERROR_CLASSES = [
  'rate_limit',
  'server',
  'client',
  'timeout',
  'aborted',
  'connection',
  'bad_answer',
] as const;

/**
 * The configured model's failure series, at 0 before its first failure (an alert's rate over a
 * series that does not exist yet could never fire).
 */
export function zeroModelErrors(provider: string, model: string): void {
  for (const c of ERROR_CLASSES)
    metrics.models.errors.inc({ provider, model: modelLabel(model), class: c }, 0);
}

/**
 * A failure's class: what an operator acts on differently. `rate_limit` (429), `server` (5xx),
 * `client` (other 4xx: a request the provider refused), `timeout`, `aborted`, `connection`
 * (the server could not be reached or heard out: refused, reset, dropped mid-answer, an
 * unknown host, TLS, a reply that is not HTTP), and `bad_answer` (the model answered, but not
 * usably: invalid JSON, a schema it breaks). Read through the error's causes, as the engine
 * reads them to decide on a retry (domain/error-causes.ts): the first that says decides.
 */
export function errorClass(err: unknown): string {
  const chain = causeChain(err);
  for (const e of chain) {
    const status = typeof e.status === 'number' ? e.status : null;
    if (status === 429) return 'rate_limit';
    if (status !== null && status >= 500) return 'server';
    if (status !== null && status >= 400) return 'client';
    const network = networkCode(e.code);
    if (e.name === 'TimeoutError' || network === 'timeout') return 'timeout';
    if (e.name === 'AbortError') return 'aborted';
    if (network !== null) return 'connection';
  }
  // fetch's network error with no code beneath it (a bad port, TLS, a reply that is not HTTP).
  return chain.some(isFetchNetworkError) ? 'connection' : 'bad_answer';
}
