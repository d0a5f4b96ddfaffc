// The local model's inference, in a worker thread: onnxruntime-node runs a session on the
// calling thread, and on the API's event loop a batch held every request for seconds.
// Plain JavaScript, so the worker starts the same under tsx, vitest and node.
import { parentPort, workerData } from 'node:worker_threads';

const { env, mean_pooling: meanPooling, pipeline } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = workerData.modelDir;

let extractor;
try {
  extractor = await pipeline('feature-extraction', workerData.modelId, { dtype: 'q8' });
  parentPort.postMessage({ ready: true });
} catch (err) {
  parentPort.postMessage({ ready: false, error: String(err?.message ?? err) });
}

// One message at a time: a dispose that came during a batch freed the session under it, and
// the process aborted ("terminate called after throwing an instance of 'Napi::Error'").
let turn = Promise.resolve();
parentPort.on('message', (msg) => {
  turn = turn.then(() => handle(msg));
});

async function handle(msg) {
  if (msg.dispose) {
    await extractor?.dispose();
    parentPort.close();
    return;
  }
  try {
    // The pipeline's own call, with the tokenizer's length cut to maxTokens.
    const inputs = extractor.tokenizer(msg.texts, {
      padding: true,
      truncation: true,
      max_length: msg.maxTokens,
    });
    const { last_hidden_state: hidden } = await extractor.model(inputs);
    const out = meanPooling(hidden, inputs.attention_mask).normalize(2, -1);
    const data = Float32Array.from(out.data);
    parentPort.postMessage({ id: msg.id, data }, [data.buffer]);
  } catch (err) {
    parentPort.postMessage({ id: msg.id, error: String(err?.message ?? err) });
  }
}
