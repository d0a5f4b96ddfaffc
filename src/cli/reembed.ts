import { openGraph } from './bootstrap.js';
import { loadConfig } from '../config/config.js';
import { runEntry } from './entry.js';
import { createLogger } from '../logger.js';
import { tenantById } from '../../graph/auth.repository.js';
import { countFailedEpisodes } from '../../graph/memory/retry.repository.js';
import { ensureVectorIndexes } from '../../graph/memory/vector.repository.js';
import { createEmbedder } from '../memory/embeddings/embedder.js';
import { reembed, type ReembedProgress } from '../memory/embeddings/reembed.js';

/** A progress bar on a terminal, a plain line per tenth otherwise (logs, CI). */
function progressPrinter(tty: boolean) {
  let lastTenth = -1;
  return (p: ReembedProgress) => {
    const share = p.total === 0 ? 1 : Math.min(1, p.done / p.total);
    if (tty) {
      const width = 30;
      const filled = Math.round(share * width);
      const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
      process.stdout.write(`\r${p.label.padEnd(8)} ${bar} ${p.done}/${p.total}`);
      if (p.done >= p.total) process.stdout.write('\n');
      return;
    }
    const tenth = Math.floor(share * 10);
    if (p.done === 0) lastTenth = -1;
    if (tenth !== lastTenth || p.done >= p.total) {
      lastTenth = tenth;
      console.log(`${p.label}: ${p.done}/${p.total} embedded`);
    }
  };
}

/**
 * `npm run memory:reembed [-- --tenant <id>]`: gives every Entity, Fact and Episode the
 * configured embedder's vector where it is missing (after switching models, or for nodes
 * written while no model was available). Stop it any time; run it again to resume. It ends
 * by counting FAILED episodes: vectors do not give them the facts their ingestion missed.
 */
/** The arguments: `--tenant <id>` or none. Anything else exits 2, before any database work. */
function parseArgs(args: string[]): { tenantId: string | undefined } {
  const usage = 'usage: npm run memory:reembed [-- --tenant <id>]';
  const refuse = (why: string): never => {
    console.error(`${why}\n${usage}`);
    process.exit(2);
  };
  let tenantId: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== '--tenant') refuse(`unknown argument "${args[i]}"`);
    const id = args[++i];
    // Without an id the old CLI re-embedded every tenant's memory.
    if (!id || id.startsWith('--')) refuse('--tenant needs a tenant id');
    tenantId = id;
  }
  return { tenantId };
}

async function main(): Promise<void> {
  const { tenantId } = parseArgs(process.argv.slice(2));
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const graph = await openGraph(config, (line) => logger.info(line));
  try {
    // A mistyped id would otherwise report "Done: 0 ... embedded", as if all were done.
    if (tenantId && !(await graph.read((tx) => tenantById(tx, tenantId)))) {
      console.error(`no tenant "${tenantId}": give the id of an existing tenant, or no --tenant`);
      process.exitCode = 2;
      return;
    }
    const embedder = await createEmbedder(config.embeddings, { log: logger, fetchIfMissing: true });
    await ensureVectorIndexes(graph, embedder);
    console.log(`Embedding with ${embedder.id}${embedder.offline ? ' (offline)' : ''}`);
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    const counts = await reembed(graph, embedder, {
      tenantId,
      signal: controller.signal,
      onProgress: progressPrinter(Boolean(process.stdout.isTTY)),
    }).catch((err: unknown) => {
      if (!controller.signal.aborted) throw err;
      console.log(
        '\nStopped; what was embedded is kept: run npm run memory:reembed again to resume',
      );
      process.exitCode = 130;
      return undefined;
    });
    if (!counts) return;
    console.log(
      `Done: ${counts.Entity} entities, ${counts.Fact} facts, ${counts.Episode} episodes embedded`,
    );
    // Vectors are all this adds: an episode FAILED by an outage still has no facts.
    const failed = await graph.read((tx) => countFailedEpisodes(tx, tenantId));
    if (failed > 0) {
      const [n, them] = failed === 1 ? ['1 episode', 'it'] : [`${failed} episodes`, 'them'];
      console.log(
        `${n} FAILED ingestion, so nothing was learnt from ${them}: take ${them} back with the ` +
          'retryEpisodes mutation (README, Memory ingestion)',
      );
    }
  } finally {
    await graph.close();
  }
}

runEntry(main);
