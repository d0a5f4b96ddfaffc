/** USD per 1M tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  /**
   * Prompt tokens read from the provider's prompt cache; CACHED_INPUT_SHARE of `input` when
   * unset (OpenAI's discount on the gpt-4o family).
   */
  cachedInput?: number;
}

/** Prices by model name (LLM_PRICES is merged over DEFAULT_PRICES). */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/** The cached-input price as a share of the input price, for entries that name none. */
export const CACHED_INPUT_SHARE = 0.5;

/**
 * List prices of a few current models (USD per 1M tokens, standard tier) when this was written.
 * Override or extend them with LLM_PRICES; unknown models cost 0 and are flagged unpriced.
 */
export const DEFAULT_PRICES: PriceTable = Object.freeze({
  offline: { input: 0, output: 0 },
  'offline/deterministic-v1': { input: 0, output: 0 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075 },
  'gpt-4o': { input: 2.5, output: 10, cachedInput: 1.25 },
  'gpt-4.1': { input: 2, output: 8, cachedInput: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cachedInput: 0.025 },
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

/** Token counts of one call; `cached` is the part of `prompt` read from the prompt cache. */
export interface CallTokens {
  prompt: number;
  completion: number;
  cached?: number;
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
  const { costUsd: usd, priced } = priceCall(
    [model],
    { prompt: promptTokens, completion: completionTokens },
    table,
  );
  return { costUsd: usd, priced };
}

/**
 * The cost of one call in USD, priced by the first of `models` the table knows: pass the model
 * the server reported first, then the one configured (a local server reports its weights file,
 * which LLM_PRICES keyed by LLM_MODEL never names). Unknown models cost 0 with `priced: false`.
 * Cached prompt tokens are priced at `cachedInput`; negative or non-finite counts count as 0,
 * and cached tokens beyond the prompt's count as prompt tokens.
 */
export function priceCall(
  models: readonly (string | null | undefined)[],
  tokens: CallTokens,
  table: PriceTable,
): { costUsd: number; priced: boolean; pricedAs: string | null } {
  let price: ModelPrice | undefined;
  let pricedAs: string | null = null;
  for (const name of models) {
    price = name ? priceOf(name, table) : undefined;
    if (price) {
      pricedAs = name!;
      break;
    }
  }
  if (!price) return { costUsd: 0, priced: false, pricedAs: null };
  const n = (v: number | undefined) => (v !== undefined && Number.isFinite(v) && v > 0 ? v : 0);
  const prompt = n(tokens.prompt);
  const cached = Math.min(n(tokens.cached), prompt);
  const cachedPrice =
    typeof price.cachedInput === 'number' && Number.isFinite(price.cachedInput)
      ? Math.max(0, price.cachedInput)
      : price.input * CACHED_INPUT_SHARE;
  const usd =
    ((prompt - cached) * price.input + cached * cachedPrice + n(tokens.completion) * price.output) /
    1e6;
  // Rounded to 1e-10 USD so that sums of many calls do not show float noise.
  return { costUsd: Math.round(usd * 1e10) / 1e10, priced: true, pricedAs };
}
