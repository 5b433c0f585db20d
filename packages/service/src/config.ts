/**
 * The job service's settings (shared by `livestyle-service serve` and `livestyle-service worker`), the options a job
 * may carry, and their validation. Everything here is plain data: no Redis, no HTTP.
 */
import {
  SURFACE_DEFAULTS,
  SettingsError,
  VIDEO_SETTING_KEYS,
  resolveVideoSettings,
  type VideoSettings,
} from '@livestyle/core/internal/pipeline/settings.js';

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
  /** Most frames a job may have. */
  readonly frames: number;
  /** Most work a job may buy: frames x output width x height, in megapixels. */
  readonly outputMegapixels: number;
}

export const DEFAULT_LIMITS: UploadLimits = {
  clipBytes: 1024 * 1024 * 1024,
  styleBytes: 25 * 1024 * 1024,
  durationS: 15 * 60,
  sidePx: 3840,
  styles: 4,
  // 30 minutes at 30 frames/s.
  frames: 54_000,
  // About those 54,000 frames at 1280x720.
  outputMegapixels: 50_000,
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

/**
 * A job's options: the video settings (core's settings.ts: the CLI's names, every setting `livestyle
 * video` takes) plus the output's size and container.
 */
export interface JobOptions extends VideoSettings {
  /** Short side of the output, px; 0 = the clip's own size. */
  readonly size: number;
  readonly format: OutputFormat;
}

/** The service's output options beside the video settings. */
const OUTPUT_KEYS = ['size', 'format'] as const;
/** The settings a job takes: all but the live surfaces' processing size (a job's output size is `size`). */
const KNOWN_KEYS: readonly string[] = [...VIDEO_SETTING_KEYS.filter((k) => k !== 'processingSize'), ...OUTPUT_KEYS];
/** Largest output short side a job may ask for, px (the input's side is capped by --max-side). */
const MAX_OUTPUT_SIDE_PX = 4096;

export const DEFAULT_JOB_OPTIONS: JobOptions = { ...SURFACE_DEFAULTS.service, size: 512, format: 'webm' };

export class JobOptionsError extends Error {
  override name = 'JobOptionsError';
}

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
  const unknown = Object.keys(o).filter((k) => !KNOWN_KEYS.includes(k));
  if (unknown.length > 0)
    throw new JobOptionsError(`unknown option ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${KNOWN_KEYS.join(', ')})`);
  const { size = DEFAULT_JOB_OPTIONS.size, format = DEFAULT_JOB_OPTIONS.format, ...given } = o;
  if (typeof size !== 'number' || !Number.isInteger(size) || (size !== 0 && (size < 32 || size > MAX_OUTPUT_SIDE_PX)))
    throw new JobOptionsError(`options.size must be 0 or an integer in [32, ${MAX_OUTPUT_SIDE_PX}] (got ${JSON.stringify(size)})`);
  if (format !== 'webm' && format !== 'mp4')
    throw new JobOptionsError(`options.format must be "webm" or "mp4" (got ${JSON.stringify(format)})`);
  try {
    return { ...resolveVideoSettings('service', given, 'options.'), size, format };
  } catch (e) {
    throw e instanceof SettingsError ? new JobOptionsError(e.message) : e;
  }
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
  if (!Number.isFinite(weights.reduce((a, b) => a + b, 0)))
    throw new JobOptionsError(`weights "${text}" add up to more than the largest number: use relative weights such as 0.7,0.3`);
  return weights;
}
