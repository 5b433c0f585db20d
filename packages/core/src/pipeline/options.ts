/**
 * Stylizer options: one object, documented defaults, one validator. Every error names the option,
 * the bad value and what is allowed.
 */
import { MODEL_FAMILIES, isModelId, type ModelId } from '../weights/architectures.js';
import type { ModelFolder } from '../weights/segmentation-model.js';
import type { ByteSource } from '../weights/model-loader.js';
import type { StatisticsPrecision } from '../transforms/moments.js';
import type { StyleStatsCache } from './style-stats-cache.js';
import {
  PRESETS,
  PRESET_FIELDS,
  isPreset,
  presetOptions,
  type Preset,
  type PresetField,
  type TransformMethod,
  type WctWhitening,
} from './presets.js';

export type { TransformMethod, WctWhitening };
/** A tf.js backend the stylizer can run on (`'webgl'` only in the browser). */
export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
/** Encoder/decoder arithmetic: `'float16'` runs half-float convolutions on WebGPU (else falls back to float32). */
export type NetworkPrecision = 'float32' | 'float16';

/** Everything `Stylizer.create` and `setOptions` accept; every field has a default in {@link DEFAULT_OPTIONS}. */
export interface StylizerOptions {
  /**
   * Quality/speed preset: `'realtime'`, `'balanced'` or `'best'` (see presets.ts). Setting it applies
   * the preset's method, levels, whitening, internal resolution and video flow cap and check, beneath any of those given in
   * the same call or chosen explicitly before; it stays in force across a `model` change (its levels
   * are re-derived for the new model). Any option set to `undefined` returns to its default (the
   * preset's value for its fields). See {@link resolveOptions}. Default `null`: the fields as given
   * (their defaults are `'best'`).
   */
  readonly preset: Preset | null;
  /** Model family. Default `'cd16x'` (distilled VGG-19, ~16x cheaper, levels 1–5). `'vgg19'` has levels 1–3. */
  readonly model: ModelId;
  /** Feature transform. Default `'wct'`. */
  readonly method: TransformMethod;
  /** Levels to run coarse to fine. Default `null`: the model's full cascade (cd16x 5,4,3,2,1; vgg19 3,2,1). */
  readonly levels: readonly number[] | null;
  /** Style strength in [0, 1]: 1 = fully stylised features, 0 = the content's own. Default 1. */
  readonly alpha: number;
  /** Keep the content's colours (luminance-only transfer). Default false. */
  readonly preserveColor: boolean;
  /**
   * Longest side (px) a style image is scaled down to before encoding; 0 keeps it native. Default 2048:
   * bounds the memory a huge painting takes (a 16000 px one would need gigabytes) while leaving
   * ordinary style images as they are.
   */
  readonly styleMaxSizePx: number;
  /**
   * Precision of the per-frame channel statistics: `'float64'` (CPU, matches the reference exactly)
   * or `'float32'` (on the backend, less readback; for video). Style statistics are always float64.
   * Default `'float64'`.
   */
  readonly statisticsPrecision: StatisticsPrecision;
  /**
   * How WCT whitens the content features each frame: `'eigen'` (exact: the moments are read back and
   * eigendecomposed in float64 on the CPU, the published method) or `'newton-schulz'` (an iterative
   * inverse square root on the backend, no readback; feature error ~1e-4 relative to `'eigen'`,
   * measured in test/parity.test.ts). `statisticsPrecision` applies to `'eigen'` only. On a WebGL
   * backend that keeps half-float textures, `'newton-schulz'` whitens exactly instead: the
   * iteration diverges in float16 (README, "Precision").
   * Default `'eigen'`.
   */
  readonly wctWhitening: WctWhitening;
  /**
   * Internal resolution: the content is scaled down so its longer side is at most this (px) before
   * stylisation and the result is scaled back up to the input size. 0 = stylise at the input size.
   * Default 0.
   */
  readonly processingMaxSidePx: number;
  /**
   * Image mode: an image whose longer side exceeds this (px) is stylised tile by tile, with a halo
   * and one whole-image statistic per level, so memory is bounded by the tile, not the image (see
   * tiles.ts). 0 = never tile. Video frames are never tiled. Default 0.
   */
  readonly tileSizePx: number;
  /**
   * Precision of the encoder and decoder. `'float16'`: on the WebGPU backend, activations and
   * weights are kept as half floats (half the memory traffic), each conv layer is one fused
   * dispatch, and where the device has `shader-f16` (Node's device asks for it) products are taken
   * in half precision; the feature transforms stay float32. Against `'float32'` at 128 px: 44–58 dB
   * PSNR by preset (>= 40 dB asserted in test/webgpu-node.test.ts). On other backends `'float32'`
   * runs. Default `'float32'`.
   */
  readonly precision: NetworkPrecision;
  /** Backend preference. Default `'auto'`: webgpu → webgl → wasm → cpu, first that initialises. */
  readonly backend: BackendName | 'auto';
  /** Where converted models live: `<modelBaseUrl>/<model>/manifest.json`. Default `'./models/'` (browser). */
  readonly modelBaseUrl: string;
  /**
   * Overrides how model files are read (Node uses the file system). Default: derived from modelBaseUrl.
   * Called with a model's folder name: the model's id, or `'selfie'` for the segmentation model
   * (`subject` other than `'all'`).
   */
  readonly modelSource: ((model: ModelFolder) => ByteSource) | null;
  /**
   * A model file (manifest or weights) that has not arrived within this many ms fails the load with
   * a ModelFormatError naming it, instead of waiting forever on a stalled network or a custom
   * `modelSource` that never settles. 0 = no limit. Default 60000.
   */
  readonly modelLoadTimeoutMs: number;
  /** User decoder checkpoints (PyTorch .pth bytes); each replaces the decoder of the level it fits. */
  readonly decoderCheckpoints: readonly Uint8Array[];
  /**
   * Video mode only: temporal smoothing strength in [0, 1], the weight of the previous output
   * where tracking is confident (half of it where pixels move). 0 turns smoothing off: each frame
   * exactly as `stylize` gives it. Default 0.9.
   */
  readonly temporalStrength: number;
  /**
   * Video mode: optical flow runs on frames scaled to this long side (px); 0 = the output size.
   * Default 0, and the preset's where one is set: 512 for `realtime` and `balanced` (at 1200x512 the
   * flow at the output size cost 4x the realtime stylisation; capped at 512 it keeps 0.38x of the
   * per-frame warping error, inside the 0.5x target), 0 for `best` (docs/temporal.md, "What the flow
   * costs"). Video mode runs it at the stylisation's internal resolution (the adaptive scale,
   * `processingMaxSidePx`) when that is smaller. A cap trades accuracy for speed.
   */
  readonly flowMaxSidePx: number;
  /**
   * Video mode: the forward flow, which only the occlusion check uses (the backward flow warps the
   * previous output), is solved this many pyramid levels coarser (0 = as fine as the backward flow).
   * Default 0, and the preset's where one is set: 1 for `realtime` (a cheaper check: measured a quarter less
   * temporal-stage time, warping ratio 0.38x -> 0.44x of per-frame; docs/temporal.md). Never coarser than
   * 128 px on the long side, so it changes nothing for flows of 508 px or less (the camera's 256 px frames). In [0, 3].
   */
  readonly flowCheckLevels: number;
  /** Video mode: a timestamp gap longer than this (a pause or seek) starts afresh. Default 1000 ms. */
  readonly videoResetGapMs: number;
  /**
   * Video mode: adaptive resolution. When > 0, the internal resolution is lowered (down to 1/4 per
   * side, in fixed steps) until each `stylizeVideoFrame` call takes at most 1000 / targetFps ms, and
   * raised again when there is room (see adaptive-resolution.ts). The time measured is the call's
   * own (on WebGPU/WebGL: the time to issue the frame's work). 0 = off. Default 0.
   */
  readonly targetFps: number;
  /**
   * Where each style's per-level statistics are kept between runs (style-stats-cache.ts): a style
   * seen before with the same pixels, model weights, level and backend is not encoded again. Node:
   * `FileStyleStatsCache` (a folder); the CLI uses one unless `--no-style-cache`. Default null (none).
   */
  readonly styleStatsCache: StyleStatsCache | null;
  /**
   * What is stylised: `'all'` (the whole frame), `'background'` (everything but the people, who stay
   * as the camera sees them) or `'person'` (only the people). The person mask comes from MediaPipe's
   * selfie segmentation model (`<modelBaseUrl>/selfie/`), run in tf.js beside the stylizer; it is
   * feathered, and in video mode smoothed over time with the smoother's optical flow. Changing it to
   * `'background'` or `'person'` loads that model (250 KB) and rejects if it cannot. Default `'all'`.
   */
  readonly subject: Subject;
}

