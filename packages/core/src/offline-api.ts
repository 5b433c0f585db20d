/**
 * `@livestyle/core/offline`: the Gatys optimiser, the offline quality reference (shared by the browser and
 * Node entries of this subpath, which differ only in how tfjs's gradients are registered).
 */
export {
  StyleOptimizer,
  OptimizeError,
  type IterationInfo,
  type OptimizeRun,
  type OptimizeResult,
  type StopReason,
} from './optimize/style-optimizer.js';
export {
  DEFAULT_OPTIMIZER_OPTIONS,
  OPTIMIZE_MAX_ITERATIONS,
  OPTIMIZE_MAX_SIDE_PX,
  OPTIMIZE_MIN_SIDE_PX,
  type OptimizerOptions,
  type OptimizerKind,
  type InitKind,
} from './optimize/options.js';
export type { LossNetworkId } from './optimize/loss-network.js';
export type { LossParts, LossWeights } from './optimize/objective.js';
export { NonFiniteLossError } from './optimize/optimizers.js';
