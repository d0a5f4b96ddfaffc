import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * `mkdir -p` that always ends. Node's `mkdirSync(dir, { recursive: true })` loops for ever
 * where mkdir answers ENOENT under a parent that exists (procfs: DATA_DIR=/proc/x hung
 * start-up; a dangling symlink likewise): here each folder is tried once more after its parent,
 * and that second answer is final. A folder another process made meanwhile (EEXIST) is fine.
 * Throws the failing mkdir's error (ENOENT, EACCES, ENOTDIR...).
 */
export function makeDir(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    const parent = path.dirname(dir);
    if (codeOf(err) !== 'ENOENT' || parent === dir) return existing(dir, err);
    makeDir(parent);
    try {
      mkdirSync(dir);
    } catch (again) {
      existing(dir, again);
    }
  }
}

/** Returns when mkdir's `err` is EEXIST for a folder; else throws `err`. */
function existing(dir: string, err: unknown): void {
  // A dangling symlink exists but is no folder: statSync says ENOENT.
  if (codeOf(err) !== 'EEXIST' || !statSync(dir).isDirectory()) throw err;
}

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException).code;
