/**
 * Options of the Gatys optimiser: one object, documented defaults, one validator. The limits keep a
 * run within memory (L-BFGS keeps 2 x historySize image-sized tensors) and a sane time.
 */
import type { ModelId } from '../weights/architectures.js';
import type { ByteSource } from '../weights/model-loader.js';
import type { BackendName } from '../pipeline/options.js';
import { OptionsError } from '../pipeline/options.js';
import { LOSS_LAYERS, lossNetworkLayers, type LossNetworkId } from './loss-network.js';

/** The optimisation method: L-BFGS with bound constraints (default) or Adam. */
export type OptimizerKind = 'lbfgs' | 'adam';
/** The start image: the content, noise, or the WCT stylizer's output (the hybrid). */
export type InitKind = 'content' | 'noise' | 'wct';

/** Everything `StyleOptimizer.create` accepts; defaults in {@link DEFAULT_OPTIMIZER_OPTIONS}. */
export interface OptimizerOptions {
  /** Loss network. Default `'vgg19'` (full-size VGG-19 to relu3_1); `'cd16x'` is deeper (to relu5_1) but distilled. */
  readonly lossNetwork: LossNetworkId;
  /** Default `'lbfgs'`. */
  readonly optimizer: OptimizerKind;
  /** Iterations per scale, 1..5000. Default 300. */
  readonly iterations: number;
  /** Start image: the content (default), uniform noise, or the feed-forward WCT cascade output (the hybrid). */
  readonly init: InitKind;
  /** Weight of the content loss. Default 1. */
  readonly contentWeight: number;
  /** Weight of the style loss. Default 1e3 (see README: balances the two at 256 px on the benchmark pairs). */
  readonly styleWeight: number;
  /** Weight of the total-variation loss. Default 10. */
  readonly tvWeight: number;
  /** Style layers and their relative weights; default: every reluN_1 of the network, equal weights. */
  readonly styleLayers: Readonly<Record<string, number>> | null;
  /** Content layer; default relu3_1 (vgg19) or relu4_1 (cd16x). */
  readonly contentLayer: string | null;
  /** Adam step size in pixel units ([0, 1] images). Default 0.02. */
  readonly learningRate: number;
  /** L-BFGS curvature pairs kept, 1..100. Default 20. */
  readonly historySize: number;
  /** Scales, coarse to fine (each half the previous side), 1..4. Default 1. */
  readonly scales: number;
  /** Keep the content's colours (luminance-only transfer of the result). Default false. */
  readonly preserveColor: boolean;
  /** Seed of the noise initialisation. Default 0. */
  readonly seed: number;
  /** Backend preference. Default `'auto'`. */
  readonly backend: BackendName | 'auto';
  /** Where converted models live (browser). Default `'./models/'`. */
  readonly modelBaseUrl: string;
  /** Overrides how model files are read. Default: the environment's (file system in Node). */
  readonly modelSource: ((model: ModelId) => ByteSource) | null;
}

/** The defaults of every {@link OptimizerOptions} field. */
export const DEFAULT_OPTIMIZER_OPTIONS: OptimizerOptions = {
  lossNetwork: 'vgg19',
  optimizer: 'lbfgs',
  iterations: 300,
  init: 'content',
  contentWeight: 1,
  styleWeight: 1e3,
  tvWeight: 10,
  styleLayers: null,
  contentLayer: null,
  learningRate: 0.02,
  historySize: 20,
  scales: 1,
  preserveColor: false,
  seed: 0,
  backend: 'auto',
  modelBaseUrl: './models/',
  modelSource: null,
};

/** The shortest image side the optimiser accepts, in px. */
export const OPTIMIZE_MIN_SIDE_PX = 16;
/** The longest image side the optimiser accepts, in px. */
export const OPTIMIZE_MAX_SIDE_PX = 2048;
/** The most iterations one run accepts. */
export const OPTIMIZE_MAX_ITERATIONS = 5000;

