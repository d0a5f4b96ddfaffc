/**
 * `npm run bench:api`: the same reads through raw Cypher with neo4j-driver (the floor), through
 * this API and through @neo4j/graphql 7 over the same database, at each scale of
 * BENCH_API_SCALES (default 1000x20000,10000x200000: agents x tasks). Not a test (`npm test`
 * does not run it); it prints figures and ratios measured in this run and exits 0 whether or
 * not the goals are met.
 *
 * Both GraphQL servers run in this process over HTTP (this API's startServer; @neo4j/graphql's
 * schema in Apollo's standalone server), and the requests come from a worker thread
 * (api-client.worker.ts), so the servers' thread serves only. Raw Cypher runs on this thread
 * with no HTTP at all: the floor, in the driver's managed read transaction (executeRead: begin,
 * run, commit) as the goals are set against, and as one auto-commit query (one round trip, as
 * this API reads) for comparison. Before timing, each read's three answers are compared. Per read
 * and concurrency (1 and 16): a warm-up of each way, then BENCH_API_REQUESTS requests (default
 * 100 at concurrency 1, 20 per lane at 16) in BENCH_API_ROUNDS rounds (default 5) that take the
 * ways in turn, so a machine whose speed drifts during the run slows every way alike; p50, p99
 * and requests per second over all rounds.
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { Neo4jGraphQL } from '@neo4j/graphql';
import neo4j, { type Driver, type Session } from 'neo4j-driver';
import { generateApiKey } from '../src/auth/keys.js';
import { NEO4J_GRAPHQL_TYPE_DEFS, READS, type Read, type ReadVars, type Way } from './api-reads.js';
import { parseScales, seed, type Scale } from './api-seed.js';
import { openBenchGraph, startBenchServer } from './server.js';
import { tasksWithRelations } from './queries.js';
import { int, ms, percentile, ratio } from './stats.js';

const SCALES = parseScales(process.env.BENCH_API_SCALES ?? '1000x20000,10000x200000');
const CONCURRENCIES = [1, 16];
const requestsAt = (c: number) => Number(process.env.BENCH_API_REQUESTS ?? (c === 1 ? 100 : 320));
const ROUNDS = Number(process.env.BENCH_API_ROUNDS ?? 5);
/** The ways whose answers are compared. */
const WAYS: Way[] = ['raw', 'api', 'neo4jGraphql'];
/** The ways timed: raw Cypher also as one auto-commit query. */
type Timed = Way | 'rawAutoCommit';
const TIMED: Timed[] = ['raw', 'rawAutoCommit', 'api', 'neo4jGraphql'];
const WAY_NAMES: Record<Timed, string> = {
  raw: 'raw Cypher',
  rawAutoCommit: 'raw auto-commit',
  api: 'this API',
  neo4jGraphql: '@neo4j/graphql',
};

interface Cell {
  scale: Scale;
  read: string;
  concurrency: number;
  way: Timed;
  p50: number;
  p99: number;
  perSecond: number;
}

