/** Writes files atomically (temporary file in the same folder, then rename): never a half-written file. */
import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

let sequence = 0;

/**
 * A temporary name beside `file`, unique per call (pid and a counter): concurrent writes of one
 * path in one process each get their own, so the last complete write wins and none is corrupted.
 */
export function temporaryNameFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++sequence}.tmp`);
}

/** `.<name>.<pid>[.<n>].tmp[.<ext>]`: the temporary names of this module and of video outputs. */
const TEMPORARY_NAME = /^\..+?\.(\d+)(?:\.\d+)?\.tmp(?:\.[A-Za-z0-9]+)?$/;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Removes temporary files in `dir` left by livestyle runs that are gone (SIGKILL, a crash, a power
 * cut): those whose pid is not a running process. A live run's files are left alone. Returns the
 * names removed.
 */
export async function sweepStaleTemporaries(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const stale = names.filter((n) => {
    const pid = Number(TEMPORARY_NAME.exec(n)?.[1] ?? NaN);
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid);
  });
  await Promise.all(stale.map((n) => rm(path.join(dir, n), { force: true })));
  return stale;
}

/**
 * One line for a failed write: the cause ("disk full", "permission denied", ...), never a library's
 * multi-line dump or the temporary file's name.
 */
export function describeWriteError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const text = `${err.code ?? ''} ${err.message ?? String(e)}`;
  if (/ENOSPC|No space left/i.test(text)) return 'disk full';
  if (/EACCES|EPERM|Permission denied/i.test(text)) return 'permission denied';
  if (/EROFS|Read-only file system/i.test(text)) return 'read-only file system';
  if (/EDQUOT|quota/i.test(text)) return 'disk quota exceeded';
  if (/ENOENT|No such file/i.test(text)) return 'its folder does not exist';
  const first = (err.message ?? String(e)).split('\n')[0] ?? '';
  return first.replace(/\S*\.tmp\b/g, 'the file').trim() || 'unknown error';
}

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = temporaryNameFor(file);
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new Error(`${file}: cannot write (${describeWriteError(e)})`);
  }
}

export async function writeJsonFile(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}
