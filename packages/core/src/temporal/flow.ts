/**
 * Dense optical flow on the tf.js backend: coarse-to-fine TV-L1 with image warping.
 * ref: Zach, Pock & Bischof, "A Duality Based Approach for Realtime TV-L1 Optical Flow", DAGM 2007;
 * Sánchez, Meinhardt-Llopis & Facciolo, "TV-L1 Optical Flow Estimation", IPOL 2013 (algorithm 1
 * and its parameters: tau 0.25, lambda 0.15, theta 0.3, images in [0, 255]).
 *
 * Everything is elementwise work plus small fixed convolutions (gradient, divergence), so it runs
 * per frame on a GPU backend; the warp uses the dense-warp kernel where the backend has one.
 * Flows are `[1, H, W, 2]` in pixels (x right, y down): `from(p)` matches `to(p + flow(p))`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { warpBilinear } from './warp.js';
import { cachesConstants, constant, constantTensor } from '../backend/constants.js';
import { hasTvl1Kernels, hasTvl1LevelKernel, tvl1FusedStep, tvl1Level } from './tvl1-step.js';

/** TV-L1 optical flow parameters (Zach, Pock & Bischof 2007; IPOL's names); defaults in {@link DEFAULT_FLOW_OPTIONS}. */
export interface FlowOptions {
  /** Data-term weight (IPOL's lambda; smaller = smoother flow). Default 0.15. */
  readonly lambda: number;
  /** Coupling between the data and TV steps (IPOL's theta). Default 0.3. */
  readonly theta: number;
  /** Dual step (IPOL's tau, at most 0.25 for convergence). Default 0.25. */
  readonly tau: number;
  /** Warps (re-linearisations) per pyramid level. Default 4. */
  readonly warps: number;
  /** Primal–dual iterations per warp. Default 8. */
  readonly iterations: number;
  /** Pyramid levels are added until the short side would drop below this. Default 16 px. */
  readonly coarsestSidePx: number;
  /**
   * Finest level solved: 0 = input resolution, 1 = half (the flow is then upsampled), and so on.
   * Default 1: most of the cost at a fraction of the accuracy loss.
   */
  readonly finestLevel: number;
  /**
   * Run each primal–dual iteration as the two fused passes where the backend has them (webgl,
   * webgpu: ~16 dispatches become 2), and on webgpu each whole level of up to 256x256 px as one
   * dispatch. Default true; false composes stock ops everywhere.
   */
  readonly fusedKernels: boolean;
}

/** The flow defaults video mode uses. */
export const DEFAULT_FLOW_OPTIONS: FlowOptions = {
  lambda: 0.15,
  theta: 0.3,
  tau: 0.25,
  warps: 4,
  iterations: 8,
  coarsestSidePx: 16,
  finestLevel: 1,
  fusedKernels: true,
};

/** A flow option out of range, or flow inputs of different sizes. */
export class FlowOptionsError extends Error {
  override name = 'FlowOptionsError';
}

export function resolveFlowOptions(partial: Partial<FlowOptions> = {}): FlowOptions {
  const known = new Set(Object.keys(DEFAULT_FLOW_OPTIONS));
  for (const k of Object.keys(partial)) if (!known.has(k)) throw new FlowOptionsError(`unknown flow option "${k}"`);
  const o: FlowOptions = { ...DEFAULT_FLOW_OPTIONS, ...partial };
  const positive = (name: keyof FlowOptions, max: number): void => {
    const v = o[name];
    if (typeof v !== 'number' || !(v > 0 && v <= max)) throw new FlowOptionsError(`${name} must be in (0, ${max}] (got ${String(v)})`);
  };
  positive('lambda', 100);
  positive('theta', 10);
  positive('tau', 0.25);
  const int = (name: keyof FlowOptions, min: number, max: number): void => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw new FlowOptionsError(`${name} must be an integer in [${min}, ${max}] (got ${String(v)})`);
  };
  int('warps', 1, 50);
  int('iterations', 1, 1000);
  int('coarsestSidePx', 4, 4096);
  int('finestLevel', 0, 4);
  if (typeof o.fusedKernels !== 'boolean') throw new FlowOptionsError(`fusedKernels must be a boolean (got ${String(o.fusedKernels)})`);
  return o;
}

/** Grey level in [0, 255] from RGB in [0, 1] (`[1,H,W,3]` → `[1,H,W,1]`). Caller owns. */
export function toGrey255(rgb: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    if (rgb.shape[3] === 1) return tf.mul<tf.Tensor4D>(rgb, constant(255));
    const weights = constantTensor('grey255', () => tf.tensor4d([0.299 * 255, 0.587 * 255, 0.114 * 255], [1, 1, 3, 1]));
    return tf.conv2d(rgb, weights, 1, 'valid');
  });
}

