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
const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Moves a job to a new state unless it is already in a terminal one (atomic). */
const SET_STATE = `
local s = redis.call('HGET', KEYS[1], 'state')
if not s then return 0 end
if s == 'done' or s == 'failed' or s == 'cancelled' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1`;

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

  async create(id: string, token: string, format: OutputFormat): Promise<void> {
    await this.redis.hset(this.key(id), { state: 'queued', tokenHash: hashToken(token), format, framesTotal: 0, createdAtMs: Date.now() });
  }

  /** True when `token` is job `id`'s (constant-time). Unknown ids and wrong tokens look the same. */
  async checkToken(id: string, token: unknown): Promise<boolean> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 200) return false;
    const stored = await this.redis.hget(this.key(id), 'tokenHash');
    if (!stored) return false;
    const a = Buffer.from(stored, 'hex');
    const b = Buffer.from(hashToken(token), 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  async state(id: string): Promise<JobState | null> {
    return (await this.redis.hget(this.key(id), 'state')) as JobState | null;
  }

  /** True when the job's work should stop: cancelled, failed, or its record gone. */
  async isStopped(id: string): Promise<boolean> {
    const s = await this.state(id);
    return s === null || s === 'cancelled' || s === 'failed';
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
    await this.redis.hset(this.chunksKey(id), String(index), frames);
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

  async remove(id: string): Promise<void> {
    await this.redis.del(this.key(id), this.chunksKey(id));
  }
}
