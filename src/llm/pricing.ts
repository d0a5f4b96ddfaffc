/** USD per 1M tokens. */
export interface ModelPrice {
  input: number;
  output: number;
}

/** Prices by model name (LLM_PRICES is merged over DEFAULT_PRICES). */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/**
 * List prices of a few current models (USD per 1M tokens, standard tier) when this was written.
 * Override or extend them with LLM_PRICES; unknown models cost 0 and are flagged unpriced.
 */
export const DEFAULT_PRICES: PriceTable = Object.freeze({
  offline: { input: 0, output: 0 },
  'offline/deterministic-v1': { input: 0, output: 0 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
});

/**
 * The price of `model`: an exact entry, else the name without its provider prefix
 * (`openai/gpt-4o` as OpenRouter names it), else without a date suffix
 * (`gpt-4o-mini-2024-07-18` as OpenAI reports it).
 */
export function priceOf(model: string, table: PriceTable): ModelPrice | undefined {
  const bare = model.slice(model.lastIndexOf('/') + 1);
  const undated = bare.replace(/-\d{4}-\d{2}-\d{2}$/, '');
  for (const name of [model, bare, undated]) {
    if (Object.hasOwn(table, name)) return table[name];
  }
  return undefined;
}

/**
 * The cost of one call in USD. Unknown models cost 0 with `priced: false`, so a report can
 * say "cost unknown" instead of "free". Negative or non-finite token counts count as 0.
 */
export function costUsd(
  model: string,
  promptTokens: number,
  completionTokens: number,
  table: PriceTable,
): { costUsd: number; priced: boolean } {
  const price = priceOf(model, table);
  if (!price) return { costUsd: 0, priced: false };
  const tokens = (n: number) => (Number.isFinite(n) && n > 0 ? n : 0);
  const usd = (tokens(promptTokens) * price.input + tokens(completionTokens) * price.output) / 1e6;
  // Rounded to 1e-10 USD so that sums of many calls do not show float noise.
  return { costUsd: Math.round(usd * 1e10) / 1e10, priced: true };
}
