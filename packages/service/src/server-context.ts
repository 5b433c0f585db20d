/** What the HTTP routes of `livestyle-service serve` share: settings, the job store, the queue, errors. */
import type { EventEmitter } from 'node:events';
import type { FastifyRequest } from 'fastify';
import type { Queue } from 'bullmq';
import { tokenMatches, type JobStatus, type JobStore } from './jobs.js';
import { readJobRecord } from './job-files.js';
import { reconcileJob, type ReconcileContext } from './reconcile.js';
import type { ServerSettings } from './server.js';

/** A refused request: its HTTP status and one clear message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The answer to a request that needs Redis while Redis is away (503). */
export const QUEUE_UNAVAILABLE = 'queue unavailable, retry later';

/** What every route group works with. */
export interface ServerContext {
  readonly settings: ServerSettings;
  readonly store: JobStore;
  readonly queue: Queue;
  /** Chunk progress events, by job id (they wake that job's event streams). */
  readonly progress: EventEmitter;
  /** Open event streams' end functions, ended when the server closes. */
  readonly streams: Set<() => void>;
  /** Uploads being received or cleaned up: a shutdown waits for them (their partial files go first). */
  readonly uploads: Set<Promise<void>>;
  /** Aborted when the server closes past its drain time: uploads in progress stop and clean up. */
  readonly closing: AbortSignal;
  /** True while the Redis connection is up (requests that need it fail fast otherwise). */
  readonly redisReady: () => boolean;
}

/** Resolves the job of `:id` if the request carries its token, else a 404. */
export async function authorised(ctx: ServerContext, req: FastifyRequest): Promise<string> {
  const id = (req.params as { id: string }).id;
  const query = req.query as { token?: unknown };
  // Auth schemes are case-insensitive (RFC 9110, section 11.1).
  const bearer = /^Bearer +(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const token = query.token ?? bearer;
  if (!/^[A-Za-z0-9_-]{22}$/.test(id)) throw new HttpError(404, 'no such job');
  const known = await ctx.store.checkToken(id, token);
  if (known === true) return id;
  // No record in Redis (it lost its data without dropping the connection: FLUSHALL, a failover) but
  // a folder with one: the record is rebuilt from disk now, never a silent 404.
  if (known === null) {
    const record = await readJobRecord(ctx.settings.storage.jobDir(id));
    if (record && tokenMatches(record.tokenHash, token)) {
      await reconcileJob(reconcileContext(ctx), id);
      return id;
    }
  }
  throw new HttpError(404, 'no such job');
}

/** What reconciling a job needs, from the server's context. */
export function reconcileContext(ctx: ServerContext): ReconcileContext {
  return { storage: ctx.settings.storage, store: ctx.store, queue: ctx.queue, keepSeconds: ctx.settings.keepSeconds };
}

/** A status as the API answers it (the output format is internal). */
export function publicStatus(s: JobStatus): Omit<JobStatus, 'format'> {
  return {
    state: s.state,
    framesDone: s.framesDone,
    framesTotal: s.framesTotal,
    fps: s.fps,
    etaSeconds: s.etaSeconds,
    ...(s.error !== undefined ? { error: s.error } : {}),
  };
}

export async function sendStatus(ctx: ServerContext, id: string): Promise<JobStatus> {
  const s = await ctx.store.status(id);
  if (!s) throw new HttpError(404, 'no such job');
  return s;
}