async function main(): Promise<void> {
  const { settings, graph } = await openBenchGraph();
  const driver = neo4j.driver(settings.uri, neo4j.auth.basic(settings.user, settings.password), {
    disableLosslessIntegers: true,
  });
  const server = await startBenchServer(graph);
  const other = await startNeo4jGraphql(driver);
  const client = new Worker(new URL('./api-client.worker.ts', import.meta.url), {
    execArgv: ['--import', 'tsx'],
  });
  console.log(
    `API benchmark: scales ${SCALES.map((s) => `${int(s.agents)} agents/${int(s.tasks)} tasks`).join(', ')}; ` +
      `concurrency ${CONCURRENCIES.join(' and ')}; ways: ${TIMED.map((w) => WAY_NAMES[w]).join(', ')}; ` +
      `${ROUNDS} rounds taking the ways in turn`,
  );
  const cells: Cell[] = [];
  try {
    for (const scale of SCALES) {
      console.log(`\n== ${int(scale.agents)} agents, ${int(scale.tasks)} tasks ==`);
      const tenantId = await seed(graph, server.services, scale);
      const key = generateApiKey();
      await server.services.auth.ensureAdminKey(tenantId, key, `bench ${randomUUID()}`);
      const taskIds = await tasksWithRelations(graph, tenantId, 1_000);
      if (taskIds.length === 0) throw new Error(`tenant ${tenantId} has no task to read`);
      const varsFor = (n: number): ReadVars[] =>
        Array.from({ length: n }, () => ({
          tenantId,
          taskId: taskIds[Math.floor(Math.random() * taskIds.length)]!,
        }));
      const ways: Record<Timed, (vars: ReadVars[], c: number, read: Read) => Promise<Run>> = {
        raw: (vars, c, read) => rawRequests(driver, settings.database, read, vars, c, false),
        rawAutoCommit: (vars, c, read) =>
          rawRequests(driver, settings.database, read, vars, c, true),
        api: (vars: ReadVars[], c: number, read: Read) =>
          httpRequests(client, server.url, { authorization: `Bearer ${key}` }, read.api, vars, c),
        neo4jGraphql: (vars: ReadVars[], c: number, read: Read) =>
          httpRequests(client, other.url, {}, read.neo4jGraphql, vars, c),
      };
      for (const read of READS) {
        console.log(`\n${read.name}`);
        await sameData(read, driver, settings.database, server.url, key, other.url, varsFor(1)[0]!);
        for (const concurrency of CONCURRENCIES) {
          const timed = (way: Timed, n: number) => ways[way](varsFor(n), concurrency, read);
          for (const way of TIMED) await timed(way, Math.max(20, concurrency * 2)); // warm-up
          const runs = new Map(TIMED.map((way) => [way, { latencies: [] as number[], wallMs: 0 }]));
          for (let round = 0; round < ROUNDS; round++) {
            for (const way of TIMED) {
              const run = await timed(way, Math.ceil(requestsAt(concurrency) / ROUNDS));
              runs.get(way)!.latencies.push(...run.latencies);
              runs.get(way)!.wallMs += run.wallMs;
            }
          }
          for (const way of TIMED) {
            const { latencies, wallMs } = runs.get(way)!;
            const cell = {
              scale,
              read: read.name,
              concurrency,
              way,
              p50: percentile(latencies, 50),
              p99: percentile(latencies, 99),
              perSecond: (latencies.length / wallMs) * 1000,
            };
            cells.push(cell);
            console.log(
              `  concurrency ${String(concurrency).padStart(2)}, ${WAY_NAMES[way].padEnd(15)} ` +
                `p50 ${ms(cell.p50).padStart(9)}, p99 ${ms(cell.p99).padStart(9)}, ` +
                `${cell.perSecond.toFixed(1)} requests/s`,
            );
          }
        }
      }
    }
    summary(cells);
  } finally {
    await client.terminate();
    await other.stop();
    await server.close();
    await driver.close();
    await graph.close();
  }
}

async function startNeo4jGraphql(driver: Driver) {
  const schema = await new Neo4jGraphQL({ typeDefs: NEO4J_GRAPHQL_TYPE_DEFS, driver }).getSchema();
  const apollo = new ApolloServer({ schema });
  const { url } = await startStandaloneServer(apollo, { listen: { host: '127.0.0.1', port: 0 } });
  return { url, stop: () => apollo.stop() };
}

interface Run {
  latencies: number[];
  wallMs: number;
}

/**
 * Raw Cypher on this thread, `concurrency` sessions at a time: in a managed read transaction,
 * or with `autoCommit` as one auto-commit query (the session stands in for the transaction).
 */
async function rawRequests(
  driver: Driver,
  database: string,
  read: Read,
  vars: ReadVars[],
  concurrency: number,
  autoCommit: boolean,
): Promise<Run> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < vars.length) {
      const v = vars[next++]!;
      const sent = performance.now();
      const session = driver.session({ database, defaultAccessMode: neo4j.session.READ });
      try {
        await read.raw(autoCommit ? asAutoCommit(session) : session, v);
      } finally {
        await session.close();
      }
      latencies.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { latencies, wallMs: performance.now() - started };
}

