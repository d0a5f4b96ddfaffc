import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * `mkdir -p` that always ends. Node's `mkdirSync(dir, { recursive: true })` loops for ever
 * where mkdir answers ENOENT under a parent that exists (procfs: DATA_DIR=/proc/x hung
 * start-up; a dangling symlink likewise): here each folder is tried once more after its parent,
 * and that second answer is final. Throws the failing mkdir's error (ENOENT, EACCES, ENOTDIR...).
 */
export function makeDir(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      // A dangling symlink exists but is no folder: statSync says ENOENT.
      if (statSync(dir).isDirectory()) return;
      throw err;
    }
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw err;
    makeDir(parent);
    mkdirSync(dir);
  }
}