/**
 * Grey versions of two frames stretched together to the full [0, 255] range: the parameters are
 * tuned for that range, and dark footage otherwise has too weak a data term (IPOL §4 normalises
 * the same way). Stays on the backend (no readback). Caller owns both.
 */
export function normalisePair(a: tf.Tensor4D, b: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
  return tf.tidy(() => {
    const ga = toGrey255(a);
    const gb = toGrey255(b);
    const lo = tf.minimum(tf.min(ga), tf.min(gb));
    const hi = tf.maximum(tf.max(ga), tf.max(gb));
    const scale = tf.div(constant(255), tf.maximum(tf.sub(hi, lo), constant(1)));
    return [tf.mul<tf.Tensor4D>(tf.sub(ga, lo), scale), tf.mul<tf.Tensor4D>(tf.sub(gb, lo), scale)];
  });
}

// Binomial 5-tap blur (≈ Gaussian sigma 1) before each 2x decimation, as an anti-aliasing filter.
const BINOMIAL5 = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16];

/** Blurs and halves a `[1,H,W,C]` image. Caller owns. */
function downsample(image: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const c = image.shape[3];
    const kx = constantTensor(`binomial5x:${c}`, () =>
      tf.tile<tf.Tensor4D>(tf.reshape(tf.tensor1d(BINOMIAL5), [1, 5, 1, 1]), [1, 1, c, 1]),
    );
    const ky = constantTensor(`binomial5y:${c}`, () =>
      tf.tile<tf.Tensor4D>(tf.reshape(tf.tensor1d(BINOMIAL5), [5, 1, 1, 1]), [1, 1, c, 1]),
    );
    const padded = tf.mirrorPad(
      image,
      [
        [0, 0],
        [2, 2],
        [2, 2],
        [0, 0],
      ],
      'symmetric',
    );
    const blurred = tf.depthwiseConv2d(tf.depthwiseConv2d(padded, kx, 1, 'valid'), ky, 1, 'valid');
    const [, h, w] = image.shape;
    return tf.image.resizeBilinear(blurred, [Math.ceil(h / 2), Math.ceil(w / 2)], false, true);
  });
}

/** Resizes a flow field to `[h, w]`, scaling its vectors with the grid. Caller owns. */
export function resizeFlow(flow: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  const [, fh, fw] = flow.shape;
  if (fh === h && fw === w) return tf.clone(flow);
  return tf.tidy(() =>
    tf.mul<tf.Tensor4D>(
      tf.image.resizeBilinear(flow, [h, w], false, true),
      constantTensor(`flowScale:${w / fw}:${h / fh}`, () => tf.tensor4d([w / fw, h / fh], [1, 1, 1, 2])),
    ),
  );
}

/** Fixed filters of one solver, built once per call. */
interface Filters {
  /** Central differences [-0.5, 0, 0.5] in x and y, depthwise on one channel: `[3,3,1,2]`. */
  readonly centralGrad: tf.Tensor4D;
  /** Forward differences, depthwise on (u1, u2), scaled by tau/theta: `[3,3,2,2]` → (u1x, u1y, u2x, u2y). */
  readonly forwardGrad: tf.Tensor4D;
  /** Backward-difference divergence of (p1x, p1y, p2x, p2y), scaled by theta: `[3,3,4,2]`. */
  readonly divergence: tf.Tensor4D;
  /** Sums squared pairs: (a,b,c,d) → (a+b, a+b, c+d, c+d): `[1,1,4,4]`. */
  readonly pairSum: tf.Tensor4D;
}