/** `session` whose executeRead runs its work's statements as auto-commit queries. */
const asAutoCommit = (session: Session) =>
  ({
    executeRead: <T>(work: (tx: Session) => Promise<T>) => work(session),
  }) as unknown as Session;

/** GraphQL over HTTP from the client thread. */
function httpRequests(
  client: Worker,
  url: string,
  headers: Record<string, string>,
  op: Read['api'],
  vars: ReadVars[],
  concurrency: number,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    client.once('message', (m: { latencies: number[]; wallMs: number; error?: string }) =>
      m.error ? reject(new Error(`${url}: ${m.error}`)) : resolve(m),
    );
    client.postMessage({
      url,
      headers,
      query: op.query,
      variables: vars.map((v) => op.variables(v)),
      concurrency,
    });
  });
}

/** Compares the three ways' answers to one request; a difference is printed, not fatal. */
async function sameData(
  read: Read,
  driver: Driver,
  database: string,
  apiUrl: string,
  key: string,
  otherUrl: string,
  v: ReadVars,
): Promise<void> {
  const post = async (url: string, headers: Record<string, string>, op: Read['api']) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: op.query, variables: op.variables(v) }),
    });
    const body = (await res.json()) as { data?: unknown; errors?: unknown };
    if (body.errors) throw new Error(`${url}: ${JSON.stringify(body.errors).slice(0, 500)}`);
    return body.data;
  };
  const session = driver.session({ database, defaultAccessMode: neo4j.session.READ });
  const answers = {
    raw: await read.raw(session, v).finally(() => session.close()),
    api: await post(apiUrl, { authorization: `Bearer ${key}` }, read.api),
    neo4jGraphql: await post(otherUrl, {}, read.neo4jGraphql),
  };
  const [first, ...rest] = WAYS.map((w) => JSON.stringify(read.normalise(w, answers[w])));
  const same = rest.every((text) => text === first);
  console.log(
    same
      ? `  the three ways return the same data (${first!.length} characters)`
      : `  THE ANSWERS DIFFER:\n${WAYS.map((w) => `    ${WAY_NAMES[w]}: ${JSON.stringify(read.normalise(w, answers[w])).slice(0, 300)}`).join('\n')}`,
  );
}

function summary(cells: Cell[]): void {
  console.log(
    '\n== Summary: this API against @neo4j/graphql and raw Cypher, measured in this run ==',
  );
  console.log(
    'goals: p50 <= 1.0x @neo4j/graphql and <= 1.5x raw at concurrency 1; requests/s >= @neo4j/graphql at 16',
  );
  const find = (c: Omit<Cell, 'p50' | 'p99' | 'perSecond' | 'way'>, way: Timed) =>
    cells.find(
      (x) =>
        x.scale === c.scale &&
        x.read === c.read &&
        x.concurrency === c.concurrency &&
        x.way === way,
    )!;
  for (const cell of cells.filter((c) => c.way === 'api')) {
    const raw = find(cell, 'raw');
    const auto = find(cell, 'rawAutoCommit');
    const other = find(cell, 'neo4jGraphql');
    console.log(
      `${int(cell.scale.agents)}/${int(cell.scale.tasks)}, c${cell.concurrency}, ${cell.read}: ` +
        `p50 ${ms(raw.p50)} / ${ms(auto.p50)} / ${ms(cell.p50)} / ${ms(other.p50)} ` +
        `(raw / raw auto-commit / API / @neo4j/graphql); ` +
        `API ${ratio(cell.p50, other.p50)} of @neo4j/graphql, ${ratio(cell.p50, raw.p50)} of raw ` +
        `(${ratio(cell.p50, auto.p50)} of raw auto-commit); ` +
        `requests/s ${cell.perSecond.toFixed(1)} vs ${other.perSecond.toFixed(1)} ` +
        `(${ratio(cell.perSecond, other.perSecond)})`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
