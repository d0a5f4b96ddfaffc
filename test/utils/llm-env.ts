import { loadConfig } from '../../src/config/config.js';
import type { LlmConfig } from '../../src/llm/config.js';

/** The model settings that `env` configures (loadConfig's llm). */
export const llmOf = (env: Record<string, string>): LlmConfig => loadConfig(env).llm;
