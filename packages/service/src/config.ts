/**
 * The job service's settings (shared by `livestyle-service serve` and `livestyle-service worker`), the options a job
 * may carry, and their validation. Everything here is plain data: no Redis, no HTTP.
 */
import { MODEL_IDS, type ModelId } from '@livestyle/core/internal/weights/architectures.js';
import { PRESETS, type Preset } from '@livestyle/core/internal/pipeline/presets.js';
import { type TransformMethod } from '@livestyle/core/internal/pipeline/options.js';

/** Redis URL both commands use unless told: a local Redis on its default port. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_PORT = 8787;
export const DEFAULT_HOST = '127.0.0.1';
/** BullMQ queue (one queue; jobs named plan, chunk and stitch). */
export const QUEUE_NAME = 'livestyle';

/** What an upload may be; over a limit is answered 413 (bytes) or 422 (duration, size). */
export interface UploadLimits {
  readonly clipBytes: number;
  readonly styleBytes: number;
  readonly durationS: number;
  /** Longest side of the clip, px. */
  readonly sidePx: number;
  readonly styles: number;
}

export const DEFAULT_LIMITS: UploadLimits = {
  clipBytes: 1024 * 1024 * 1024,
  styleBytes: 25 * 1024 * 1024,
  durationS: 15 * 60,
  sidePx: 3840,
  styles: 4,
};

/** How clips are cut into chunks. */
export interface ChunkingSettings {
  /** Frames per chunk, nominal (scene cuts move the boundary by up to half of it). */
  readonly chunkFrames: number;
  /**
   * Frames each chunk runs through the smoother before its first written frame, so the temporal
   * state has converged at the boundary (not written; none at a scene cut, where the smoother
   * restarts anyway).
   */
  readonly warmupFrames: number;
  /**
   * Frames over which each chunk's start is cross-faded with the previous chunk's continuation
   * (ChunkPlan in plan.ts says why).
   */
  readonly fadeFrames: number;
  /** ffmpeg scene score (0..1) above which a frame starts a new scene. */
  readonly sceneThreshold: number;
}

/** Measured on the shared clips (docs/service.md): 16 + 16 frames keep every seam within 1.2x. */
export const DEFAULT_CHUNKING: ChunkingSettings = { chunkFrames: 150, warmupFrames: 16, fadeFrames: 16, sceneThreshold: 0.4 };

export type OutputFormat = 'webm' | 'mp4';

/** A job's options: the `video` command's names. */
export interface JobOptions {
  readonly preset: Preset;
  readonly model: ModelId;
  readonly method?: TransformMethod;
  readonly alpha: number;
  /** Short side of the output, px; 0 = the clip's own size. */
  readonly size: number;
  readonly temporal: boolean;
  readonly strength: number;
  readonly preserveColor: boolean;
  /** Style images are scaled down to this longest side, px (0 = native), as `--style-size`. */
  readonly styleSize: number;
  readonly format: OutputFormat;
}

export const DEFAULT_JOB_OPTIONS: JobOptions = {
  preset: 'best',
  model: 'cd16x',
  alpha: 1,
  size: 512,
  temporal: true,
  strength: 0.9,
  preserveColor: false,
  styleSize: 2048,
  format: 'webm',
};

export class JobOptionsError extends Error {
  override name = 'JobOptionsError';
}

const KNOWN_KEYS = ['preset', 'model', 'method', 'alpha', 'size', 'temporal', 'strength', 'preserveColor', 'styleSize', 'format'] as const;

/** Parses the `options` form field (a JSON object); throws JobOptionsError with one clear message. */
export function parseJobOptions(text: string | undefined): JobOptions {
  if (text === undefined || text.trim() === '') return DEFAULT_JOB_OPTIONS;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new JobOptionsError('options is not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new JobOptionsError('options must be a JSON object');
  const o = raw as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !(KNOWN_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0)
    throw new JobOptionsError(`unknown option ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${KNOWN_KEYS.join(', ')})`);
  const pick = <T>(key: string, ok: (v: unknown) => v is T, what: string, fallback: T): T => {
    if (!(key in o)) return fallback;
    const v = o[key];
    if (!ok(v)) throw new JobOptionsError(`options.${key} must be ${what} (got ${JSON.stringify(v)})`);
    return v;
  };
  const oneOf =
    <T extends string>(values: readonly T[]) =>
    (v: unknown): v is T =>
      typeof v === 'string' && (values as readonly string[]).includes(v);
  const unit = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 1;
  const bool = (v: unknown): v is boolean => typeof v === 'boolean';
  // Below 32 px the deepest encoder level cannot run; above 4096 a frame no longer fits a GPU texture budget.
  const side = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && (v === 0 || (v >= 32 && v <= 4096));
  const method = pick<TransformMethod | undefined>(
    'method',
    (v): v is TransformMethod => oneOf(['wct', 'adain'] as const)(v),
    '"wct" or "adain"',
    undefined,
  );
  return {
    preset: pick('preset', oneOf(PRESETS), PRESETS.map((p) => `"${p}"`).join(' | '), DEFAULT_JOB_OPTIONS.preset),
    model: pick('model', oneOf(MODEL_IDS), MODEL_IDS.map((p) => `"${p}"`).join(' | '), DEFAULT_JOB_OPTIONS.model),
    ...(method ? { method } : {}),
    alpha: pick('alpha', unit, 'a number in [0, 1]', DEFAULT_JOB_OPTIONS.alpha),
    size: pick('size', side, '0 or an integer in [32, 4096]', DEFAULT_JOB_OPTIONS.size),
    temporal: pick('temporal', bool, 'true or false', DEFAULT_JOB_OPTIONS.temporal),
    strength: pick('strength', unit, 'a number in [0, 1]', DEFAULT_JOB_OPTIONS.strength),
    preserveColor: pick('preserveColor', bool, 'true or false', DEFAULT_JOB_OPTIONS.preserveColor),
    styleSize: pick('styleSize', side, '0 or an integer in [32, 4096]', DEFAULT_JOB_OPTIONS.styleSize),
    format: pick('format', oneOf(['webm', 'mp4'] as const), '"webm" or "mp4"', DEFAULT_JOB_OPTIONS.format),
  };
}

/** Parses `weights` (comma-separated, one per style); all finite, >= 0, not all 0. */
export function parseWeights(text: string | undefined, styleCount: number): number[] {
  if (text === undefined || text.trim() === '') return new Array<number>(styleCount).fill(1);
  const parts = text.split(',').map((s) => s.trim());
  const weights = parts.map(Number);
  if (parts.some((p) => p === '') || weights.some((w) => !Number.isFinite(w) || w < 0))
    throw new JobOptionsError(`weights "${text}" must be comma-separated numbers >= 0`);
  if (weights.length !== styleCount)
    throw new JobOptionsError(
      `weights gives ${weights.length} number${weights.length === 1 ? '' : 's'} for ${styleCount} style${styleCount === 1 ? '' : 's'}`,
    );
  if (weights.every((w) => w === 0)) throw new JobOptionsError('weights are all 0');
  return weights;
}
