import { buildConsole } from '../console/build.js';

/** `npm run console:build`: the console's typed documents, then its Vite build into console/dist. */
const started = Date.now();
console.log('[console] generating typed documents and building with Vite…');
buildConsole().then(
  () =>
    console.log(
      `[console] built into console/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    ),
  (err: Error) => {
    console.error(`[console] build failed: ${err.message}`);
    process.exit(1);
  },
);
