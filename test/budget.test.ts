import { describe, expect, it } from 'vitest';
import { BudgetScope, judgeBudget, type BudgetState } from '../src/domain/budget.js';
import { loadConfig } from '../src/config/config.js';
import { BudgetExceededError } from '../src/llm/budget.js';

const state = (over: Partial<BudgetState> = {}): BudgetState => ({
  scope: BudgetScope.TASK,
  targetId: 't',
  limit: { usd: null, tokens: 1000 },
  spent: { usd: 0, tokens: 0 },
  warned: { usd: null, tokens: null },
  ...over,
});

describe('the budget verdict before a model call', () => {
  it('lets a call through while spent plus its estimated prompt stays within the token limit', () => {
    expect(judgeBudget(state({ spent: { usd: 0, tokens: 700 } }), 300, 0.8).exceeded).toBeNull();
    expect(judgeBudget(state({ spent: { usd: 0, tokens: 700 } }), 301, 0.8).exceeded).toBe(
      'tokens',
    );
  });

  it('says whether the limit is reached or only the call’s prompt would pass it', () => {
    const under = state({ spent: { usd: 0, tokens: 700 } });
    expect(new BudgetExceededError(under, 'tokens', 0, 400).message).toContain(
      'the task budget of 1000 tokens for t would be passed by this call (spent 700 tokens, and about 400 for its prompt)',
    );
    const at = state({ spent: { usd: 0, tokens: 1000 } });
    expect(new BudgetExceededError(at, 'tokens', 0, 400).message).toContain(
      'the task budget of 1000 tokens for t is reached (spent 1000 tokens)',
    );
  });

  it('refuses once spending has reached a USD limit', () => {
    const s = state({ limit: { usd: 1, tokens: null }, spent: { usd: 1, tokens: 5 } });
    expect(judgeBudget(s, 0, 0.8).exceeded).toBe('usd');
    expect(judgeBudget({ ...s, spent: { usd: 0.99, tokens: 5 } }, 10_000, 0.8).exceeded).toBeNull();
  });

  it('warns once per limit, from the warning share on', () => {
    const s = state({ spent: { usd: 0, tokens: 800 } });
    expect(judgeBudget({ ...s, spent: { usd: 0, tokens: 799 } }, 0, 0.8).warn).toEqual([]);
    expect(judgeBudget(s, 0, 0.8).warn).toEqual(['tokens']);
    expect(judgeBudget({ ...s, warned: { usd: null, tokens: 1000 } }, 0, 0.8).warn).toEqual([]);
    // A new limit warns again.
    expect(
      judgeBudget(
        { ...s, limit: { usd: null, tokens: 900 }, warned: { usd: null, tokens: 1000 } },
        0,
        0.8,
      ).warn,
    ).toEqual(['tokens']);
  });

  it('has no limits by default, and reads BUDGET_* from the environment', () => {
    expect(loadConfig({}).budgets).toMatchObject({
      tenant: { usd: null, tokens: null },
      warnShare: 0.8,
    });
    const b = loadConfig({
      BUDGET_TASK_TOKENS: '5000',
      BUDGET_TENANT_USD: '2.5',
      BUDGET_WARN_SHARE: '0.5',
    }).budgets;
    expect(b).toMatchObject({
      task: { usd: null, tokens: 5000 },
      tenant: { usd: 2.5, tokens: null },
      warnShare: 0.5,
    });
    expect(() => loadConfig({ BUDGET_AGENT_TOKENS: '-1' })).toThrow(/BUDGET_AGENT_TOKENS/);
  });
});