function makeFilters(o: FlowOptions): Filters {
  const central = new Float32Array(3 * 3 * 1 * 2);
  // index = ((ky * 3 + kx) * inC + c) * mult + m
  central[(1 * 3 + 0) * 2 + 0] = -0.5;
  central[(1 * 3 + 2) * 2 + 0] = 0.5;
  central[(0 * 3 + 1) * 2 + 1] = -0.5;
  central[(2 * 3 + 1) * 2 + 1] = 0.5;
  const taut = o.tau / o.theta;
  const fwd = new Float32Array(3 * 3 * 2 * 2);
  for (let c = 0; c < 2; c++) {
    fwd[((1 * 3 + 1) * 2 + c) * 2 + 0] = -taut;
    fwd[((1 * 3 + 2) * 2 + c) * 2 + 0] = taut;
    fwd[((1 * 3 + 1) * 2 + c) * 2 + 1] = -taut;
    fwd[((2 * 3 + 1) * 2 + c) * 2 + 1] = taut;
  }
  const div = new Float32Array(3 * 3 * 4 * 2);
  // index = ((ky * 3 + kx) * 4 + inC) * 2 + outC
  for (let k = 0; k < 2; k++) {
    const px = 2 * k;
    const py = 2 * k + 1;
    div[((1 * 3 + 1) * 4 + px) * 2 + k] = o.theta;
    div[((1 * 3 + 0) * 4 + px) * 2 + k] = -o.theta;
    div[((1 * 3 + 1) * 4 + py) * 2 + k] = o.theta;
    div[((0 * 3 + 1) * 4 + py) * 2 + k] = -o.theta;
  }
  const pair = new Float32Array(16);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) pair[i * 4 + j] = Math.floor(i / 2) === Math.floor(j / 2) ? 1 : 0;
  return {
    centralGrad: tf.tensor4d(central, [3, 3, 1, 2]),
    forwardGrad: tf.tensor4d(fwd, [3, 3, 2, 2]),
    divergence: tf.tensor4d(div, [3, 3, 4, 2]),
    pairSum: tf.tensor4d(pair, [1, 1, 4, 4]),
  };
}

/** The filters of {@link makeFilters}, kept with the cached constants (not to be disposed). */
function cachedFilters(o: FlowOptions): Filters {
  // tidy keeps only the returned filter of the four made.
  const one = (name: keyof Filters): tf.Tensor4D =>
    constantTensor(`tvl1Filter:${name}:${o.tau}:${o.theta}`, () => tf.tidy(() => makeFilters(o)[name]));
  return { centralGrad: one('centralGrad'), forwardGrad: one('forwardGrad'), divergence: one('divergence'), pairSum: one('pairSum') };
}

/** `[1,H,W,4]` mask zeroing x-derivatives on the last column and y-derivatives on the last row. */
function boundaryMask(h: number, w: number): tf.Tensor4D {
  const m = new Float32Array(h * w * 4).fill(1);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      if (x === w - 1) m[i] = m[i + 2] = 0;
      if (y === h - 1) m[i + 1] = m[i + 3] = 0;
    }
  return tf.tensor4d(m, [1, h, w, 4]);
}

/** The image pyramid of one grey image, finest first. Caller owns every level. */
export function greyPyramid(grey: tf.Tensor4D, levels: number): tf.Tensor4D[] {
  const out = [tf.clone(grey)];
  for (let l = 1; l < levels; l++) out.push(downsample(out[l - 1] as tf.Tensor4D));
  return out;
}

/** Number of levels for an `h x w` image so the coarsest short side stays >= `coarsestSidePx`. */
export function pyramidLevels(h: number, w: number, coarsestSidePx: number): number {
  let levels = 1;
  let side = Math.min(h, w);
  while (Math.ceil(side / 2) >= coarsestSidePx) {
    side = Math.ceil(side / 2);
    levels++;
  }
  return levels;
}

