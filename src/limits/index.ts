export { DEFAULT_LIMITS, limitsEnvSchema, limitsFromEnv } from './config.js';
export type { LimitsConfig, LimitsEnv } from './config.js';
export {
  LimitCode,
  LimitError,
  limitGraphQLError,
  rateLimitedError,
  requestTimeoutError,
  bodyTimeoutError,
} from './errors.js';
export { maxAliasesRule, maxDepthRule, limitValidationRules } from './rules.js';
export {
  assertComplexity,
  complexityEstimators,
  complexityPlugin,
  firstArgumentEstimator,
} from './complexity.js';
export {
  formatTokenLimitError,
  limitCodeFor,
  tokenLimitParseOptions,
  tooManyTokensError,
} from './tokens.js';
export { RateLimiter } from './rate-limiter.js';
export type { RateLimiterOptions, TakeResult } from './rate-limiter.js';
export { withTimeout } from './timeout.js';
export { checkOperation } from './ws.js';
export type { OperationLimits } from './ws.js';
export { assertParseableNesting, nestingDepth } from './nesting.js';
