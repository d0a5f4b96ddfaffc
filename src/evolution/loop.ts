import type { PubSub } from '../../subscriptions/pubsub.js';
import type { BudgetDefaults } from '../domain/budget.js';
import type { LlmConfig } from '../llm/config.js';
import type { Logger } from '../logger.js';
import type { UnitOfWork } from '../services/unit-of-work.js';
import type { EvolutionConfig } from './config.js';

/** What every pass of the learning loop gets. */
export interface EvolutionContext {
  uow: UnitOfWork;
  logger: Logger;
  llm: LlmConfig;
  pubsub?: PubSub;
  budgets?: BudgetDefaults;
  /** Serve only these tenants (a dedicated worker); null for all. */
  tenantIds: string[] | null;
  /** The loop's settings, where each pass reads its knobs; absent: DEFAULT_EVOLUTION. */
  config?: EvolutionConfig;
}

/**
 * One job of the learning loop (lesson lifecycle, canary decisions, spawning, ...). The contract:
 * - `run` looks at the graph as it is and changes it in its own transactions; it must be
 *   idempotent and safe when several processes run it at once (decide with conditional writes,
 *   e.g. `WHERE v.status = 'CANDIDATE'`, so two processes cannot both promote);
 * - it bounds its own work per run (a page of subjects), so one tick stays short; what is left
 *   waits for the next tick;
 * - it honours `signal` between subjects (the process is stopping), and never throws for one bad
 *   subject: it logs it and goes on. A pass that throws is logged; the other passes still run.
 * - it publishes its events after its transaction commits (the `emit` of UnitOfWork.write).
 */
export interface EvolutionPass {
  name: string;
  run(ctx: EvolutionContext, signal: AbortSignal): Promise<void>;
}

/**
 * The learning loop: every `intervalMs` it runs its passes one after another. It runs wherever
 * the engine runs (the API, `npm run worker`); EVOLUTION=off leaves it out.
 */
export class EvolutionLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(
    private readonly ctx: EvolutionContext,
    private readonly passes: readonly EvolutionPass[],
    private readonly config: Pick<EvolutionConfig, 'intervalMs'>,
  ) {}

  start(): void {
    if (this.timer || this.stopping.signal.aborted) return;
    const schedule = () => {
      this.timer = setTimeout(() => {
        this.running = this.tick().finally(() => {
          if (!this.stopping.signal.aborted) schedule();
        });
      }, this.config.intervalMs);
    };
    schedule();
  }

  /** Runs every pass once, in order; tests call it to drive the loop without waiting. */
  async tick(): Promise<void> {
    for (const pass of this.passes) {
      if (this.stopping.signal.aborted) return;
      try {
        await pass.run(this.ctx, this.stopping.signal);
      } catch (err) {
        this.ctx.logger.warn(
          { err, pass: pass.name },
          'a learning pass failed; the next tick retries',
        );
      }
    }
  }

  /** Stops ticking; a tick in progress stops between subjects. */
  async stop(_options: { abort?: boolean } = {}): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    await this.running;
  }
}
