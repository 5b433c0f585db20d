/**
 * What the worker's job kinds share: the job data each kind carries, the retry policy, cancellation,
 * and the worker's context (settings, Redis store, queue, stylizer pool).
 */
import { stat } from 'node:fs/promises';
import { Job, type FlowProducer, type Queue, UnrecoverableError } from 'bullmq';
import type { ChunkPlan } from './plan.js';
import type { Fade } from './stitch.js';
import type { JobStore } from './jobs.js';
import { Stylizer } from '@livestyle/core/internal/pipeline/stylizer.js';
import type { BackendName, StylizerOptions } from '@livestyle/core/internal/pipeline/options.js';
import { stylizerOptionsFor } from '@livestyle/core/internal/pipeline/settings.js';
import type { JobOptions } from './config.js';
import type { LocalStorage } from './storage.js';

export interface ChunkJobData extends ChunkPlan {
  readonly jobId: string;
  /** Where decoding starts (s, an accurate seek): just before the chunk's first frame (warm-up included). */
  readonly seekS?: number;
}

/**
 * The seek time for frame `index` of a clip whose frames are at `ptsS`: half a frame before it, so
 * the frame before is skipped and this one is the first decoded. Undefined for frame 0 (no seek).
 */
export function seekTime(ptsS: readonly number[], index: number): number | undefined {
  if (index <= 0) return undefined;
  const t = ptsS[index];
  const before = ptsS[index - 1];
  return t === undefined || before === undefined ? undefined : (t + before) / 2;
}

/**
 * Removes job `jobId`'s plan, stitch and waiting chunks from the queue. Chunks being processed are
 * locked; they stop on their own at the next frame (they read the job's state).
 */
export async function removeJobFlow(queue: Queue, jobId: string): Promise<void> {
  await queue.remove(`plan-${jobId}`).catch(() => 0);
  const stitch = await Job.fromId(queue, `stitch-${jobId}`).catch(() => undefined);
  // remove() refuses a parent while any child is locked: its unprocessed children go first.
  await stitch?.removeUnprocessedChildren().catch(() => undefined);
  await queue.remove(`stitch-${jobId}`, { removeChildren: true }).catch(() => 0);
}
export interface PlanJobData {
  readonly jobId: string;
}
export interface StitchJobData {
  readonly jobId: string;
  readonly framesTotal: number;
  readonly fades: readonly Fade[];
}

/**
 * Throws CancelledError when job `jobId` was cancelled (or ended), and a visible, final failure when
 * its folder is missing: a POST given up after its record was written, or a worker whose `--storage`
 * is not serve's. Only ENOENT means missing: any other error (a dropped mount) is retried.
 */
export async function checkNotStopped(store: JobStore, storage: LocalStorage, jobId: string): Promise<void> {
  if (await store.isStopped(jobId)) throw new CancelledError('cancelled');
  const missing = await stat(storage.jobDir(jobId)).then(
    () => false,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return true;
      throw e;
    },
  );
  if (missing)
    throw new UnrecoverableError(
      `the job's folder is missing from this worker's storage (${storage.root}): is --storage the folder serve uses?`,
    );
}

/** Retry policy of every job: 3 attempts, exponential back-off from 2 s. */
export const JOB_ATTEMPTS = 3;
export const JOB_BACKOFF = { type: 'exponential', delay: 2000 } as const;

/** A job stopped because it was cancelled (or removed): fails quietly, never retried. */
export class CancelledError extends UnrecoverableError {
  override name = 'CancelledError';
}

export interface WorkerSettings {
  readonly redisUrl: string;
  readonly storage: LocalStorage;
  readonly concurrency: number;
  readonly backend: 'auto' | 'webgpu' | 'wasm';
  /**
   * A job whose worker has not renewed its lock for this long is handed to another worker. Locks are
   * renewed from a timer, so a single frame must take less than half of it.
   */
  readonly stallMs: number;
  /**
   * BullMQ's rate limiter: at most this many jobs (plan, chunk or stitch) start per minute across
   * all workers of the queue (for a metered GPU pool, say); 0 = no limit.
   */
  readonly maxJobsPerMinute: number;
  /** How long finished jobs' records and files are kept, s. */
  readonly keepSeconds: number;
  /** Called with each log line (job started, finished, failed). */
  readonly log: (line: string) => void;
}

/** A pooled stylizer, and whose styles it holds (a job id), so chunks of one job encode them once. */
interface PooledStylizer {
  readonly key: string;
  readonly stylizer: Stylizer;
  stylesOf: string | null;
}

/**
 * Stylizers kept between chunks (model loading costs seconds), most recently used first, at most
 * `capacity` idle; the least recently used beyond that are disposed.
 */
export class StylizerPool {
  private readonly idle: PooledStylizer[] = [];
  constructor(
    private readonly backend: BackendName,
    private readonly capacity: number,
  ) {}

  async acquire(o: JobOptions): Promise<PooledStylizer> {
    // Styles are read at o.styleSize already (the engine's own scaling then does nothing).
    const options: Partial<StylizerOptions> = { ...stylizerOptionsFor(o), backend: this.backend };
    const key = JSON.stringify(options);
    const i = this.idle.findIndex((p) => p.key === key);
    if (i >= 0) return this.idle.splice(i, 1)[0]!;
    return { key, stylizer: await Stylizer.create(options), stylesOf: null };
  }

  release(p: PooledStylizer): void {
    p.stylizer.reset();
    this.idle.unshift(p);
    for (const old of this.idle.splice(this.capacity)) old.stylizer.dispose();
  }

  dispose(): void {
    for (const p of this.idle.splice(0)) p.stylizer.dispose();
  }
}

/** What every job kind of one worker works with. */
export interface WorkerContext {
  readonly settings: WorkerSettings;
  readonly store: JobStore;
  readonly flows: FlowProducer;
  readonly queue: Queue;
  readonly pool: StylizerPool;
  /** Counts a frame written (the worker's stats). */
  readonly countFrame: () => void;
  /** Clean-ups after failed jobs still running (close waits for them). */
  readonly pending: Set<Promise<void>>;
}