/** What a stylizer stylises: the whole frame, the background only, or the people only. */
export type Subject = 'all' | 'background' | 'person';
export const SUBJECTS: readonly Subject[] = ['all', 'background', 'person'];

/** The defaults of every {@link StylizerOptions} field (the README's option table). */
export const DEFAULT_OPTIONS: StylizerOptions = {
  preset: null,
  model: 'cd16x',
  method: 'wct',
  levels: null,
  alpha: 1,
  preserveColor: false,
  styleMaxSizePx: 2048,
  statisticsPrecision: 'float64',
  wctWhitening: 'eigen',
  processingMaxSidePx: 0,
  tileSizePx: 0,
  precision: 'float32',
  backend: 'auto',
  modelBaseUrl: './models/',
  modelSource: null,
  modelLoadTimeoutMs: 60_000,
  decoderCheckpoints: [],
  temporalStrength: 0.9,
  flowMaxSidePx: 0,
  flowCheckLevels: 0,
  videoResetGapMs: 1000,
  targetFps: 0,
  styleStatsCache: null,
  subject: 'all',
};

/** An option out of range or of the wrong type; the message names the option and the value given. */
export class OptionsError extends Error {
  override name = 'OptionsError';
}

const BACKENDS = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'];

/**
 * The preset fields the user chose explicitly, per resolved options object: a preset never overrides
 * them. Kept beside the options (not inferred by comparing values with the preset's), so choosing the
 * preset's own value still counts as a choice.
 */
