import { randomUUID } from 'node:crypto';
import { generateApiKey } from '../src/auth/keys.js';
import { evolutionFromConfig, schedulerFromConfig } from '../src/engine/start.js';
import type { EvolutionLoop } from '../src/evolution/loop.js';
import type { ApiSurface } from './evolution-api.js';
import { probeApi } from './evolution-api.js';
import { Api, sleep, type Arm, type EvolutionBench } from './evolution-context.js';
import type { EvolutionEnv, Judgement, Outcome, TaskSpec } from './evolution-env.js';
import {
  evolutionCounts,
  lessonList,
  type EvolutionCounts,
  type LessonRow,
} from './evolution-queries.js';

/** The organisation each arm starts with: one Chief of Staff, four operators. */
export const OPERATORS: { name: string; capabilities: string[] }[] = [
  { name: 'Operator A', capabilities: ['research', 'writing'] },
  { name: 'Operator B', capabilities: ['writing', 'analysis'] },
  { name: 'Operator C', capabilities: ['analysis', 'research'] },
  { name: 'Operator D', capabilities: ['research', 'writing', 'analysis'] },
];

export interface RoundResult {
  round: number;
  n: number;
  successes: number;
  scoreSum: number;
  /** Tasks whose result met the hidden rule. */
  met: number;
  /** Tasks that did not end COMPLETED in time. */
  unfinished: number;
  /** Per family: [tasks, successes]. */
  families: Record<string, [number, number]>;
  /** Lessons ACTIVE + CANDIDATE after the round's learning ticks (the learning arm). */
  lessons: { active: number; candidate: number; retired: number } | null;
  seconds: number;
}

export interface ArmResult {
  arm: Arm;
  seed: number;
  tenantId: string;
  rounds: RoundResult[];
  counts: EvolutionCounts;
  lessons: LessonRow[];
  surface: ApiSurface;
  /** Learning ticks: how many, total seconds. */
  ticks: { n: number; seconds: number };
  /** Ratings the API refused, with the first message. */
  ratingErrors: { n: number; first: string | null };
  /** An example of what a task produced (the last round's first task), for the output. */
  example: string | null;
}

interface WorkflowTask {
  id: string;
  key: string | null;
  status: string;
  result: string | null;
  requiredCapabilities: string[];
  runs: { id: string; status: string; agent: { name: string } | null }[];
}

