/**
 * `livestyle-service worker`: takes plan, chunk and stitch jobs from the BullMQ queue.
 * - plan: scans the clip for scene cuts and adds a flow: one stitch job (the parent) waiting on one
 *   chunk job per range of frames (children any worker may take).
 * - chunk: stylises its frames in video mode, starting `warmupFrames` early so the temporal state has
 *   converged at its first written frame; writes one PNG per frame (retries rewrite the same names).
 * - stitch: encodes the frames once, with the clip's audio, and removes them.
 * A chunk whose worker dies stops renewing its lock; BullMQ's stalled-job check gives it to another
 * worker. Cancellation is a state in the job's Redis record, read between frames.
 */
// The Node entry, for its defaults: Node backends, models from @livestyle/models.
import '@livestyle/core';
import { FlowProducer, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import * as tf from '@tensorflow/tfjs-core';
import os from 'node:os';
import type { BackendName } from '@livestyle/core/internal/pipeline/options.js';
import { getDefaultEnvironment } from '@livestyle/core/internal/pipeline/stylizer.js';
import { QUEUE_NAME } from './config.js';
import { JobStore } from './jobs.js';
import { runPlanJob } from './jobs-plan.js';
import { runChunkJob } from './jobs-chunk.js';
import { runStitchJob } from './jobs-stitch.js';
import { recordEnded } from './job-files.js';
import { scrubInternals } from './public-text.js';
import {
  CancelledError,
  StylizerPool,
  removeJobFlow,
  type ChunkJobData,
  type PlanJobData,
  type StitchJobData,
  type WorkerContext,
  type WorkerSettings,
} from './worker-context.js';

export {
  JOB_ATTEMPTS,
  JOB_BACKOFF,
  removeJobFlow,
  seekTime,
  type ChunkJobData,
  type PlanJobData,
  type StitchJobData,
} from './worker-context.js';

/** What a worker records in Redis (`livestyle:worker:<id>`) after every job: memory, for monitoring. */
export interface WorkerStats {
  readonly jobs: number;
  readonly frames: number;
  readonly numTensors: number;
  readonly numBytes: number;
  readonly rssBytes: number;
  readonly backend: string;
}

export interface RunningWorker {
  readonly id: string;
  /** The tfjs backend that runs the chunks. */
  readonly backend: string;
  /** Stops taking jobs; the jobs in progress finish first unless `force` (they are then handed back). */
  close(force?: boolean): Promise<void>;
}

export async function startWorker(settings: WorkerSettings): Promise<RunningWorker> {
  // The backend starts before any job, so a missing GPU or WASM binary fails the worker, not a chunk.
  const backend = await getDefaultEnvironment().initBackend(settings.backend);
  const connection = new Redis(settings.redisUrl, { maxRetriesPerRequest: null });
  const store = new JobStore(connection);
  const flows = new FlowProducer({ connection });
  const queue = new Queue(QUEUE_NAME, { connection });
  const pool = new StylizerPool(backend as BackendName, 2 * settings.concurrency);
  const id = `${os.hostname()}-${process.pid}`;
  let jobs = 0;
  let frames = 0;

  const recordStats = async (): Promise<void> => {
    const m = tf.memory();
    const stats: WorkerStats = {
      jobs,
      frames,
      numTensors: m.numTensors,
      numBytes: m.numBytes,
      rssBytes: process.memoryUsage().rss,
      backend,
    };
    await connection.hset(`livestyle:worker:${id}`, stats as unknown as Record<string, string | number>);
    await connection.expire(`livestyle:worker:${id}`, 24 * 3600);
  };

  const ctx: WorkerContext = { settings, store, flows, queue, pool, countFrame: () => frames++, pending: new Set() };
  const worker = new Worker(
    QUEUE_NAME,
    async (job: Job) => {
      try {
        if (job.name === 'plan') await runPlanJob(ctx, job as Job<PlanJobData>);
        else if (job.name === 'chunk') await runChunkJob(ctx, job as Job<ChunkJobData>);
        else if (job.name === 'stitch') await runStitchJob(ctx, job as Job<StitchJobData>);
        else throw new UnrecoverableError(`unknown job kind ${job.name}`);
      } catch (e) {
        // A job cancelled (or removed) while it ran fails quietly: its files are being removed.
        const jobId = (job.data as { jobId?: string }).jobId;
        if (jobId && !(e instanceof CancelledError) && (await store.isStopped(jobId))) throw new CancelledError('cancelled');
        throw e;
      } finally {
        jobs++;
        await recordStats();
      }
    },
    {
      connection,
      concurrency: settings.concurrency,
      lockDuration: settings.stallMs,
      stalledInterval: settings.stallMs,
      maxStalledCount: 2,
      ...(settings.maxJobsPerMinute > 0 ? { limiter: { max: settings.maxJobsPerMinute, duration: 60_000 } } : {}),
    },
  );
  worker.on('failed', (job, err) => {
    if (job) onJobFailed(ctx, job, err);
  });
  worker.on('error', (err) => settings.log(`worker error: ${err.message}`));
  await worker.waitUntilReady();
  await recordStats();
  return {
    id,
    backend,
    async close(force = false) {
      await worker.close(force);
      // A failed job's clean-up (its record on disk and in Redis) finishes before the worker goes.
      await Promise.allSettled([...ctx.pending]);
      await flows.close();
      await queue.close();
      pool.dispose();
      await recordStats().catch(() => undefined);
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}

/** How long a stitch that failed with its chunk leaves the chunk's failure to be recorded first. */
const CHILD_FAILURE_GRACE_MS = 3000;

/** A failed job: logged; the failure that ends a job (no attempt left) marks it failed and removes its files. */
function onJobFailed(ctx: WorkerContext, job: Job, err: Error): void {
  const { settings, store, queue } = ctx;
  const { storage } = settings;
  if (err instanceof CancelledError) return;
  const jobId = (job.data as { jobId?: string }).jobId;
  const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
  settings.log(
    `job ${jobId ?? '?'}: ${job.name} failed${final ? '' : `, attempt ${job.attemptsMade} of ${job.opts.attempts}, will retry`}: ${err.message}`,
  );
  if (final && jobId) {
    // Only the failure that ends the job cleans up: a late failure of a job already done (or
    // cancelled) must not remove its output.
    const error = publicError(job.name, err.message);
    const finishedAtMs = Date.now();
    // A stitch failed because a chunk did (BullMQ's failParentOnFailure): the chunk's own failure,
    // which says why, is recorded first; the stitch's stands only if that never happens.
    const childFailed = job.name === 'stitch' && err.message.startsWith('child ');
    const cleanup = (async () => {
      if (childFailed) await new Promise((resolve) => setTimeout(resolve, CHILD_FAILURE_GRACE_MS));
      if (await store.isStopped(jobId)) return; // already ended (cancelled, done): nothing of it is ours
      // On disk first, the source of truth: a worker dying before Redis follows leaves a failure that
      // reconcile copies to Redis, never a job queued again once its Redis record expires.
      await recordEnded(storage.jobDir(jobId), { state: 'failed', finishedAtMs, error });
      if (!(await store.transition(jobId, 'failed', { error, finishedAtMs }))) return;
      await store.expire(jobId, settings.keepSeconds);
      await removeJobFlow(queue, jobId);
      // The folder keeps only its record (with the error), so the failure outlives a Redis that loses it.
      await storage.removeJobFiles(jobId);
    })().catch((e: Error) => settings.log(`job ${jobId}: cleaning up after failure: ${e.message}`));
    ctx.pending.add(cleanup);
    void cleanup.finally(() => ctx.pending.delete(cleanup));
  }
}

/**
 * A failure as the job's user sees it: one line, with no server paths (a file is named by its name
 * only), no decoder addresses (`[h264 @ 0x5560...]`) and no multi-line tool output. The full message
 * goes to the server log with the job id (onJobFailed).
 */
export function publicError(kind: string, message: string): string {
  return `${kind}: ${scrubInternals(message)}`.slice(0, 300);
}
