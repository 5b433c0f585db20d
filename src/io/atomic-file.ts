/** Writes files atomically (temporary file in the same folder, then rename): never a half-written file. */
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

let sequence = 0;

/**
 * A temporary name beside `file`, unique per call (pid and a counter): concurrent writes of one
 * path in one process each get their own, so the last complete write wins and none is corrupted.
 */
export function temporaryNameFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++sequence}.tmp`);
}

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = temporaryNameFor(file);
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new Error(`${file}: cannot write (${(e as Error).message})`);
  }
}

export async function writeJsonFile(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}
