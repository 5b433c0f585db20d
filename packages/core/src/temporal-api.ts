/**
 * `@livestyle/core/temporal`: the optical flow, warping and temporal-consistency measures behind video
 * mode, for users who build their own video pipeline or evaluate one.
 */
export {
  estimateFlow,
  estimateFlowBothWays,
  consistencyMask,
  DEFAULT_FLOW_OPTIONS,
  FlowOptionsError,
  type FlowOptions,
} from './temporal/flow.js';
export { warpBilinear } from './temporal/warp.js';
export { parseFlo, encodeFlo, endPointError, FloFormatError, type FlowField, type EndPointError } from './temporal/flo.js';
export { pairWarpingError, type PairWarpingError } from './metrics/warping-error.js';
