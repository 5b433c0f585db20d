/**
 * Everything, internals included, for this repository's CLI, tests, benchmarks and scripts. Not a
 * package entry point: users import `livestyle`, `livestyle/offline`, `livestyle/temporal` or
 * `livestyle/elements`.
 */
export * from './node.js';
export * from './offline-node.js';
export * from './temporal-node.js';
export { PACKAGE_ROOT } from './io/model-files.js';
export { readNpy, type NpyArray } from './io/npy.js';
export { initNodeWasm } from './backend/node-wasm.js';
export { nodeWebGpuAdapter, nodeWebGpuLostReason, waitForNodeWebGpuLoss, isSoftwareAdapter } from './backend/node-webgpu.js';
export { getDefaultEnvironment } from './pipeline/stylizer.js';
export {
  Stylizer,
  AbortError,
  setDefaultEnvironment,
  processingSize,
  type StyleSpec,
  type StageTimings,
  type StylizerEnvironment,
} from './pipeline/stylizer.js';
export {
  DEFAULT_OPTIONS,
  OptionsError,
  resolveOptions,
  effectiveLevels,
  normaliseWeights,
  type StylizerOptions,
  type TransformMethod,
  type BackendName,
  type WctWhitening,
} from './pipeline/options.js';
export { PRESETS, isPreset, presetOptions, type Preset } from './pipeline/presets.js';
export { stylizeLevelTiled, tileGrid, withHalo, haloPx, type TileRect, type TiledLevel } from './pipeline/tiles.js';
export { AdaptiveResolution, ADAPTIVE_SCALE_LADDER, type AdaptiveResolutionOptions } from './pipeline/adaptive-resolution.js';
export {
  InputError,
  toImageBatch,
  toPixels,
  toRgbBytes,
  type StylizerInput,
  type PixelsLike,
  type BrowserImageSource,
} from './pipeline/input.js';
export { LoadedModel, fetchByteSource, type ByteSource, type LevelNets } from './weights/model-loader.js';
export {
  MODEL_FAMILIES,
  MODEL_IDS,
  isModelId,
  ArchitectureError,
  type ModelId,
  type LayerSpec,
  type ModelFamily,
} from './weights/architectures.js';
export { ModelFormatError, type ModelManifest } from './weights/model-format.js';
export { readTorchCheckpoint, CheckpointError, type NamedTensor } from './weights/torch-checkpoint.js';
export { runNetwork, convMacs, networkCost, type NetworkCost } from './nets/network.js';
export {
  wct,
  applyWct,
  applyWctMatrix,
  wctStyleStats,
  blendWctStats,
  wctMatrix,
  wctOnBackend,
  uploadWctStats,
  type WctStyleStats,
  type WctStyleTensors,
} from './transforms/wct.js';
export { inverseSqrtNewtonSchulz, DEFAULT_NEWTON_SCHULZ, type NewtonSchulzOptions } from './transforms/matrix-sqrt.js';
export { storesHalfFloats, maxTensorBytes } from './backend/precision.js';
export { adain, adainWithContentStats, adainStyleStats, blendAdainStats, type AdaInStyleStats } from './transforms/adain.js';
export { featureMoments, MomentAccumulator, type FeatureMoments, type StatisticsPrecision } from './transforms/moments.js';
export { preserveContentColour } from './transforms/colour.js';
export { symmetricEigen, spectralFunction } from './transforms/eigen.js';
// The public optimiser API comes from offline-node.js above; only its internals are listed here.
export { resizeImage } from './optimize/style-optimizer.js';
export { resolveOptimizerOptions } from './optimize/options.js';
export { LossNetwork, LOSS_LAYERS, lossNetworkLayers, reflectPad1, maxPool2, type LossNetworkId } from './optimize/loss-network.js';
export { GatysObjective, type LossParts, type LossWeights } from './optimize/objective.js';
export { gramMatrix, styleLayerLoss, contentLoss, totalVariationLoss } from './optimize/losses.js';
export { Lbfgs, Adam, NonFiniteLossError, type ImageOptimizer, type StepResult } from './optimize/optimizers.js';
export { ensureGradients } from './optimize/gradients.js';
export { warpBilinear, warpBilinearOps, hasWarpKernel, DENSE_WARP_KERNEL } from './temporal/warp.js';
export { hasTvl1Kernels, tvl1FusedStep, TVL1_PRIMAL_KERNEL, TVL1_DUAL_KERNEL, type Tvl1Linearisation } from './temporal/tvl1-step.js';
export {
  estimateFlow,
  estimateFlowBothWays,
  flowFromPyramids,
  greyPyramid,
  pyramidLevels,
  toGrey255,
  normalisePair,
  resizeFlow,
  consistencyMask,
  resolveFlowOptions,
  DEFAULT_FLOW_OPTIONS,
  FlowOptionsError,
  type FlowOptions,
} from './temporal/flow.js';
export { parseFlo, encodeFlo, endPointError, FloFormatError, FLO_MAGIC, type FlowField, type EndPointError } from './temporal/flo.js';
export { pairWarpingError, type PairWarpingError } from './metrics/warping-error.js';
export { TemporalMeter, type TemporalMeterOptions, type TemporalMeasure } from './metrics/temporal-meter.js';
export { openFrameSource, type FrameSource } from './io/video.js';
export {
  VideoSmoother,
  SCENE_CUT_UNTRACKED_FRACTION,
  STATIC_FLOW_PX,
  MOVING_PIXEL_SHARE,
  type PreparedFrame,
  type SmootherSettings,
} from './temporal/video-smoother.js';
