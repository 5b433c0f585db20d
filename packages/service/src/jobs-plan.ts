/** The `plan` job kind of the worker. */
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { Job } from 'bullmq';
import { QUEUE_NAME } from './config.js';
import { planChunks, scanScenes } from './plan.js';
import { readJobSpec } from './spec.js';
import {
  checkNotStopped,
  JOB_ATTEMPTS,
  JOB_BACKOFF,
  removeJobFlow,
  seekTime,
  type ChunkJobData,
  type PlanJobData,
  type StitchJobData,
  type WorkerContext,
} from './worker-context.js';

/** plan: scans the clip for scene cuts and adds the flow (a stitch parent over one chunk job per range of frames). */
export async function runPlanJob(ctx: WorkerContext, job: Job<PlanJobData>): Promise<void> {
  const { settings, store } = ctx;
  const { storage } = settings;
  const { jobId } = job.data;
  await checkNotStopped(store, storage, jobId);
  // A plan retried after it added its flow (its worker died just after) must not add it again:
  // finished chunks are removed from the queue, so their fixed ids would no longer deduplicate.
  if (await store.isPlanned(jobId)) return;
  const spec = await readJobSpec(storage.jobDir(jobId));
  await store.transition(jobId, 'running', { startedAtMs: Date.now() });
  const stopped = new AbortController();
  const watch = setInterval(
    () =>
      void store.isStopped(jobId).then(
        (s) => s && stopped.abort(),
        () => undefined,
      ),
    500,
  );
  const scan = await scanScenes(path.join(storage.jobDir(jobId), spec.clip), spec.chunking.sceneThreshold, stopped.signal).finally(() =>
    clearInterval(watch),
  );
  const chunks = planChunks(scan.frameCount, scan.cuts, spec.chunking);
  // Not recursive: a cancelled job's folder is gone and must stay gone.
  await mkdir(storage.framesDir(jobId)).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
  await store.markRunning(jobId, scan.frameCount);
  const retry = { attempts: JOB_ATTEMPTS, backoff: JOB_BACKOFF };
  // Fixed job ids: a plan retried after adding its flow adds nothing twice.
  await ctx.flows.add({
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
  if (await store.isStopped(jobId)) await removeJobFlow(ctx.queue, jobId);
  settings.log(`job ${jobId}: ${scan.frameCount} frames, ${chunks.length} chunks (${scan.cuts.length} scene cuts)`);
}
