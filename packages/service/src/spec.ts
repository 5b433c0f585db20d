/** A job's description on storage (`job.json` in its folder), written by `serve`, read by workers. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChunkingSettings, JobOptions } from './config.js';

export interface JobSpec {
  /** The clip's file name in the job folder. */
  readonly clip: string;
  /** Style image file names in the job folder, with their blend weights. */
  readonly styles: ReadonlyArray<{ readonly file: string; readonly weight: number }>;
  readonly options: JobOptions;
  readonly chunking: ChunkingSettings;
  /** The clip's frame rate (from its container). */
  readonly fps: number;
}

export const JOB_SPEC_FILE = 'job.json';

export async function readJobSpec(jobDir: string): Promise<JobSpec> {
  return JSON.parse(await readFile(path.join(jobDir, JOB_SPEC_FILE), 'utf8')) as JobSpec;
}
