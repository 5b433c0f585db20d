/**
 * A job's record on disk (`record.json` in its folder): its token hash, output format, when it was
 * made and, once it ended, how. The folder is the source of truth: it is complete before the job
 * is queued, and `serve` rebuilds a Redis record lost with Redis's data from it (reconcile.ts).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { OutputFormat } from './config.js';
import type { RecordFields } from './jobs.js';

export const JOB_RECORD_FILE = 'record.json';

export interface JobRecordFile extends RecordFields {
  /** Set when the job ended (a cancelled job's folder is removed, so it is never recorded here). */
  readonly ended?: {
    readonly state: 'done' | 'failed';
    readonly finishedAtMs: number;
    /** Frames of the clip (a done job's output holds them all). */
    readonly framesTotal?: number;
    readonly error?: string;
  };
}

const FORMATS: readonly OutputFormat[] = ['webm', 'mp4'];

/** Writes `record.json` atomically (a reader never sees half of it). */
export async function writeJobRecord(jobDir: string, record: JobRecordFile): Promise<void> {
  const file = path.join(jobDir, JOB_RECORD_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(record));
  await rename(tmp, file);
}

/** The folder's record, or null when it has none or it is not one (never trusted half-read). */
export async function readJobRecord(jobDir: string): Promise<JobRecordFile | null> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path.join(jobDir, JOB_RECORD_FILE), 'utf8'));
  } catch {
    return null;
  }
  const r = raw as Partial<JobRecordFile> | null;
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.tokenHash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(r.tokenHash) ||
    !FORMATS.includes(r.format as OutputFormat) ||
    typeof r.createdAtMs !== 'number'
  )
    return null;
  const e = r.ended;
  if (e !== undefined && (typeof e !== 'object' || (e.state !== 'done' && e.state !== 'failed') || typeof e.finishedAtMs !== 'number'))
    return null;
  return r as JobRecordFile;
}

/** Records on disk how job's folder `jobDir` ended (kept until `--keep-hours` after `finishedAtMs`). */
export async function recordEnded(jobDir: string, ended: NonNullable<JobRecordFile['ended']>): Promise<void> {
  const record = await readJobRecord(jobDir);
  if (record) await writeJobRecord(jobDir, { ...record, ended });
}
