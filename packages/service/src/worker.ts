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
import { FlowProducer, Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import * as tf from '@tensorflow/tfjs-core';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import { Stylizer } from '@livestyle/core/internal/pipeline/stylizer.js';
import { readImageFile, writePngFile } from '@livestyle/core/internal/io/node-image.js';
import { type BackendName, type StylizerOptions } from '@livestyle/core/internal/pipeline/options.js';
import { getDefaultEnvironment } from '@livestyle/core/internal/pipeline/stylizer.js';
import { encodeFrameFolder, videoFrameName } from '@livestyle/cli/internal/io/video.js';
import { ChunkStoppedError, stylizeChunk } from './chunk.js';
import { crossFade, fadeInName, leadOutName, type Fade } from './stitch.js';
import { QUEUE_NAME, DEFAULT_JOB_OPTIONS, type JobOptions } from './config.js';
import { JobStore } from './jobs.js';
import { planChunks, scanScenes, type ChunkPlan } from './plan.js';
import { readJobSpec } from './spec.js';
import type { LocalStorage } from './storage.js';

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

/** Retry policy of every job: 3 attempts, exponential back-off from 2 s. */
export const JOB_ATTEMPTS = 3;
export const JOB_BACKOFF = { type: 'exponential', delay: 2000 } as const;

class CancelledError extends UnrecoverableError {
  override name = 'CancelledError';
}

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
class StylizerPool {
  private readonly idle: PooledStylizer[] = [];
  constructor(
    private readonly backend: BackendName,
    private readonly capacity: number,
  ) {}

  async acquire(o: JobOptions): Promise<PooledStylizer> {
    const options: Partial<StylizerOptions> = {
      model: o.model,
      preset: o.preset,
      ...(o.method ? { method: o.method } : {}),
      alpha: o.alpha,
      preserveColor: o.preserveColor,
      temporalStrength: o.temporal ? o.strength : 0,
      backend: this.backend,
    };
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

export async function startWorker(settings: WorkerSettings): Promise<RunningWorker> {
  // The backend starts before any job, so a missing GPU or WASM binary fails the worker, not a chunk.
  const backend = await getDefaultEnvironment().initBackend(settings.backend);
  const connection = new Redis(settings.redisUrl, { maxRetriesPerRequest: null });
  const store = new JobStore(connection);
  const flows = new FlowProducer({ connection });
  const queue = new Queue(QUEUE_NAME, { connection });
  const pool = new StylizerPool(backend as BackendName, 2 * settings.concurrency);
  const { storage } = settings;
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

  const plan = async (job: Job<PlanJobData>): Promise<void> => {
    const { jobId } = job.data;
    if (await store.isStopped(jobId)) throw new CancelledError('cancelled');
    // A plan retried after it added its flow (its worker died just after) must not add it again:
    // finished chunks are removed from the queue, so their fixed ids would no longer deduplicate.
    if (await store.isPlanned(jobId)) return;
    const spec = await readJobSpec(storage.jobDir(jobId));
    await store.transition(jobId, 'running', { startedAtMs: Date.now() });
    const scan = await scanScenes(path.join(storage.jobDir(jobId), spec.clip), spec.chunking.sceneThreshold);
    const chunks = planChunks(scan.frameCount, scan.cuts, spec.chunking);
    // Not recursive: a cancelled job's folder is gone and must stay gone.
    await mkdir(storage.framesDir(jobId)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    await store.markRunning(jobId, scan.frameCount);
    const retry = { attempts: JOB_ATTEMPTS, backoff: JOB_BACKOFF };
    // Fixed job ids: a plan retried after adding its flow adds nothing twice.
    await flows.add({
      name: 'stitch',
      queueName: QUEUE_NAME,
      data: {
        jobId,
        framesTotal: scan.frameCount,
        fades: chunks.filter((c) => c.fadeInFrames > 0).map((c) => ({ start: c.start, frames: c.fadeInFrames })),
      } satisfies StitchJobData,
      opts: { jobId: `stitch-${jobId}`, ...retry, removeOnComplete: true, removeOnFail: { age: settings.keepSeconds } },
      children: chunks.map((c) => ({
        name: 'chunk',
        queueName: QUEUE_NAME,
        data: { jobId, ...c, seekS: seekTime(scan.ptsS, c.start - c.warmupFrames) } satisfies ChunkJobData,
        opts: {
          jobId: `chunk-${jobId}-${c.index}`,
          ...retry,
          failParentOnFailure: true,
          removeOnComplete: true,
          removeOnFail: { age: settings.keepSeconds },
        },
      })),
    });
    await store.markPlanned(jobId, chunks.length);
    // Cancelled while the flow was being added: its waiting jobs go now.
    if (await store.isStopped(jobId)) await removeJobFlow(queue, jobId);
    settings.log(`job ${jobId}: ${scan.frameCount} frames, ${chunks.length} chunks (${scan.cuts.length} scene cuts)`);
  };

  const chunk = async (job: Job<ChunkJobData>): Promise<void> => {
    const c = job.data;
    if (await store.isStopped(c.jobId)) throw new CancelledError('cancelled');
    const dir = storage.jobDir(c.jobId);
    const spec = await readJobSpec(dir);
    const o = { ...DEFAULT_JOB_OPTIONS, ...spec.options };
    const pooled = await pool.acquire(o);
    const { stylizer } = pooled;
    try {
      if (pooled.stylesOf !== c.jobId) {
        pooled.stylesOf = null;
        const styles = [];
        for (const s of spec.styles)
          styles.push({ image: await readImageFile(path.join(dir, s.file), { maxSidePx: o.styleSize }), weight: s.weight });
        await stylizer.setStyles(styles);
        pooled.stylesOf = c.jobId;
      }
      await store.setChunkFrames(c.jobId, c.index, 0);
      let done = 0;
      await stylizeChunk({
        stylizer,
        clip: path.join(dir, spec.clip),
        fps: spec.fps,
        sizePx: o.size,
        chunk: c,
        shouldStop: () => store.isStopped(c.jobId),
        ...(c.seekS !== undefined ? { seekS: c.seekS } : {}),
        onFrame: async (index, frame, role) => {
          const name = role === 'own' ? videoFrameName(index) : role === 'fadeIn' ? fadeInName(index) : leadOutName(index);
          await writePngFile(path.join(storage.framesDir(c.jobId), name), frame, 1);
          frames++;
          if (role === 'leadOut') return;
          done++;
          await store.setChunkFrames(c.jobId, c.index, done);
          await job.updateProgress({ jobId: c.jobId, chunk: c.index, frames: done });
        },
      });
    } catch (e) {
      if (e instanceof ChunkStoppedError) throw new CancelledError('cancelled');
      throw e;
    } finally {
      pool.release(pooled);
    }
  };

  const stitch = async (job: Job<StitchJobData>): Promise<void> => {
    const { jobId, framesTotal, fades } = job.data;
    // A stitch run again after it finished (its lock lost at the end) has nothing left to do.
    if ((await store.state(jobId)) === 'done') return;
    if (await store.isStopped(jobId)) throw new CancelledError('cancelled');
    const dir = storage.jobDir(jobId);
    const spec = await readJobSpec(dir);
    const out = storage.outputPath(jobId, spec.options.format);
    const controller = new AbortController();
    const watch = setInterval(() => {
      void store.isStopped(jobId).then((c) => c && controller.abort());
    }, 500);
    try {
      await crossFade(storage.framesDir(jobId), fades);
      await encodeFrameFolder(storage.framesDir(jobId), framesTotal, spec.fps, out, path.join(dir, spec.clip), controller.signal);
    } finally {
      clearInterval(watch);
    }
    if (controller.signal.aborted) throw new CancelledError('cancelled');
    // Done first, then the frames go: a crash in between leaves only frames to sweep, never a job
    // that is failed with its output deleted.
    await store.transition(jobId, 'done', { finishedAtMs: Date.now() });
    await store.expire(jobId, settings.keepSeconds);
    await rm(storage.framesDir(jobId), { recursive: true, force: true });
    settings.log(`job ${jobId}: done (${framesTotal} frames)`);
  };

  const worker = new Worker(
    QUEUE_NAME,
    async (job: Job) => {
      try {
        if (job.name === 'plan') await plan(job as Job<PlanJobData>);
        else if (job.name === 'chunk') await chunk(job as Job<ChunkJobData>);
        else if (job.name === 'stitch') await stitch(job as Job<StitchJobData>);
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
    if (!job || err instanceof CancelledError) return;
    const jobId = (job.data as { jobId?: string }).jobId;
    const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    settings.log(
      `job ${jobId ?? '?'}: ${job.name} failed${final ? '' : `, attempt ${job.attemptsMade} of ${job.opts.attempts}, will retry`}: ${err.message}`,
    );
    if (final && jobId) {
      // Only the failure that ends the job cleans up: a late failure of a job already done (or
      // cancelled) must not remove its output.
      void store
        .transition(jobId, 'failed', { error: `${job.name}: ${err.message}`.slice(0, 500), finishedAtMs: Date.now() })
        .then(async (ended) => {
          if (!ended) return;
          await store.expire(jobId, settings.keepSeconds);
          await removeJobFlow(queue, jobId);
          await storage.removeJob(jobId);
        })
        .catch((e: Error) => settings.log(`job ${jobId}: cleaning up after failure: ${e.message}`));
    }
  });
  worker.on('error', (err) => settings.log(`worker error: ${err.message}`));
  await worker.waitUntilReady();
  await recordStats();
  return {
    id,
    backend,
    async close(force = false) {
      await worker.close(force);
      await flows.close();
      await queue.close();
      pool.dispose();
      await recordStats().catch(() => undefined);
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