/** `[I1, ∂xI1, ∂yI1]` (central differences, symmetric border): `[1,h,w,3]`. Caller owns. */
function i1WithGradient(i1: tf.Tensor4D, f: Filters): tf.Tensor4D {
  return tf.tidy(() => {
    const padded = tf.mirrorPad(
      i1,
      [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
      'symmetric',
    );
    return tf.concat([i1, tf.depthwiseConv2d(padded, f.centralGrad, 1, 'valid')], 3);
  });
}

/** One TV-L1 level: refines `flow` (`[1,h,w,2]`, not disposed) from `i0` to `i1`. Caller owns the result. */
function solveLevel(i0: tf.Tensor4D, i1: tf.Tensor4D, flow: tf.Tensor4D, o: FlowOptions, f: Filters): tf.Tensor4D {
  const [, h, w] = i0.shape;
  const lt = o.lambda * o.theta;
  if (o.fusedKernels && hasTvl1LevelKernel(h, w)) {
    const stack = i1WithGradient(i1, f);
    try {
      return tvl1Level(i0, stack, flow, {
        warps: o.warps,
        iterations: o.iterations,
        lambdaTheta: lt,
        theta: o.theta,
        tauOverTheta: o.tau / o.theta,
      });
    } finally {
      stack.dispose();
    }
  }
  const mask = boundaryMask(h, w);
  // [I1, dI1/dx, dI1/dy], warped together each warp.
  const i1Stack = i1WithGradient(i1, f);
  let u = tf.clone(flow);
  let p: tf.Tensor4D = tf.zeros([1, h, w, 4]);
  try {
    for (let warp = 0; warp < o.warps; warp++) {
      const [grad, invGrad, rhoC] = tf.tidy(() => {
        const warped = warpBilinear(i1Stack, u);
        const i1w = tf.slice(warped, [0, 0, 0, 0], [1, h, w, 1]);
        const g = tf.slice(warped, [0, 0, 0, 1], [1, h, w, 2]);
        const g2 = tf.sum(tf.square(g), 3, true);
        // Where the image is flat the data term gives no direction: step 0 there (IPOL: v = u).
        const inv = tf.where(tf.greater(g2, 1e-2), tf.div(1, tf.maximum(g2, 1e-2)), tf.zerosLike(g2));
        const rc = tf.sub(tf.sub(i1w, tf.sum(tf.mul(g, u), 3, true)), i0);
        return [g, inv, rc] as tf.Tensor4D[];
      }) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const fused = o.fusedKernels && hasTvl1Kernels();
      try {
        for (let it = 0; it < o.iterations; it++) {
          const next = fused
            ? tvl1FusedStep(u, p, { grad, invGrad, rhoC }, lt, o.theta, o.tau / o.theta)
            : tf.tidy(() => {
                // Thresholding step (IPOL eq. 19) in closed form: v = u - clip(rho/|∇I|², ±λθ) ∇I.
                const rho = tf.add(rhoC, tf.sum(tf.mul(grad, u), 3, true));
                const v = tf.sub(u, tf.mul(tf.clipByValue(tf.mul(rho, invGrad), -lt, lt), grad));
                const uNext = tf.add<tf.Tensor4D>(v, tf.conv2d(p, f.divergence, 1, 'same'));
                // Dual step (IPOL eq. 20) with forward differences, zero across the far borders.
                const g = tf.mul(tf.depthwiseConv2d(uNext, f.forwardGrad, 1, 'same'), mask);
                const norm = tf.sqrt(tf.conv2d(tf.square(g) as tf.Tensor4D, f.pairSum, 1, 'valid'));
                const pNext = tf.div<tf.Tensor4D>(tf.add(p, g), tf.add(norm, 1));
                return [uNext, pNext];
              });
          u.dispose();
          p.dispose();
          u = next[0] as tf.Tensor4D;
          p = next[1] as tf.Tensor4D;
        }
      } finally {
        tf.dispose([grad, invGrad, rhoC]);
      }
    }
    return u;
  } catch (e) {
    u.dispose();
    throw e;
  } finally {
    p.dispose();
    mask.dispose();
    i1Stack.dispose();
  }
}

/**
 * Flow from `from` to `to` given their grey pyramids (finest first, same sizes).
 * @param init optional starting flow at any resolution (e.g. the previous frame's).
 * @returns `[1, H, W, 2]` at the finest pyramid level's size. Caller owns; dispose.
 */
export function flowFromPyramids(
  from: readonly tf.Tensor4D[],
  to: readonly tf.Tensor4D[],
  options: Partial<FlowOptions> = {},
  init?: tf.Tensor4D,
): tf.Tensor4D {
  const o = resolveFlowOptions(options);
  if (from.length !== to.length || from.length === 0) throw new Error('flow: pyramids must have the same, non-zero depth');
  // Cached with the other constants while a stylizer lives on a caching backend (constants.ts).
  const cached = cachesConstants();
  const filters = cached ? cachedFilters(o) : makeFilters(o);
  const finest = Math.min(o.finestLevel, from.length - 1);
  let flow: tf.Tensor4D | null = null;
  try {
    for (let level = from.length - 1; level >= finest; level--) {
      const i0 = from[level] as tf.Tensor4D;
      const i1 = to[level] as tf.Tensor4D;
      if (i0.shape[1] !== i1.shape[1] || i0.shape[2] !== i1.shape[2]) throw new Error('flow: frames differ in size');
      const [, h, w] = i0.shape;
      // fill, not zeros: a GPU backend fills on the device instead of uploading zeros.
      const start: tf.Tensor4D = flow ? resizeFlow(flow, h, w) : init ? resizeFlow(init, h, w) : tf.fill([1, h, w, 2], 0);
      flow?.dispose();
      flow = null;
      try {
        flow = solveLevel(i0, i1, start, o, filters);
      } finally {
        start.dispose();
      }
    }
    const base = from[0] as tf.Tensor4D;
    const result = resizeFlow(flow as tf.Tensor4D, base.shape[1], base.shape[2]);
    return result;
  } finally {
    flow?.dispose();
    if (!cached) tf.dispose(Object.values(filters) as tf.Tensor[]);
  }
}

/**
 * Flow from image `from` to image `to` (`[1,H,W,3]` RGB in [0,1] or `[1,H,W,1]` grey in [0,1]).
 * @returns `[1, H, W, 2]`. Caller owns; dispose. Inputs are not disposed.
 */
export function estimateFlow(from: tf.Tensor4D, to: tf.Tensor4D, options: Partial<FlowOptions> = {}): tf.Tensor4D {
  const o = resolveFlowOptions(options);
  const [p0, p1] = pairPyramids(from, to, o);
  try {
    return flowFromPyramids(p0, p1, o);
  } finally {
    tf.dispose([...p0, ...p1]);
  }
}

/**
 * Flows `a`→`b` and `b`→`a` (as two {@link estimateFlow} calls give them) from one pair of
 * pyramids: the normalisation is joint, so both directions share it.
 * @returns `[forward, backward]`, each `[1, H, W, 2]`. Caller owns both; dispose.
 */
export function estimateFlowBothWays(a: tf.Tensor4D, b: tf.Tensor4D, options: Partial<FlowOptions> = {}): [tf.Tensor4D, tf.Tensor4D] {
  const o = resolveFlowOptions(options);
  const [pa, pb] = pairPyramids(a, b, o);
  try {
    const forward = flowFromPyramids(pa, pb, o);
    try {
      return [forward, flowFromPyramids(pb, pa, o)];
    } catch (e) {
      forward.dispose();
      throw e;
    }
  } finally {
    tf.dispose([...pa, ...pb]);
  }
}

/** Grey pyramids of two same-size frames, normalised together. Caller owns every level. */
function pairPyramids(a: tf.Tensor4D, b: tf.Tensor4D, o: FlowOptions): [tf.Tensor4D[], tf.Tensor4D[]] {
  const [, h, w] = a.shape;
  if (b.shape[1] !== h || b.shape[2] !== w) throw new Error(`flow: frames differ in size (${w}x${h} vs ${b.shape[2]}x${b.shape[1]})`);
  const levels = pyramidLevels(h, w, o.coarsestSidePx);
  const [ga, gb] = normalisePair(a, b);
  try {
    return [greyPyramid(ga, levels), greyPyramid(gb, levels)];
  } finally {
    tf.dispose([ga, gb]);
  }
}

/**
 * Forward–backward consistency: for `forward` (a→b) and `backward` (b→a), a pixel p of a is
 * consistent when `|f(p) + b(p + f(p))|² <= 0.01 (|f|² + |b(p+f)|²) + 0.5`, and its target stays
 * in the image (within half a pixel of it). ref: Sundaram, Brox & Keutzer, "Dense Point Trajectories by GPU-accelerated Large
 * Displacement Optical Flow", ECCV 2010, §4; as used by Ruder et al., "Artistic Style Transfer for
 * Videos", GCPR 2016, §3.
 * @returns `[1, H, W, 1]` confidence in {0, 1} over `forward`'s grid. Caller owns; dispose.
 */
export function consistencyMask(forward: tf.Tensor4D, backward: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = forward.shape;
  return tf.tidy(() => {
    const bw = warpBilinear(backward, forward);
    const sum = tf.sum(tf.square(tf.add(forward, bw)), 3, true);
    const mags = tf.add(tf.sum(tf.square(forward), 3, true), tf.sum(tf.square(bw), 3, true));
    const consistent = tf.lessEqual(sum, tf.add(tf.mul(mags, constant(0.01)), constant(0.5)));
    const [fx, fy] = tf.split(forward, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
    const tx = tf.add(
      constantTensor(`gridX:${w}`, () => tf.reshape(tf.range(0, w, 1, 'float32'), [1, 1, w, 1])),
      fx,
    );
    const ty = tf.add(
      constantTensor(`gridY:${h}`, () => tf.reshape(tf.range(0, h, 1, 'float32'), [1, h, 1, 1])),
      fy,
    );
    const inside = tf.logicalAnd(
      tf.logicalAnd(tf.greaterEqual(tx, constant(-0.5)), tf.lessEqual(tx, constant(w - 0.5))),
      tf.logicalAnd(tf.greaterEqual(ty, constant(-0.5)), tf.lessEqual(ty, constant(h - 0.5))),
    );
    return tf.cast(tf.logicalAnd(consistent, inside), 'float32') as tf.Tensor4D;
  });
}
