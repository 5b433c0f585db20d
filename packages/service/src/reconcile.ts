/**
 * Disk is the source of truth for a job: `serve` compares the job folders with Redis when it starts
 * and whenever Redis comes back, so a Redis that lost its data (no persistence, a flush, a failover
 * to an empty replica) never turns a job into a silent 404.
 * - a folder whose job had not ended, with no record or no queue entry: queued again (fixed job ids
 *   make this idempotent: a plan already queued is not added twice);
 * - a folder of an ended job with no record: its record comes back with its state and error, kept
 *   for what is left of `--keep-hours`;
 * - a folder with no record on disk is left to the sweep (storage.ts), which removes it when old;
 * - a Redis record with no folder and no TTL, older than 10 minutes, is removed.
 */
import { Job, type Queue } from 'bullmq';
import { existsSync } from 'node:fs';
import type { JobState, JobStore } from './jobs.js';
import { readJobRecord, recordEnded, type JobRecordFile } from './job-files.js';
import type { LocalStorage } from './storage.js';
import { JOB_ATTEMPTS, JOB_BACKOFF, removeJobFlow, type PlanJobData } from './worker-context.js';

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
  /** Redis records with no folder, removed. */
  readonly orphansRemoved: number;
}

/** States of a queue entry that will still run (a failed or completed one kept for the record will not). */
const LIVE = ['waiting', 'delayed', 'active', 'prioritized', 'waiting-children'];

/** True when queue entry `jobId` exists and will still run. */
async function isLive(queue: Queue, jobId: string): Promise<boolean> {
  const job = await Job.fromId(queue, jobId);
  return job !== undefined && LIVE.includes(await job.getState());
}

/**
 * Queues job `id`'s plan; a no-op when a plan with its fixed id is already live. A finished entry of
 * that id (a failed plan kept for `--keep-hours`) is removed first, or the add would do nothing.
 */
export async function queuePlan(queue: Queue, id: string, keepSeconds: number): Promise<void> {
  const old = await Job.fromId(queue, `plan-${id}`);
  if (old && !LIVE.includes(await old.getState())) await old.remove();
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
  if (await isLive(ctx.queue, `plan-${id}`)) return true;
  // A planned job's stitch is the parent of its chunks until it completes.
  return (await ctx.store.isPlanned(id)) && (await isLive(ctx.queue, `stitch-${id}`));
}

/** What reconciling one job did. */
export type ReconcileOutcome = 'requeued' | 'restored' | null;

/** Ended on disk: Redis follows (record rebuilt, or moved to the ended state, with a TTL). */
async function followDisk(ctx: ReconcileContext, id: string, record: JobRecordFile, state: JobState | null): Promise<ReconcileOutcome> {
  const { store, keepSeconds } = ctx;
  const ended = record.ended!;
  const left = Math.ceil(keepSeconds - (Date.now() - ended.finishedAtMs) / 1000);
  if (left <= 0) return null; // the sweep removes it
  const fields = { tokenHash: record.tokenHash, format: record.format, createdAtMs: record.createdAtMs };
  if (state === null) return (await store.restore(id, fields, { ...ended, ttlSeconds: left })) ? 'restored' : null;
  if (state === 'queued' || state === 'running') {
    await store.transition(id, ended.state, {
      finishedAtMs: ended.finishedAtMs,
      ...(ended.error !== undefined ? { error: ended.error } : {}),
    });
    await store.expire(id, left);
    return 'restored';
  }
  await store.ensureExpiry(id, left);
  return null;
}

/**
 * Brings job `id`'s Redis record and queue entry in line with its folder (the module's comment says
 * how); resolves with what it did.
 */
export async function reconcileJob(ctx: ReconcileContext, id: string): Promise<ReconcileOutcome> {
  const { storage, store, queue, keepSeconds } = ctx;
  const record = await readJobRecord(storage.jobDir(id));
  if (!record) return null;
  const state = await store.state(id);
  if (record.ended) return followDisk(ctx, id, record, state);
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
    await store.ensureExpiry(id, keepSeconds);
    return null;
  }
  if (state === 'cancelled') return null;
  if (state === null) await store.restore(id, { tokenHash: record.tokenHash, format: record.format, createdAtMs: record.createdAtMs });
  else if (await hasQueueEntry(ctx, id)) return null;
  // Read again: a stitch that finished while the queue was read has ended the job meanwhile.
  if (state !== null && ((await store.isStopped(id)) || (await readJobRecord(storage.jobDir(id)))?.ended)) return null;
  // Planned, but its flow is gone: planned again (chunks rewrite their frames under the same names).
  await store.clearPlanned(id);
  await queuePlan(queue, id, keepSeconds);
  return 'requeued';
}

/** A Redis record younger than this may belong to an upload being committed; never removed as an orphan. */
const ORPHAN_MIN_AGE_MS = 10 * 60_000;

/**
 * Removes Redis records with no folder and no TTL (a POST given up while Redis was away for longer
 * than its clean-up retried): nobody holds their token, and nothing would ever expire them.
 */
async function removeOrphanRecords(ctx: ReconcileContext): Promise<number> {
  const { storage, store, queue } = ctx;
  let removed = 0;
  for (const id of await store.listIds()) {
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(id) || existsSync(storage.jobDir(id))) continue;
    const created = (await store.createdAtMs(id)) ?? 0;
    if (Date.now() - created < ORPHAN_MIN_AGE_MS) continue;
    if ((await store.ttlSeconds(id)) !== -1) continue; // ended or DELETEd: it expires on its own
    await removeJobFlow(queue, id);
    await store.remove(id);
    removed++;
  }
  return removed;
}

export async function reconcile(ctx: ReconcileContext): Promise<ReconcileResult> {
  const requeued: string[] = [];
  const restored: string[] = [];
  for (const id of await ctx.storage.listJobs()) {
    const outcome = await reconcileJob(ctx, id);
    if (outcome === 'requeued') requeued.push(id);
    else if (outcome === 'restored') restored.push(id);
  }
  return { requeued, restored, orphansRemoved: await removeOrphanRecords(ctx) };
}