const finiteNonNegative = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** Merges `partial` over `base` and validates the result; every error names the option, value and range. */
export function resolveOptimizerOptions(
  partial: Partial<OptimizerOptions> = {},
  base: OptimizerOptions = DEFAULT_OPTIMIZER_OPTIONS,
): OptimizerOptions {
  if (typeof partial !== 'object' || partial === null) throw new OptionsError('options must be an object');
  const known = new Set(Object.keys(DEFAULT_OPTIMIZER_OPTIONS));
  for (const k of Object.keys(partial)) if (!known.has(k)) throw new OptionsError(`unknown option "${k}"`);
  const o: OptimizerOptions = { ...base, ...partial };
  if (o.lossNetwork !== 'vgg19' && o.lossNetwork !== 'cd16x')
    throw new OptionsError(`lossNetwork must be "vgg19" or "cd16x" (got ${JSON.stringify(o.lossNetwork)})`);
  if (o.optimizer !== 'lbfgs' && o.optimizer !== 'adam')
    throw new OptionsError(`optimizer must be "lbfgs" or "adam" (got ${JSON.stringify(o.optimizer)})`);
  if (!Number.isInteger(o.iterations) || o.iterations < 1 || o.iterations > OPTIMIZE_MAX_ITERATIONS)
    throw new OptionsError(`iterations must be an integer in [1, ${OPTIMIZE_MAX_ITERATIONS}] (got ${String(o.iterations)})`);
  if (o.init !== 'content' && o.init !== 'noise' && o.init !== 'wct')
    throw new OptionsError(`init must be "content", "noise" or "wct" (got ${JSON.stringify(o.init)})`);
  for (const k of ['contentWeight', 'styleWeight', 'tvWeight'] as const) {
    if (!finiteNonNegative(o[k])) throw new OptionsError(`${k} must be a finite number >= 0 (got ${String(o[k])})`);
  }
  if (o.contentWeight + o.styleWeight === 0) throw new OptionsError('contentWeight and styleWeight must not both be 0');
  const known_ = new Set(lossNetworkLayers(o.lossNetwork));
  if (o.styleLayers !== null) {
    const entries = Object.entries(o.styleLayers);
    if (entries.length === 0) throw new OptionsError('styleLayers must name at least one layer');
    for (const [name, w] of entries) {
      if (!known_.has(name)) throw new OptionsError(`styleLayers: ${o.lossNetwork} has no layer ${name} (has ${[...known_].join(', ')})`);
      if (!finiteNonNegative(w)) throw new OptionsError(`styleLayers.${name} must be a finite number >= 0 (got ${String(w)})`);
    }
    if (!entries.some(([, w]) => w > 0)) throw new OptionsError('styleLayers weights must not all be 0');
  }
  if (o.contentLayer !== null && !known_.has(o.contentLayer))
    throw new OptionsError(`contentLayer: ${o.lossNetwork} has no layer ${o.contentLayer} (has ${[...known_].join(', ')})`);
  if (typeof o.learningRate !== 'number' || !(o.learningRate > 0 && o.learningRate <= 1))
    throw new OptionsError(`learningRate must be in (0, 1] (got ${String(o.learningRate)})`);
  if (!Number.isInteger(o.historySize) || o.historySize < 1 || o.historySize > 100)
    throw new OptionsError(`historySize must be an integer in [1, 100] (got ${String(o.historySize)})`);
  if (!Number.isInteger(o.scales) || o.scales < 1 || o.scales > 4)
    throw new OptionsError(`scales must be an integer in [1, 4] (got ${String(o.scales)})`);
  if (typeof o.preserveColor !== 'boolean') throw new OptionsError('preserveColor must be a boolean');
  if (!Number.isInteger(o.seed)) throw new OptionsError(`seed must be an integer (got ${String(o.seed)})`);
  return o;
}

/** The style layers with weights normalised to sum to 1, and the content layer. */
export function objectiveLayers(o: OptimizerOptions): { content: string; style: Map<string, number> } {
  const defaults = LOSS_LAYERS[o.lossNetwork];
  const raw = o.styleLayers ?? Object.fromEntries(defaults.style.map((l) => [l, 1]));
  const sum = Object.values(raw).reduce((a, b) => a + b, 0);
  const style = new Map(
    Object.entries(raw)
      .filter(([, w]) => w > 0)
      .map(([n, w]) => [n, w / sum] as [string, number]),
  );
  return { content: o.contentLayer ?? defaults.content, style };
}
