/**
 * Disk is the source of truth for a job: `serve` compares the job folders with Redis when it starts
 * and whenever Redis comes back, so a Redis that lost its data (no persistence, a flush, a failover
 * to an empty replica) never turns a job into a silent 404.
 * - a folder whose job had not ended, with no record or no queue entry: queued again (fixed job ids
 *   make this idempotent: a plan already queued is not added twice);
 * - a folder of an ended job with no record: its record comes back with its state and error, kept
 *   for what is left of `--keep-hours`;
 * - a folder with no record on disk is left to the sweep (storage.ts), which removes it when old.
 */
import { Job, type Queue } from 'bullmq';
import type { JobStore } from './jobs.js';
import { readJobRecord, recordEnded } from './job-files.js';
import type { LocalStorage } from './storage.js';
import { JOB_ATTEMPTS, JOB_BACKOFF, type PlanJobData } from './worker-context.js';

export interface ReconcileContext {
  readonly storage: LocalStorage;
  readonly store: JobStore;
  readonly queue: Queue;
  readonly keepSeconds: number;
}

export interface ReconcileResult {
  /** Jobs queued again (their record or queue entry was gone). */
  readonly requeued: string[];
  /** Ended jobs whose record was rebuilt. */
  readonly restored: string[];
}

/** Queues job `id`'s plan (a no-op when a plan with its fixed id is already queued). */
export async function queuePlan(queue: Queue, id: string, keepSeconds: number): Promise<void> {
  await queue.add('plan', { jobId: id } satisfies PlanJobData, {
    jobId: `plan-${id}`,
    attempts: JOB_ATTEMPTS,
    backoff: JOB_BACKOFF,
    removeOnComplete: true,
    removeOnFail: { age: keepSeconds },
  });
}

/** True when job `id` has something in the queue that will move it on (its plan, or its stitch flow). */
async function hasQueueEntry(ctx: ReconcileContext, id: string): Promise<boolean> {
  if (await Job.fromId(ctx.queue, `plan-${id}`)) return true;
  // A planned job's stitch is the parent of its chunks until it completes.
  return (await ctx.store.isPlanned(id)) && Boolean(await Job.fromId(ctx.queue, `stitch-${id}`));
}

export async function reconcile(ctx: ReconcileContext): Promise<ReconcileResult> {
  const { storage, store, queue, keepSeconds } = ctx;
  const requeued: string[] = [];
  const restored: string[] = [];
  for (const id of await storage.listJobs()) {
    const record = await readJobRecord(storage.jobDir(id));
    if (!record) continue;
    const fields = { tokenHash: record.tokenHash, format: record.format, createdAtMs: record.createdAtMs };
    const state = await store.state(id);
    if (record.ended) {
      const left = Math.ceil(keepSeconds - (Date.now() - record.ended.finishedAtMs) / 1000);
      if (left <= 0) continue; // the sweep removes it
      if (state === null && (await store.restore(id, fields, { ...record.ended, ttlSeconds: left }))) restored.push(id);
      // Ended on disk but not in Redis (its worker died between the two): Redis follows the disk.
      else if (state === 'queued' || state === 'running') {
        const { state: ended, finishedAtMs, error } = record.ended;
        await store.transition(id, ended, { finishedAtMs, ...(error !== undefined ? { error } : {}) });
        await store.expire(id, left);
        restored.push(id);
      }
      continue;
    }
    if (state === 'done' || state === 'failed') {
      // Ended in Redis but not on disk (a worker died between the two): the disk follows, so the job
      // is never queued again once its record expires.
      const s = await store.status(id);
      await recordEnded(storage.jobDir(id), {
        state,
        finishedAtMs: Date.now(),
        ...(s ? { framesTotal: s.framesTotal } : {}),
        ...(s?.error !== undefined ? { error: s.error } : {}),
      });
      continue;
    }
    if (state === 'cancelled') continue;
    if (state === null) await store.restore(id, fields);
    else if (await hasQueueEntry(ctx, id)) continue;
    // Planned, but its flow is gone: planned again (chunks rewrite their frames under the same names).
    await store.clearPlanned(id);
    await queuePlan(queue, id, keepSeconds);
    requeued.push(id);
  }
  return { requeued, restored };
}
