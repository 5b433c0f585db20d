/**
 * Where a job's files live. The default is a local folder that `serve` and every worker reach under
 * the same path (one disk, or a shared mount such as NFS). Workers run ffmpeg on local paths, so
 * another store (S3 and the like) implements this interface by staging: `clipPath`/`stylePath`
 * download on first use into a local scratch folder, `framesDir` is a local scratch folder whose
 * frames are uploaded by chunk, and `publishOutput` uploads the encoded file (README, "Job service").
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { OutputFormat } from './config.js';
import { JOB_RECORD_FILE, readJobRecord } from './job-files.js';

export interface JobStorage {
  /** A new empty folder for an upload being received (not yet a job). */
  createUploadDir(): Promise<string>;
  /** Makes a received upload job `id`'s files. */
  commitUpload(uploadDir: string, id: string): Promise<void>;
  /** Removes an upload that was refused (idempotent). */
  discardUpload(uploadDir: string): Promise<void>;
  /** The job's folder (clip, styles, job.json). */
  jobDir(id: string): string;
  /** The folder the chunks write their stylised frames to (PNG, named by frame number). */
  framesDir(id: string): string;
  /** The finished video. */
  outputPath(id: string, format: OutputFormat): string;
  /** Removes every file of job `id` (idempotent). */
  removeJob(id: string): Promise<void>;
  /** Removes job `id`'s work files (clip, styles, frames, output), keeping its record (a failed job). */
  removeJobFiles(id: string): Promise<void>;
  /** The ids of the job folders present. */
  listJobs(): Promise<string[]>;
  /**
   * Removes ended jobs whose record on disk is older than `keepMs`, folders with no record that
   * `exists` says are gone, and uploads never committed (the last two older than `minAgeMs`);
   * resolves with what was removed. A folder whose job has not ended is never swept (reconcile.ts
   * queues it again).
   */
  sweep(exists: (id: string) => Promise<boolean>, minAgeMs: number, keepMs: number): Promise<string[]>;
}

/** Job ids are base64url: never a path separator, never `..`. */
const SAFE_ID = /^[A-Za-z0-9_-]{16,64}$/;

export class LocalStorage implements JobStorage {
  readonly root: string;
  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Creates the folder layout (uploads/, jobs/) if missing. */
  async init(): Promise<void> {
    await mkdir(path.join(this.root, 'uploads'), { recursive: true });
    await mkdir(path.join(this.root, 'jobs'), { recursive: true });
  }

  async createUploadDir(): Promise<string> {
    return mkdtemp(path.join(this.root, 'uploads', 'u-'));
  }

  async commitUpload(uploadDir: string, id: string): Promise<void> {
    await rename(uploadDir, this.jobDir(id));
  }

  async discardUpload(uploadDir: string): Promise<void> {
    await rm(uploadDir, { recursive: true, force: true, maxRetries: 5 });
  }

  jobDir(id: string): string {
    if (!SAFE_ID.test(id)) throw new Error(`invalid job id ${JSON.stringify(id)}`);
    return path.join(this.root, 'jobs', id);
  }

  framesDir(id: string): string {
    return path.join(this.jobDir(id), 'frames');
  }

  outputPath(id: string, format: OutputFormat): string {
    return path.join(this.jobDir(id), `output.${format}`);
  }

  async listJobs(): Promise<string[]> {
    return (await readdir(path.join(this.root, 'jobs'))).filter((name) => SAFE_ID.test(name));
  }

  async sweep(exists: (id: string) => Promise<boolean>, minAgeMs: number, keepMs: number): Promise<string[]> {
    const removed: string[] = [];
    // An entry that vanished meanwhile (a job deleted, an upload committed) is simply not old.
    const old = async (p: string): Promise<boolean> =>
      stat(p).then(
        (st) => Date.now() - st.mtimeMs > minAgeMs,
        () => false,
      );
    for (const name of await this.listJobs()) {
      const record = await readJobRecord(this.jobDir(name));
      const expired = record?.ended
        ? Date.now() - record.ended.finishedAtMs > keepMs
        : !record && (await old(this.jobDir(name))) && !(await exists(name));
      if (!expired) continue;
      await this.removeJob(name);
      removed.push(`jobs/${name}`);
    }
    for (const name of await readdir(path.join(this.root, 'uploads'))) {
      const dir = path.join(this.root, 'uploads', name);
      if (!(await old(dir))) continue;
      await this.discardUpload(dir);
      removed.push(`uploads/${name}`);
    }
    return removed;
  }

  async removeJobFiles(id: string): Promise<void> {
    const dir = this.jobDir(id);
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(
      names
        .filter((n) => n !== JOB_RECORD_FILE)
        .map((n) => rm(path.join(dir, n), { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })),
    );
  }

  async removeJob(id: string): Promise<void> {
    const dir = this.jobDir(id);
    // A worker may be writing a frame as the folder goes: retried until empty (rm's own retries).
    for (let i = 0; i < 5 && existsSync(dir); i++) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}
