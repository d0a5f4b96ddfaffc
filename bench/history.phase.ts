import { AgentRole } from '../src/domain/agent.js';
import { AGENTS, range, type Bench } from './context.js';
import { runEngine } from './engine.phase.js';
import { deleteTenantInBatches, tenantSize } from './queries.js';
import { int } from './stats.js';

/** The tenant that holds the engine's history, kept between runs. */
export const HISTORY_TENANT = 'bench-orchestration-history';
const DAG = 1_000;

/**
 * A database with a history, as a deployment has: `steps` completed steps (whole workflows of
 * 1,000) of the engine's own workflows in a tenant of their own, made by the engine on the
 * first run and reused after. On an empty database the benchmark's own steps were most of what
 * Neo4j's statistics counted, so every few seconds they moved by more than its replan
 * threshold and it threw its plans away and compiled them again: about 350 plans in three
 * runs, most of Neo4j's CPU during the DAGs (a JFR profile). `steps` 0 makes none.
 */
export async function ensureHistory(b: Bench, steps: number): Promise<void> {
  if (steps <= 0) return;
  const { tasks } = await tenantSize(b.graph, HISTORY_TENANT);
  const workflows = Math.ceil(steps / DAG);
  // Each workflow is its steps and a root.
  const whole = workflows * (DAG + 1);
  if (tasks === whole) {
    console.log(`History: ${int(tasks)} tasks of tenant ${HISTORY_TENANT}, reused.`);
    return;
  }
  if (tasks > 0) {
    console.log(`History: tenant ${HISTORY_TENANT} is partial (${int(tasks)} tasks); deleting it.`);
    await deleteTenantInBatches(b.graph, HISTORY_TENANT);
  }
  console.log(
    `History: the engine runs ${workflows} workflow(s) of ${int(DAG)} steps in tenant ` +
      `${HISTORY_TENANT} (once)...`,
  );
  const agents = await b.services.agents.createMany(
    HISTORY_TENANT,
    range(AGENTS).map((i) => ({ name: `bench agent ${i + 1}`, role: AgentRole.MASTER_OPERATOR })),
  );
  const history: Bench = { ...b, tenantId: HISTORY_TENANT, agentIds: agents.map((a) => a.id) };
  try {
    for (let done = 0; done < steps; done += DAG) {
      const run = await runEngine(history, DAG);
      console.log(
        `  history: ${int(done + DAG)}/${int(steps)} steps (${int(run.n / run.seconds)}/s)`,
      );
    }
  } finally {
    await Promise.all(history.schedulers.map((s) => s.stop({ abort: true })));
    b.warnings.length = 0;
  }
}