const chosenFields = new WeakMap<StylizerOptions, ReadonlySet<PresetField>>();

/**
 * Merges `partial` over `base` and validates the result. How presets and explicit options combine:
 * - a preset sets its fields (method, levels, whitening, statistics precision, internal
 *   resolution, flow cap and check), except those given in the same call and those the user set explicitly before
 *   (recorded beside the options, never inferred from values): explicit choices win, whenever they
 *   were made, even when they equal the preset's value;
 * - the preset stays in force: changing `model` re-derives its fields for the new model (a level
 *   the new model lacks is never kept from the old one's preset), again keeping explicit choices;
 * - an option given as `undefined` goes back to its default (the active preset's value for a
 *   preset field) and is no longer the user's choice;
 * - clearing the preset (`preset: null` or `undefined`) returns the fields it set, and the user
 *   left, to their defaults.
 */
export function resolveOptions(partial: Partial<StylizerOptions> = {}, base: StylizerOptions = DEFAULT_OPTIONS): StylizerOptions {
  if (typeof partial !== 'object' || partial === null) throw new OptionsError('options must be an object');
  const known = new Set(Object.keys(DEFAULT_OPTIONS));
  for (const k of Object.keys(partial)) if (!known.has(k)) throw new OptionsError(`unknown option "${k}"`);
  const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<StylizerOptions>;
  const restored = Object.keys(partial).filter((k) => (partial as Record<string, unknown>)[k] === undefined) as Array<
    keyof StylizerOptions
  >;
  const preset = 'preset' in given ? given.preset : restored.includes('preset') ? DEFAULT_OPTIONS.preset : base.preset;
  if (preset !== null && preset !== undefined && !isPreset(preset))
    throw new OptionsError(`preset must be one of ${PRESETS.join(', ')} (got ${JSON.stringify(preset)})`);
  const model = given.model ?? (restored.includes('model') ? DEFAULT_OPTIONS.model : base.model);
  if (!isModelId(model)) throw new OptionsError(`model must be one of cd16x, vgg19 (got ${JSON.stringify(model)})`);
  const chosen = new Set(chosenFields.get(base) ?? []);
  for (const k of PRESET_FIELDS) {
    if (k in given) chosen.add(k);
    else if (restored.includes(k)) chosen.delete(k);
  }
  let presetFields: Partial<StylizerOptions> = {};
  if (!preset && base.preset) {
    // The preset is cleared: the fields it set (those the user did not choose) return to their defaults.
    presetFields = Object.fromEntries(PRESET_FIELDS.filter((k) => !chosen.has(k)).map((k) => [k, DEFAULT_OPTIONS[k]]));
  } else if (preset && (given.preset !== undefined || model !== base.model || restored.length > 0)) {
    const fields: Partial<Record<PresetField, unknown>> = presetOptions(preset, model);
    presetFields = Object.fromEntries(PRESET_FIELDS.filter((k) => k in fields && !chosen.has(k)).map((k) => [k, fields[k]]));
  }
  const defaults = Object.fromEntries(
    restored.filter((k) => !(k in presetFields)).map((k) => [k, DEFAULT_OPTIONS[k]]),
  ) as Partial<StylizerOptions>;
  const o: StylizerOptions = { ...base, ...defaults, ...presetFields, ...given };
  if (!isModelId(o.model)) throw new OptionsError(`model must be one of cd16x, vgg19 (got ${JSON.stringify(o.model)})`);
  if (o.method !== 'wct' && o.method !== 'adain')
    throw new OptionsError(`method must be "wct" or "adain" (got ${JSON.stringify(o.method)})`);
  if (typeof o.alpha !== 'number' || !(o.alpha >= 0 && o.alpha <= 1))
    throw new OptionsError(`alpha must be a number in [0, 1] (got ${String(o.alpha)})`);
  if (typeof o.preserveColor !== 'boolean') throw new OptionsError('preserveColor must be a boolean');
  if (!Number.isInteger(o.styleMaxSizePx) || o.styleMaxSizePx < 0 || o.styleMaxSizePx > 8192) {
    throw new OptionsError(`styleMaxSizePx must be an integer in [0, 8192] (got ${String(o.styleMaxSizePx)})`);
  }
  if (o.statisticsPrecision !== 'float64' && o.statisticsPrecision !== 'float32') {
    throw new OptionsError(`statisticsPrecision must be "float64" or "float32" (got ${JSON.stringify(o.statisticsPrecision)})`);
  }
  if (o.wctWhitening !== 'eigen' && o.wctWhitening !== 'newton-schulz') {
    throw new OptionsError(`wctWhitening must be "eigen" or "newton-schulz" (got ${JSON.stringify(o.wctWhitening)})`);
  }
  if (
    !Number.isInteger(o.processingMaxSidePx) ||
    (o.processingMaxSidePx !== 0 && (o.processingMaxSidePx < 32 || o.processingMaxSidePx > 8192))
  )
    throw new OptionsError(`processingMaxSidePx must be 0 or an integer in [32, 8192] (got ${String(o.processingMaxSidePx)})`);
  if (!Number.isInteger(o.tileSizePx) || (o.tileSizePx !== 0 && (o.tileSizePx < 64 || o.tileSizePx > 8192)))
    throw new OptionsError(`tileSizePx must be 0 or an integer in [64, 8192] (got ${String(o.tileSizePx)})`);
  if (o.precision !== 'float32' && o.precision !== 'float16')
    throw new OptionsError(`precision must be "float32" or "float16" (got ${JSON.stringify(o.precision)})`);
  if (!BACKENDS.includes(o.backend))
    throw new OptionsError(`backend must be one of ${BACKENDS.join(', ')} (got ${JSON.stringify(o.backend)})`);
  if (o.levels !== null) validateLevels(o.levels, o.model);
  if (typeof o.temporalStrength !== 'number' || !(o.temporalStrength >= 0 && o.temporalStrength <= 1))
    throw new OptionsError(`temporalStrength must be a number in [0, 1] (got ${String(o.temporalStrength)})`);
  if (!Number.isInteger(o.flowMaxSidePx) || (o.flowMaxSidePx !== 0 && (o.flowMaxSidePx < 32 || o.flowMaxSidePx > 4096)))
    throw new OptionsError(`flowMaxSidePx must be 0 or an integer in [32, 4096] (got ${String(o.flowMaxSidePx)})`);
  if (!Number.isInteger(o.flowCheckLevels) || o.flowCheckLevels < 0 || o.flowCheckLevels > 3)
    throw new OptionsError(`flowCheckLevels must be an integer in [0, 3] (got ${String(o.flowCheckLevels)})`);
  if (typeof o.videoResetGapMs !== 'number' || !(o.videoResetGapMs > 0))
    throw new OptionsError(`videoResetGapMs must be a number > 0 (got ${String(o.videoResetGapMs)})`);
  if (typeof o.targetFps !== 'number' || !(o.targetFps >= 0 && o.targetFps <= 240))
    throw new OptionsError(`targetFps must be 0 (off) or a number in (0, 240] (got ${String(o.targetFps)})`);
  if (!Array.isArray(o.decoderCheckpoints)) throw new OptionsError('decoderCheckpoints must be an array of Uint8Array');
  if (!Number.isInteger(o.modelLoadTimeoutMs) || o.modelLoadTimeoutMs < 0)
    throw new OptionsError(`modelLoadTimeoutMs must be 0 (no limit) or an integer number of ms > 0 (got ${String(o.modelLoadTimeoutMs)})`);
  if (
    o.styleStatsCache !== null &&
    (typeof o.styleStatsCache !== 'object' || typeof o.styleStatsCache.get !== 'function' || typeof o.styleStatsCache.put !== 'function')
  )
    throw new OptionsError('styleStatsCache must be null or an object with get(key) and put(key, stats) methods');
  if (!SUBJECTS.includes(o.subject))
    throw new OptionsError(`subject must be one of ${SUBJECTS.map((v) => `"${v}"`).join(', ')} (got ${JSON.stringify(o.subject)})`);
  chosenFields.set(o, chosen);
  return o;
}

