/** The `stitch` job kind of the worker. */
import path from 'node:path';
import { rm } from 'node:fs/promises';
import type { Job } from 'bullmq';
import { encodeFrameFolder } from '@livestyle/cli/internal/io/video.js';
import { crossFade } from './stitch.js';
import { readJobSpec } from './spec.js';
import { recordEnded } from './job-files.js';
import { CancelledError, type StitchJobData, type WorkerContext } from './worker-context.js';

/** stitch: cross-fades the chunk seams, encodes the frames once with the clip's audio, removes them. */
export async function runStitchJob(ctx: WorkerContext, job: Job<StitchJobData>): Promise<void> {
  const { settings, store } = ctx;
  const { storage } = settings;
  const { jobId, framesTotal, fades } = job.data;
  // A stitch run again after it finished (its lock lost at the end) has nothing left to do.
  if ((await store.state(jobId)) === 'done') return;
  if (await store.isStopped(jobId)) throw new CancelledError('cancelled');
  const dir = storage.jobDir(jobId);
  const spec = await readJobSpec(dir);
  const out = storage.outputPath(jobId, spec.options.format);
  const controller = new AbortController();
  const watch = setInterval(() => {
    void store.isStopped(jobId).then(
      (c) => c && controller.abort(),
      () => undefined, // Redis away: asked again in 500 ms
    );
  }, 500);
  try {
    await crossFade(storage.framesDir(jobId), fades);
    await encodeFrameFolder(storage.framesDir(jobId), framesTotal, spec.fps, out, path.join(dir, spec.clip), controller.signal);
  } finally {
    clearInterval(watch);
  }
  if (controller.signal.aborted) throw new CancelledError('cancelled');
  // Done first (on disk, the source of truth, then in Redis), then the frames go: a crash in between
  // leaves only frames to sweep, never a job that is failed with its output deleted.
  const finishedAtMs = Date.now();
  await recordEnded(dir, { state: 'done', finishedAtMs, framesTotal });
  await store.transition(jobId, 'done', { finishedAtMs });
  await store.expire(jobId, settings.keepSeconds);
  // The inputs are no longer needed: a done job keeps its output and its records (job.json, record.json).
  await rm(storage.framesDir(jobId), { recursive: true, force: true });
  for (const file of [spec.clip, ...spec.styles.map((s) => s.file)]) await rm(path.join(dir, file), { force: true });
  settings.log(`job ${jobId}: done (${framesTotal} frames)`);
}
