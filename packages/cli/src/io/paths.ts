/** Output paths checked against inputs, so a command never overwrites what it reads. */
import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

/**
 * The real location `p` names: links resolved; for a path that does not exist yet, its folder's real
 * path joined with its name.
 */
export function realTarget(p: string): string {
  const abs = path.resolve(p);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = path.dirname(abs);
  return parent === abs ? abs : path.join(realTarget(parent), path.basename(abs));
}

/** The first of `inputs` that `out` resolves to (the same file or folder), or undefined. */
export function clobberedInput(out: string, inputs: readonly string[]): string | undefined {
  const target = realTarget(out);
  return inputs.find((i) => realTarget(i) === target);
}

/** Refuses (through `fail`) an output folder this process cannot write, before any work. */
export function checkWritableFolder(dir: string, fail: (message: string) => Error): void {
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw fail(`--out folder ${dir} is not writable (${code === 'EROFS' ? 'read-only file system' : 'permission denied'})`);
  }
}