/** A step's report as the user rates it: the run that wrote it, its text, who wrote it. */
interface Report {
  runId: string;
  text: string;
  agent: string | null;
  capability: string | null;
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']);
const ENDED = new Set(['SUCCEEDED', 'FAILED']);

/**
 * One arm of one seed: a tenant of its own (so the arms share no lessons), the same agents, K
 * rounds of M tasks through the API; after each round the user's ratings go back through
 * rateTask, and the learning arm ticks the learning loop (all of EVOLUTION_PASSES).
 */
export async function runArm(
  b: EvolutionBench,
  env: EvolutionEnv,
  seed: number,
  arm: Arm,
  runId: string,
  onRound: (label: string) => void,
): Promise<ArmResult> {
  const tenantId = `bench-evolution-${runId}-s${seed}-${arm}`;
  b.tenants.push(tenantId);
  const key = generateApiKey();
  await b.server.services.auth.ensureAdminKey(tenantId, key, 'bench:evolution');
  const api = new Api(b.server.url, key);
  const surface = await probeApi(api);
  await api.gql(
    `mutation($inputs: [CreateAgentInput!]!) { createAgents(inputs: $inputs) { id } }`,
    {
      inputs: [
        { name: 'Chief of Staff', role: 'CHIEF_OF_STAFF' },
        ...OPERATORS.map((o) => ({
          name: o.name,
          role: 'MASTER_OPERATOR',
          capabilities: o.capabilities.map((name) => ({ name, proficiency: 0.5 })),
        })),
      ],
    },
  );
  const deps = {
    uow: b.server.services.uow,
    logger: b.logger,
    pubsub: b.server.pubsub,
    tenantIds: [tenantId],
  };
  const scheduler = schedulerFromConfig(
    {
      llm: b.llm,
      budgets: b.config.budgets,
      // The agents' real chains; a short poll so that rounds are not mostly waiting.
      engine: {
        ...b.config.engine,
        executor: 'agents',
        pollMs: 50,
        concurrency: 8,
        perAgentLimit: 8,
      },
    },
    { ...deps, workerId: `bench-${arm}-${seed}-${randomUUID().slice(0, 6)}` },
  );
  const loop: EvolutionLoop | undefined =
    arm === 'on'
      ? evolutionFromConfig(
          {
            evolution: { ...b.config.evolution, enabled: true },
            llm: b.llm,
            budgets: b.config.budgets,
          },
          deps,
        )
      : undefined;
  scheduler.start();
  const rounds: RoundResult[] = [];
  const ticks = { n: 0, seconds: 0 };
  const ratingErrors = { n: 0, first: null as string | null };
  let example: string | null = null;
  try {
    for (let round = 0; round < b.options.rounds; round++) {
      const started = performance.now();
      const specs = env.tasksFor(round, b.options.tasks);
      const ids: string[] = [];
      for (const spec of specs) {
        const input: Record<string, string> = { title: spec.title, description: spec.description };
        if (surface.submitFamily) input.family = spec.family.family;
        const data = await api.gql<{ submitTask: { id: string } }>(
          `mutation($input: SubmitTaskInput!) { submitTask(input: $input) { id } }`,
          { input },
        );
        ids.push(data.submitTask.id);
      }
      const statuses = await waitForRoots(api, ids, b.options.roundTimeoutMs);
      const result: RoundResult = {
        round,
        n: specs.length,
        successes: 0,
        scoreSum: 0,
        met: 0,
        unfinished: 0,
        families: {},
        lessons: null,
        seconds: 0,
      };
      for (const [i, spec] of specs.entries()) {
        const outcome = await outcomeOf(api, ids[i]!, statuses.get(ids[i]!) ?? 'PENDING');
        const j = env.judge(spec, outcome);
        if (round === b.options.rounds - 1 && i === 0) {
          example = [...new Set(outcome.texts)].join('\n---\n');
        }
        tally(result, spec, j, outcome);
        // The user rates the answer (what the bench counts) and each step's report on its own
        // (env.judgeReport): reflection and efficacy read runs, so each run gets its own credit.
        const refused = (err: Error) => {
          ratingErrors.n++;
          ratingErrors.first ??= err.message;
        };
        if (statuses.get(ids[i]!) && TERMINAL.has(statuses.get(ids[i]!)!)) {
          await surface.rateTask?.(ids[i]!, j.score, j.comment).catch(refused);
        }
        for (const [k, report] of outcome.reports.entries()) {
          const r = env.judgeReport(spec, k, report);
          await surface.rateRun?.(report.runId, r.score, r.comment).catch(refused);
        }
      }
      if (loop) {
        const t0 = performance.now();
        for (let t = 0; t < b.options.ticks; t++) await loop.tick();
        ticks.n += b.options.ticks;
        ticks.seconds += (performance.now() - t0) / 1000;
        const counts = await evolutionCounts(b.graph, tenantId);
        const { active, candidate, retired } = counts.lessons;
        result.lessons = { active, candidate, retired };
      }
      result.seconds = (performance.now() - started) / 1000;
      rounds.push(result);
      onRound(
        `seed ${seed}, learning ${arm}, round ${round + 1}: ${result.successes}/${result.n} passed`,
      );
    }
  } finally {
    await scheduler.stop({ abort: true });
    await loop?.stop({ abort: true });
  }
  return {
    arm,
    seed,
    tenantId,
    rounds,
    counts: await evolutionCounts(b.graph, tenantId),
    lessons: await lessonList(b.graph, tenantId),
    surface,
    ticks,
    ratingErrors,
    example,
  };
}

function tally(r: RoundResult, spec: TaskSpec, j: Judgement, o: Outcome): void {
  const fam = (r.families[spec.family.name] ??= [0, 0]);
  fam[0]++;
  if (j.success) {
    r.successes++;
    fam[1]++;
  }
  if (j.met) r.met++;
  if (!o.completed) r.unfinished++;
  r.scoreSum += j.score;
}

/** Polls the roots until every one is terminal or the round's time is up. */
async function waitForRoots(
  api: Api,
  ids: string[],
  timeoutMs: number,
): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const id of ids) {
      if (TERMINAL.has(statuses.get(id) ?? '')) continue;
      const data = await api.gql<{ task: { status: string } }>(
        `query($id: ID!) { task(id: $id) { status } }`,
        { id },
      );
      statuses.set(id, data.task.status);
    }
    if (ids.every((id) => TERMINAL.has(statuses.get(id) ?? ''))) break;
    await sleep(200);
  }
  return statuses;
}

/** What a user sees of a task: its answer and its steps' reports, and who did each step. */
async function outcomeOf(
  api: Api,
  rootId: string,
  status: string,
): Promise<Outcome & { reports: Report[] }> {
  const data = await api.gql<{ workflow: { tasks: WorkflowTask[] } }>(
    `query($id: ID!) { workflow(taskId: $id) { tasks { id key status result requiredCapabilities
       runs { id status agent { name } } } } }`,
    { id: rootId },
  );
  const tasks = data.workflow.tasks;
  const root = tasks.find((t) => t.id === rootId);
  // The run of each step whose report the user read: its successful one, else its last.
  const ran = tasks
    .filter((t) => t.id !== rootId && t.key !== 'synthesis')
    .map((s) => ({
      step: s,
      run: [...s.runs].reverse().find((r) => r.status === 'SUCCEEDED') ?? s.runs.at(-1),
    }));
  return {
    completed: status === 'COMPLETED',
    texts: [root?.result ?? '', ...tasks.filter((t) => t.id !== rootId).map((t) => t.result ?? '')],
    reports: ran.flatMap(({ step, run }) =>
      run && ENDED.has(run.status)
        ? [
            {
              runId: run.id,
              text: step.result ?? '',
              agent: run.agent?.name ?? null,
              capability: step.requiredCapabilities[0] ?? null,
            },
          ]
        : [],
    ),
    steps: ran.flatMap(({ step, run }) =>
      run?.agent
        ? [{ agent: run.agent.name, capability: step.requiredCapabilities[0] ?? null }]
        : [],
    ),
  };
}
