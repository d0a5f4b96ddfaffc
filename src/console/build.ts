import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from '../logger.js';
import { CONSOLE_DIST } from './route.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Whether the API can serve the console, and if not, why (said at start). */
export type ConsoleBuild = { available: true } | { available: false; reason: string };

/**
 * Builds the console when its build output is missing (npm start on a fresh clone): the typed
 * documents first (graphql-codegen, codegen.ts), then Vite. Both are development dependencies;
 * where they are not installed (an image built with --omit=dev), the API starts without the
 * console. Never fails the start: the API works without the console.
 */
export async function ensureConsoleBuilt(
  log: (line: string) => void,
  /** Where the build goes and how it is made: the real ones unless a test says otherwise. */
  options: { dist?: string; build?: () => Promise<void> } = {},
): Promise<ConsoleBuild> {
  const dist = options.dist ?? CONSOLE_DIST;
  const index = resolve(dist, 'index.html');
  if (existsSync(index)) return { available: true };
  const started = Date.now();
  log('Building the console (first start; about ten seconds)…');
  try {
    await (options.build ?? buildConsole)();
  } catch (err) {
    return {
      available: false,
      reason: `its build failed (${String((err as Error)?.message ?? err).split('\n')[0]})`,
    };
  }
  // A build that "succeeded" into another folder still leaves nothing to serve.
  if (!existsSync(index))
    return { available: false, reason: `the build wrote no index.html in ${dist}` };
  log(`Console built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { available: true };
}

/** Logs where the console is, or (a warning) that it is not there, why and how to build it. */
export function announceConsole(logger: Logger, url: string, build: ConsoleBuild): void {
  if (build.available) return logger.info(`Console at ${url}`);
  logger.warn(
    `Console not available at ${url}: ${build.reason}; build it with \`npm run console:build\``,
  );
}

/** codegen, then `vite build` in console/; what `npm run console:build` runs. */
export async function buildConsole(): Promise<void> {
  const { generate } = await import('@graphql-codegen/cli');
  await generate({ cwd: ROOT, silent: true, ...(await import('../../codegen.js')).default }, true);
  const { build } = await import('vite');
  await build({
    root: resolve(ROOT, 'console'),
    logLevel: 'warn',
    configFile: resolve(ROOT, 'console/vite.config.ts'),
  });
}
