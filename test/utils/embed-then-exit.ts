/**
 * A process that starts a batch on the local model, disposes of the embedder while the batch
 * runs (as a stopping server does), then exits: test/embeddings.test.ts reads its exit code.
 */
import { LocalEmbedder } from '../../src/memory/embeddings/local.embedder.js';
import { defaultModelDir } from '../../src/memory/embeddings/model-files.js';

const embedder = await LocalEmbedder.load(defaultModelDir());
const long = Array.from({ length: 250 }, (_, i) => `word${i}`).join(' ');
const batch = embedder.embed(Array.from({ length: 32 }, (_, i) => `${long} ${i}`));
await new Promise((resolve) => setTimeout(resolve, 300));
await embedder.dispose();
console.log(
  `batch ${await batch.then(
    () => 'finished',
    () => 'failed',
  )}`,
);
process.exit(0);
