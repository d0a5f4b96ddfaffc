// A PDF's text, read in a worker thread of its own (pdf-text.ts): the thread is watched and
// ended when its memory or time runs out, so a decompression bomb never reaches the API's heap.
// Plain JavaScript, so the worker starts the same under tsx, vitest and node.
import { parentPort, workerData } from 'node:worker_threads';
import { extractText, getDocumentProxy } from 'unpdf';

let pdf;
try {
  pdf = await getDocumentProxy(workerData.data, { verbosity: 0 });
  const { text } = await extractText(pdf, { mergePages: false });
  parentPort.postMessage({ text: text.map((page) => page.trim()).join('\n\n') });
} catch (err) {
  parentPort.postMessage({ error: String(err?.message ?? err) });
} finally {
  await pdf?.loadingTask.destroy().catch(() => undefined);
}
