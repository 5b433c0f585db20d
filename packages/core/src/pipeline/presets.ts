/**
 * Quality/speed presets, chosen by measurement (README, "Presets"; `node scripts/bench.js` and
 * scripts/preset-quality.js reproduce the figures). At 512 px on 2-thread WASM, against the
 * still-image default (the five-level WCT cascade with exact whitening):
 * - `best`: that cascade, the published method (parity-tested against the reference).
 * - `balanced`: WCT at levels 4..1 with backend whitening: 1.7x faster; relu5_1 adds the largest
 *   strokes but costs a third of the time.
 * - `realtime`: one WCT level (relu4_1) with backend whitening: 4.3x faster, nothing read back per
 *   frame. Single-level AdaIN was 5.1x faster but its Gram style loss was 1.4–3x higher; WCT at
 *   relu3_1 was faster still but kept only fine texture.
 * Internal resolution is left at the input size: the adaptive mode (`targetFps`) and the elements'
 * processing size lower it where a frame rate must be held.
 */
import { MODEL_FAMILIES, type ModelId } from '../weights/architectures.js';
import type { StatisticsPrecision } from '../transforms/moments.js';

/** The feature transform: whitening–colouring (WCT, the default) or AdaIN (mean and variance only). */
export type TransformMethod = 'wct' | 'adain';
/** How WCT whitens content features: exact eigen-decomposition on the CPU, or Newton–Schulz iteration on the backend. */
export type WctWhitening = 'eigen' | 'newton-schulz';

/** The engine options a preset sets (options.ts merges them; this module imports nothing from it). */
export interface PresetFields {
  readonly method: TransformMethod;
  readonly levels: number[] | null;
  readonly wctWhitening: WctWhitening;
  readonly statisticsPrecision?: StatisticsPrecision;
  readonly processingMaxSidePx: number;
  /** Video mode: the optical flow's long-side cap (0 = the output size); see FLOW_CAP_PX. */
  readonly flowMaxSidePx: number;
  /** Video mode: how much coarser the occlusion check's forward flow is solved; see FLOW_CHECK_LEVELS. */
  readonly flowCheckLevels: number;
}
/** The names of {@link PresetFields}. */
export const PRESET_FIELDS = [
  'method',
  'levels',
  'wctWhitening',
  'statisticsPrecision',
  'processingMaxSidePx',
  'flowMaxSidePx',
  'flowCheckLevels',
] as const;
export type PresetField = (typeof PRESET_FIELDS)[number];

/** A named quality/speed trade-off: sets method, levels, whitening and internal resolution together. */
export type Preset = 'realtime' | 'balanced' | 'best';
/** Every {@link Preset}, fastest first. */
export const PRESETS: readonly Preset[] = ['realtime', 'balanced', 'best'];

export function isPreset(v: unknown): v is Preset {
  return typeof v === 'string' && (PRESETS as readonly string[]).includes(v);
}

/** The options a preset sets, for a model (the vgg19 family stops at level 3). */
export function presetOptions(preset: Preset, model: ModelId): PresetFields {
  const available = [...MODEL_FAMILIES[model].levels.keys()];
  const deepest = Math.min(4, Math.max(...available));
  const cascade = available.filter((l) => l <= deepest).sort((a, b) => b - a);
  switch (preset) {
    case 'best':
      return {
        method: 'wct',
        levels: null,
        wctWhitening: 'eigen',
        statisticsPrecision: 'float64',
        processingMaxSidePx: 0,
        flowMaxSidePx: FLOW_CAP_PX.best,
        flowCheckLevels: FLOW_CHECK_LEVELS.best,
      };
    case 'balanced':
      return {
        method: 'wct',
        levels: cascade,
        wctWhitening: 'newton-schulz',
        processingMaxSidePx: 0,
        flowMaxSidePx: FLOW_CAP_PX.balanced,
        flowCheckLevels: FLOW_CHECK_LEVELS.balanced,
      };
    case 'realtime':
      return {
        method: 'wct',
        levels: [deepest],
        wctWhitening: 'newton-schulz',
        processingMaxSidePx: 0,
        flowMaxSidePx: FLOW_CAP_PX.realtime,
        flowCheckLevels: FLOW_CHECK_LEVELS.realtime,
      };
  }
}

/**
 * Each preset's cap on the optical flow's long side in video mode (0 = the output size). Measured
 * (docs/temporal.md, "What the flow costs"; sintel_raft_demo at 1200x512, realtime, 10 frames, 2-thread
 * WASM): the flow at the output size keeps 0.23x of the per-frame warping error but costs ~4x the
 * realtime stylisation; capped at 512 px it keeps 0.38x (384 px: 0.47x, 256 px: 0.64x, over the 0.5x
 * target; the temporal stage was then 45% of the frame, see FLOW_CHECK_LEVELS). `best` keeps the output size.
 */
const FLOW_CAP_PX: Readonly<Record<Preset, number>> = Object.freeze({ realtime: 512, balanced: 512, best: 0 });

/**
 * Each preset's `flowCheckLevels`: the forward flow, used only by the forward-backward occlusion check,
 * solved this many pyramid levels coarser than the backward flow that warps the previous output.
 * Measured (docs/temporal.md, "What the flow costs"; sintel_raft_demo at 1200x512, realtime, flow capped
 * at 512 px, 10 frames, 2-thread WASM, nothing else running): one level coarser takes the temporal stage
 * from 431–760 to 355–498 ms a frame (four interleaved runs each; at most 37% of the frame, target 40%)
 * and the warping ratio from 0.38x to 0.44x (target 0.5x); the style ratio stays 0.93. Only `realtime` takes it: the others keep the full check.
 * The smoother never solves the check under 128 px (CHECK_FLOW_MIN_SIDE_PX), so below a 509 px flow it is the full check.
 */
const FLOW_CHECK_LEVELS: Readonly<Record<Preset, number>> = Object.freeze({ realtime: 1, balanced: 0, best: 0 });

/**
 * The processing size (longer side, px) live surfaces (the camera and video elements) scale frames to
 * under each preset: the preset's speed also needs fewer pixels per frame to hold a live frame rate.
 */
const LIVE_PROCESSING_SIZE_PX: Readonly<Record<Preset, number>> = Object.freeze({ realtime: 256, balanced: 384, best: 512 });

/** {@link LIVE_PROCESSING_SIZE_PX} of a preset. */
export function liveProcessingSizePx(preset: Preset): number {
  return LIVE_PROCESSING_SIZE_PX[preset];
}
