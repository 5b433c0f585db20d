/**
 * The platform-neutral public API, re-exported by the browser and the Node entry points. Only what
 * the README documents belongs here: every export is a promise to users. The optimiser lives in
 * `@livestyle/core/offline`, optical flow and warping in `@livestyle/core/temporal`.
 */
export { Stylizer, AbortError, type StyleSpec, type StageTimings } from './pipeline/stylizer.js';
export type { PreparedFrame as VideoFrameInfo } from './temporal/video-smoother.js';
export { SegmentationUnavailableError } from './pipeline/subject.js';
export {
  DEFAULT_OPTIONS,
  OptionsError,
  type StylizerOptions,
  type TransformMethod,
  type BackendName,
  type WctWhitening,
  type NetworkPrecision,
  type Subject,
} from './pipeline/options.js';
export { PRESETS, type Preset } from './pipeline/presets.js';
export { InputError, type StylizerInput, type PixelsLike, type BrowserImageSource } from './pipeline/input.js';
export type { ByteSource } from './weights/model-loader.js';
export type { StyleStatsCache, StyleStatsKey, StyleLevelStatistics } from './pipeline/style-stats-cache.js';
export { MODEL_IDS, type ModelId } from './weights/architectures.js';
export type { ModelFolder } from './weights/segmentation-model.js';
export { ModelFormatError } from './weights/model-format.js';
export { CheckpointError } from './weights/torch-checkpoint.js';
