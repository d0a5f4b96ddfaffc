import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fetchModel, type ModelSource } from '../src/memory/embeddings/model-fetch.js';

const GOOD = 'the pinned model bytes';
const FILES = [
  { file: 'onnx/model_quantized.onnx', sha256: createHash('sha256').update(GOOD).digest('hex') },
];

/** A source that writes `content` as the model file, counting its calls. */
function source(name: string, content: string) {
  const s = {
    name,
    calls: 0,
    async fill(stage: string) {
      s.calls++;
      const file = path.join(stage, 'model', 'onnx', 'model_quantized.onnx');
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
    },
  };
  return s satisfies ModelSource;
}

describe('models:fetch', () => {
  let root: string;
  let dir: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'models-fetch-'));
    dir = path.join(root, 'all-MiniLM-L6-v2');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const model = () => readFile(path.join(dir, 'model', 'onnx', 'model_quantized.onnx'), 'utf8');

  it('installs a verified model and leaves no staging folder', async () => {
    const lines: string[] = [];
    const good = source('good', GOOD);
    const outcome = await fetchModel({
      dir,
      files: FILES,
      sources: [good],
      log: (l) => lines.push(l),
    });
    expect(outcome).toBe('fetched');
    expect(await model()).toBe(GOOD);
    expect(await readdir(root)).toEqual(['all-MiniLM-L6-v2']);
    expect(lines.join('\n')).toMatch(/checksums verified/);
    // A second run finds it and fetches nothing.
    expect(await fetchModel({ dir, files: FILES, sources: [good] })).toBe('present');
    expect(good.calls).toBe(1);
  });

  it('refuses a corrupted file: nothing is installed and the error names the checksum', async () => {
    await expect(
      fetchModel({ dir, files: FILES, sources: [source('corrupt', 'flipped bytes')] }),
    ).rejects.toThrow(/corrupt: onnx\/model_quantized\.onnx has sha256 .* expected/);
    expect(existsSync(dir)).toBe(false);
    expect(await readdir(root)).toEqual([]);
  });

  it('tries the next source when one gives a corrupted file', async () => {
    const outcome = await fetchModel({
      dir,
      files: FILES,
      sources: [source('corrupt', 'flipped bytes'), source('good', GOOD)],
    });
    expect(outcome).toBe('fetched');
    expect(await model()).toBe(GOOD);
  });

  it('replaces a model folder whose file was corrupted on disk', async () => {
    await fetchModel({ dir, files: FILES, sources: [source('good', GOOD)] });
    await writeFile(path.join(dir, 'model', 'onnx', 'model_quantized.onnx'), 'bit rot');
    const again = source('good', GOOD);
    expect(await fetchModel({ dir, files: FILES, sources: [again] })).toBe('fetched');
    expect(again.calls).toBe(1);
    expect(await model()).toBe(GOOD);
    expect(await readdir(root)).toEqual(['all-MiniLM-L6-v2']);
  });

  it('lets two concurrent runs both succeed with one whole model', async () => {
    const results = await Promise.all([
      fetchModel({ dir, files: FILES, sources: [source('a', GOOD)] }),
      fetchModel({ dir, files: FILES, sources: [source('b', GOOD)] }),
    ]);
    expect(results).toEqual(['fetched', 'fetched']);
    expect(await model()).toBe(GOOD);
    expect(await readdir(root)).toEqual(['all-MiniLM-L6-v2']);
  });

  // EMBEDDINGS_MODEL_DIR=/proc/x/model spun for ever in Node's recursive mkdir (src/make-dir.ts).
  it('fails at once for a folder under /proc, naming why', async () => {
    const good = source('good', GOOD);
    await expect(
      fetchModel({ dir: '/proc/agent-platform/model', files: FILES, sources: [good] }),
    ).rejects.toThrow(/ENOENT.*\/proc\/agent-platform/);
    expect(good.calls).toBe(0);
  }, 10_000);
});