export function validateLevels(levels: readonly number[], model: ModelId): void {
  const available = [...MODEL_FAMILIES[model].levels.keys()];
  if (!Array.isArray(levels) || levels.length === 0) throw new OptionsError('levels must be a non-empty array');
  const seen = new Set<number>();
  for (const l of levels as readonly unknown[]) {
    if (typeof l !== 'number') throw new OptionsError(`levels must be numbers (got ${JSON.stringify(l)})`);
    if (!available.includes(l)) throw new OptionsError(`level ${String(l)} is not available in ${model} (levels ${available.join(', ')})`);
    if (seen.has(l)) throw new OptionsError(`level ${l} is listed twice`);
    seen.add(l);
  }
}

/** The levels actually run: the option, or the model's default cascade. */
export function effectiveLevels(o: StylizerOptions): readonly number[] {
  return o.levels ?? MODEL_FAMILIES[o.model].defaultLevels;
}

/** Parses "a.png@0.3"-style weights: returns normalised weights, or throws naming the bad entry. */
export function normaliseWeights(weights: readonly number[]): number[] {
  weights.forEach((w, i) => {
    if (typeof w !== 'number')
      throw new OptionsError(`style ${i + 1}: weight must be a number (got the ${typeof w} ${JSON.stringify(w) ?? String(w)})`);
    if (!Number.isFinite(w) || w < 0) throw new OptionsError(`style ${i + 1}: weight must be a finite number >= 0 (got ${String(w)})`);
  });
  // Scaled by the largest first, so finite weights whose sum overflows (1e308 + 1e308) still blend.
  const max = Math.max(...weights);
  if (!(max > 0)) throw new OptionsError('style weights must not all be zero');
  const scaled = weights.map((w) => w / max);
  const sum = scaled.reduce((a, b) => a + b, 0);
  return scaled.map((w) => w / sum);
}
