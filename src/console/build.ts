import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CONSOLE_DIST } from './route.js';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Builds the console when its build output is missing (npm start on a fresh clone): the typed
 * documents first (graphql-codegen, codegen.ts), then Vite. Both are development dependencies;
 * where they are not installed (an image built with --omit=dev), the API starts without the
 * console and says how to build it. Never fails the start: the API works without the console.
 */
export async function ensureConsoleBuilt(log: (line: string) => void): Promise<boolean> {
  if (existsSync(resolve(CONSOLE_DIST, 'index.html'))) return true;
  const started = Date.now();
  log('Building the console (first start; about ten seconds)…');
  try {
    await buildConsole();
    log(`Console built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return true;
  } catch (err) {
    log(
      `The console could not be built (${(err as Error).message.split('\n')[0]}); the API runs ` +
        'without it. Build it with `npm run console:build`.',
    );
    return false;
  }
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
