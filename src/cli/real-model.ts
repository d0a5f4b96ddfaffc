import { openGraph } from './bootstrap.js';
import { loadConfig } from '../config/config.js';
import { runEntry } from './entry.js';
import { createLogger } from '../logger.js';
import { withoutCredentials } from '../config/url-credentials.js';
import { runSmoke, type SmokeCheck } from './real-model-checks.js';

/**
 * `npm run test:real-model`: checks the configured model (LLM_BASE_URL, LLM_MODEL, LLM_API_KEY,
 * or OPENAI_API_KEY / OPENROUTER_API_KEY) against the platform in one command, one line per
 * check: a plan, a step with a tool call, the workflow's answer, step streaming, a streamed chat
 * reply, usage and cost recorded. It uses the project's Neo4j (npm start's local one unless
 * NEO4J_URI is set) and a throwaway tenant it deletes. Exits 1 when a check fails.
 * REAL_MODEL_TIMEOUT_MS (default 600000) bounds the workflow and the chat each.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (config.llm.provider === 'offline') {
    console.error(
      'No model is configured: set LLM_BASE_URL (e.g. http://127.0.0.1:11434/v1 for Ollama) and LLM_MODEL, or OPENAI_API_KEY / OPENROUTER_API_KEY.',
    );
    process.exit(2);
  }
  const timeoutMs = Number(process.env.REAL_MODEL_TIMEOUT_MS ?? 600_000);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    console.error(
      `REAL_MODEL_TIMEOUT_MS must be a positive number of ms, but got ${process.env.REAL_MODEL_TIMEOUT_MS}`,
    );
    process.exit(2);
  }
  // The platform's own log only when asked for: the report is the output.
  const logger = createLogger(process.env.LOG_LEVEL ?? 'silent');
  const graph = await openGraph(config, () => {});
  console.log(
    `Checking ${config.llm.provider} model ${config.llm.model}${config.llm.baseUrl ? ` at ${withoutCredentials(config.llm.baseUrl)}` : ''} (each step may take minutes on a CPU)`,
  );
  const line = (c: SmokeCheck) =>
    console.log(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(22)} ${c.detail}`);
  let checks: SmokeCheck[];
  try {
    checks = await runSmoke({ config, graph, logger, timeoutMs, report: line });
  } finally {
    await graph.close();
  }
  const failed = checks.filter((c) => !c.ok).length;
  console.log(
    failed === 0
      ? `All ${checks.length} checks passed.`
      : `${failed} of ${checks.length} checks failed.`,
  );
  process.exit(failed === 0 ? 0 : 1);
}

runEntry(main);
