/**
 * A job's record in Redis (`livestyle:job:<id>`, a hash) beside BullMQ's own keys: its state, token
 * hash and frame counts, and frames done per chunk (`livestyle:job:<id>:chunks`). Ids and tokens
 * are random (128 and 192 bits); only the token's SHA-256 is stored.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { OutputFormat } from './config.js';

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
const TERMINAL: readonly JobState[] = ['done', 'failed', 'cancelled'];

/** What `GET /jobs/:id` answers. */
export interface JobStatus {
  readonly state: JobState;
  readonly framesDone: number;
  readonly framesTotal: number;
  /** Frames per second over the job's running time, all workers together. */
  readonly fps: number;
  /** Seconds left at that rate; null before the first frame. */
  readonly etaSeconds: number | null;
  readonly format: OutputFormat;
  readonly error?: string;
}

export const newJobId = (): string => randomBytes(16).toString('base64url');
export const newToken = (): string => randomBytes(24).toString('base64url');
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** True when `token` hashes to `storedHash` (hex SHA-256), compared in constant time. */
export function tokenMatches(storedHash: string, token: unknown): boolean {
  if (typeof token !== 'string' || token.length === 0 || token.length > 200) return false;
  const a = Buffer.from(storedHash, 'hex');
  const b = Buffer.from(hashToken(token), 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Moves a job to a new state unless it is already in a terminal one (atomic). */
const SET_STATE = `
local s = redis.call('HGET', KEYS[1], 'state')
if not s then return 0 end
if s == 'done' or s == 'failed' or s == 'cancelled' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1`;

/** Sets a chunk's frame count only while the job runs (a late chunk never re-creates a key without a TTL). */
const SET_CHUNK = `
local s = redis.call('HGET', KEYS[1], 'state')
if s ~= 'queued' and s ~= 'running' then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1`;

/** Writes a job's record unless one exists (reconciling from disk never overwrites a live record). */
const RESTORE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1`;

/** What a job's record holds that its folder also keeps (job-files.ts), so it can be rebuilt. */
export interface RecordFields {
  readonly tokenHash: string;
  readonly format: OutputFormat;
  readonly createdAtMs: number;
}

export class JobStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'livestyle',
  ) {}

  private key(id: string): string {
    return `${this.prefix}:job:${id}`;
  }

  private chunksKey(id: string): string {
    return `${this.prefix}:job:${id}:chunks`;
  }

  async create(id: string, record: RecordFields): Promise<void> {
    await this.redis.hset(this.key(id), { state: 'queued', framesTotal: 0, ...record });
  }

  /**
   * Re-creates a record lost from Redis (no persistence, a flush) from the job's folder: a job that
   * had not ended is queued again, an ended one keeps its state and error for `ttlSeconds`. False
   * when a record exists.
   */
  async restore(
    id: string,
    record: RecordFields,
    ended?: { state: 'done' | 'failed'; finishedAtMs: number; framesTotal?: number; error?: string; ttlSeconds: number },
  ): Promise<boolean> {
    const fields: Record<string, string | number> = { state: ended?.state ?? 'queued', framesTotal: ended?.framesTotal ?? 0, ...record };
    if (ended) {
      fields['finishedAtMs'] = ended.finishedAtMs;
      if (ended.error !== undefined) fields['error'] = ended.error;
    }
    const args = Object.entries(fields).flatMap(([k, v]) => [k, String(v)]);
    const made = (await this.redis.eval(RESTORE, 1, this.key(id), ...args)) === 1;
    if (made && ended) await this.expire(id, Math.max(1, ended.ttlSeconds));
    return made;
  }

  /** Forgets that the job was planned (its flow was lost with Redis's data), so a plan runs again. */
  async clearPlanned(id: string): Promise<void> {
    await this.redis.hdel(this.key(id), 'chunks');
    await this.redis.del(this.chunksKey(id));
  }

  /**
   * True when `token` is job `id`'s (constant-time), false when it is not, null when Redis has no
   * record of `id` (its folder may still hold one: server-context.ts). Callers answer unknown ids and
   * wrong tokens alike.
   */
  async checkToken(id: string, token: unknown): Promise<boolean | null> {
    const stored = await this.redis.hget(this.key(id), 'tokenHash');
    if (!stored) return null;
    return tokenMatches(stored, token);
  }

  async state(id: string): Promise<JobState | null> {
    return (await this.redis.hget(this.key(id), 'state')) as JobState | null;
  }

  /** True when the job's work should stop: ended (cancelled, failed, done) or its record gone. */
  async isStopped(id: string): Promise<boolean> {
    const s = await this.state(id);
    return s === null || TERMINAL.includes(s);
  }

  /** True once a plan has split the job into chunks (its flow is in the queue or done). */
  async isPlanned(id: string): Promise<boolean> {
    return (await this.redis.hget(this.key(id), 'chunks')) !== null;
  }

  /** Sets the state (and fields) unless the job already ended; true if it changed. */
  async transition(id: string, state: JobState, fields: Record<string, string | number> = {}): Promise<boolean> {
    const args = [state, ...Object.entries(fields).flatMap(([k, v]) => [k, String(v)])];
    return (await this.redis.eval(SET_STATE, 1, this.key(id), ...args)) === 1;
  }

  async markRunning(id: string, framesTotal: number): Promise<void> {
    const startedAtMs = (await this.redis.hget(this.key(id), 'startedAtMs')) ?? String(Date.now());
    await this.transition(id, 'running', { framesTotal, startedAtMs });
  }

  /** Records that the job's chunks are queued (after its flow was added). */
  async markPlanned(id: string, chunks: number): Promise<void> {
    await this.redis.hset(this.key(id), 'chunks', chunks);
  }

  async setChunkFrames(id: string, index: number, frames: number): Promise<void> {
    await this.redis.eval(SET_CHUNK, 2, this.key(id), this.chunksKey(id), String(index), String(frames));
  }

  async status(id: string): Promise<JobStatus | null> {
    const [h, chunks] = await Promise.all([this.redis.hgetall(this.key(id)), this.redis.hvals(this.chunksKey(id))]);
    if (!h['state']) return null;
    const state = h['state'] as JobState;
    const framesTotal = Number(h['framesTotal'] ?? 0);
    const framesDone =
      state === 'done'
        ? framesTotal
        : Math.min(
            framesTotal,
            chunks.reduce((a, v) => a + Number(v), 0),
          );
    const started = Number(h['startedAtMs'] ?? 0);
    const end = TERMINAL.includes(state) ? Number(h['finishedAtMs'] ?? Date.now()) : Date.now();
    const seconds = started > 0 ? Math.max(1e-3, (end - started) / 1000) : 0;
    const fps = seconds > 0 ? framesDone / seconds : 0;
    const etaSeconds = state === 'done' ? 0 : fps > 0 && !TERMINAL.includes(state) ? (framesTotal - framesDone) / fps : null;
    return {
      state,
      framesDone,
      framesTotal,
      fps: Math.round(fps * 100) / 100,
      etaSeconds: etaSeconds === null ? null : Math.round(etaSeconds * 10) / 10,
      format: (h['format'] ?? 'webm') as OutputFormat,
      ...(h['error'] ? { error: h['error'] } : {}),
    };
  }

  /** Keeps the record for `seconds` more (finished jobs), then Redis drops it. */
  async expire(id: string, seconds: number): Promise<void> {
    await this.redis.expire(this.key(id), seconds);
    await this.redis.expire(this.chunksKey(id), seconds);
  }

  /** Gives an ended job's record (and chunk counts) a TTL of `seconds` if it has none (a worker died between the two). */
  async ensureExpiry(id: string, seconds: number): Promise<void> {
    if ((await this.redis.ttl(this.key(id))) === -1) await this.expire(id, seconds);
  }

  /** Seconds until the record expires; -1 when it never does, -2 when there is none. */
  async ttlSeconds(id: string): Promise<number> {
    return this.redis.ttl(this.key(id));
  }

  /** Ids of every job record in Redis (SCAN: never blocks Redis). */
  async listIds(): Promise<string[]> {
    const ids: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:job:*`, 'COUNT', 500);
      cursor = next;
      for (const k of keys) {
        const id = k.slice(`${this.prefix}:job:`.length);
        if (!id.includes(':')) ids.push(id);
      }
    } while (cursor !== '0');
    return ids;
  }

  /** When the job's record was made (ms since the epoch), or null. */
  async createdAtMs(id: string): Promise<number | null> {
    const v = await this.redis.hget(this.key(id), 'createdAtMs');
    return v === null ? null : Number(v);
  }

  async remove(id: string): Promise<void> {
    await this.redis.del(this.key(id), this.chunksKey(id));
  }
}
