/**
 * The data of `npm run bench:api`: one tenant per scale (`bench-api-<agents>x<tasks>`), written
 * through the services, as a client's createAgents/createTasks would, in batches of 100 with a
 * progress line. A tenant that is already whole is reused; a partial one (a run stopped while
 * seeding) is deleted and seeded again.
 *
 * Each agent has 3 of 12 capabilities. Tasks come in groups of four, each assigned round-robin
 * over the agents: a root and its three subtasks, the third depending on the second and the
 * second on the first, and each root but a batch's first depending on the root before it.
 */
import type { Graph } from '../graph/graph.js';
import { AgentRole } from '../src/domain/agent.js';
import type { Services } from '../src/services/index.js';
import type { CreateStepData } from '../src/services/task.service.js';
import { now } from './probe.js';
import { deleteTenantInBatches, tenantSize } from './queries.js';
import { int } from './stats.js';

export interface Scale {
  agents: number;
  tasks: number;
}

const BATCH = 100;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export const scaleTenant = (s: Scale) => `bench-api-${s.agents}x${s.tasks}`;

/** Parses "1000x20000,10000x200000". */
export function parseScales(text: string): Scale[] {
  return text.split(',').map((part) => {
    const match = /^(\d+)x(\d+)$/.exec(part.trim());
    if (!match || Number(match[2]) % BATCH !== 0) {
      throw new Error(
        `BENCH_API_SCALES: "${part}" is not <agents>x<tasks> with tasks a multiple of ${BATCH}`,
      );
    }
    return { agents: Number(match[1]), tasks: Number(match[2]) };
  });
}

/** The scale's tenant, seeded unless it is already whole. */
export async function seed(graph: Graph, services: Services, scale: Scale): Promise<string> {
  const tenantId = scaleTenant(scale);
  const found = await tenantSize(graph, tenantId);
  if (found.agents === scale.agents && found.tasks === scale.tasks) {
    console.log(
      `  reusing tenant ${tenantId} (${int(found.agents)} agents, ${int(found.tasks)} tasks)`,
    );
    return tenantId;
  }
  if (found.agents > 0 || found.tasks > 0) {
    console.log(
      `  tenant ${tenantId} is partial (${int(found.agents)} agents, ${int(found.tasks)} tasks): deleting it`,
    );
    await deleteTenantInBatches(graph, tenantId);
  }
  const line = progressLine(`seeding ${tenantId}`, scale.agents + scale.tasks);
  const agentIds: string[] = [];
  for (let i = 0; i < scale.agents; i += BATCH) {
    const agents = await services.agents.createMany(
      tenantId,
      range(Math.min(BATCH, scale.agents - i)).map((k) => ({
        name: `bench agent ${String(i + k).padStart(6, '0')}`,
        role: AgentRole.MASTER_OPERATOR,
        capabilities: range(3).map((c) => ({ name: `skill-${((i + k) * 7 + c) % 12}` })),
      })),
    );
    agentIds.push(...agents.map((a) => a.id));
    line.update(agentIds.length);
  }
  for (let i = 0; i < scale.tasks; i += BATCH) {
    await services.tasks.createMany(tenantId, 'bench', taskBatch(i, agentIds));
    line.update(scale.agents + i + BATCH);
  }
  line.done();
  return tenantId;
}

function taskBatch(first: number, agentIds: string[]): CreateStepData[] {
  return range(BATCH).map((k) => {
    const n = first + k;
    const group = Math.floor(k / 4);
    const position = k % 4;
    const assigneeId = agentIds[n % agentIds.length]!;
    if (position === 0) {
      return {
        key: `r${group}`,
        title: `bench task ${n}`,
        assigneeId,
        dependsOnKeys: group > 0 ? [`r${group - 1}`] : [],
      };
    }
    return {
      key: `r${group}s${position}`,
      title: `bench step ${n}`,
      assigneeId,
      parentKey: `r${group}`,
      dependsOnKeys: position > 1 ? [`r${group}s${position - 1}`] : [],
    };
  });
}

/** One line that rewrites itself on a terminal, and a line per 10% elsewhere. */
function progressLine(label: string, total: number) {
  const started = now();
  const tty = process.stdout.isTTY;
  let lastTenth = -1;
  const text = (done: number) =>
    `  ${label}: ${int(done)}/${int(total)} (${Math.floor((done / total) * 100)}%) ` +
    `${((now() - started) / 1000).toFixed(0)} s`;
  return {
    update(done: number) {
      if (tty) process.stdout.write(`\r${text(done)}`);
      else if (Math.floor((done / total) * 10) > lastTenth) {
        lastTenth = Math.floor((done / total) * 10);
        console.log(text(done));
      }
    },
    done() {
      if (tty) process.stdout.write('\n');
    },
  };
}
