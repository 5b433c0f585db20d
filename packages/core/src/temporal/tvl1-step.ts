/**
 * One TV-L1 primal–dual iteration through the fused kernels (`tvl1-kernels-gpu.ts`) where the
 * backend has them; `flow.ts` composes the same arithmetic from stock ops elsewhere.
 */
import * as tf from '@tensorflow/tfjs-core';

export const TVL1_PRIMAL_KERNEL = 'LivestyleTvl1Primal';
export const TVL1_DUAL_KERNEL = 'LivestyleTvl1Dual';

/** Whether the active backend has both fused TV-L1 kernels (webgl and webgpu, browser entry). */
export function hasTvl1Kernels(backendName = tf.getBackend()): boolean {
  return tf.getKernel(TVL1_PRIMAL_KERNEL, backendName) !== undefined && tf.getKernel(TVL1_DUAL_KERNEL, backendName) !== undefined;
}

/** The per-warp constants of the thresholding step: ∇I₁(warped), 1/|∇I₁|² (0 where flat), ρ's constant part. */
export interface Tvl1Linearisation {
  readonly grad: tf.Tensor4D;
  readonly invGrad: tf.Tensor4D;
  readonly rhoC: tf.Tensor4D;
}

/**
 * `(u, p) → (u', p')` in two passes. λθ, θ and τ/θ are the solver's constants.
 * @returns `[u', p']`, `[1,h,w,2]` and `[1,h,w,4]`. Caller owns both; inputs are not disposed.
 */
export function tvl1FusedStep(
  u: tf.Tensor4D,
  p: tf.Tensor4D,
  lin: Tvl1Linearisation,
  lambdaTheta: number,
  theta: number,
  tauOverTheta: number,
): [tf.Tensor4D, tf.Tensor4D] {
  const primalInputs: tf.NamedTensorMap = { u, p, grad: lin.grad, invGrad: lin.invGrad, rhoC: lin.rhoC };
  const uNext = tf.engine().runKernel<tf.Tensor4D>(TVL1_PRIMAL_KERNEL, primalInputs, { lambdaTheta, theta });
  const dualInputs: tf.NamedTensorMap = { u: uNext, p };
  return [uNext, tf.engine().runKernel<tf.Tensor4D>(TVL1_DUAL_KERNEL, dualInputs, { tauOverTheta })];
}

/** One whole pyramid level in one dispatch (webgpu; `tvl1-level-gpu.ts`). */
export const TVL1_LEVEL_KERNEL = 'LivestyleTvl1Level';
/** Per-pixel channels of its output: u (2), p (4), ∇I₁ (2), 1/|∇I₁|², ρ's constant. */
export const TVL1_LEVEL_CHANNELS = 10;
/** Levels up to this many pixels run as one dispatch (one workgroup sweeps them); larger ones per iteration. */
export const TVL1_LEVEL_MAX_PIXELS = 256 * 256;

/** Whether the active backend can run a whole `h x w` level in one dispatch. */
export function hasTvl1LevelKernel(h: number, w: number, backendName = tf.getBackend()): boolean {
  return h * w <= TVL1_LEVEL_MAX_PIXELS && tf.getKernel(TVL1_LEVEL_KERNEL, backendName) !== undefined;
}

/**
 * Solves one level: `warps` re-linearisations of `[I1, ∂xI1, ∂yI1]` (`i1Stack`, `[1,h,w,3]`) around
 * the flow, each followed by `iterations` primal–dual steps, from `start` (`[1,h,w,2]`) and p = 0.
 * @returns the flow `[1,h,w,2]`. Caller owns; inputs are not disposed.
 */
export function tvl1Level(
  i0: tf.Tensor4D,
  i1Stack: tf.Tensor4D,
  start: tf.Tensor4D,
  c: { warps: number; iterations: number; lambdaTheta: number; theta: number; tauOverTheta: number },
): tf.Tensor4D {
  const [, h, w] = i0.shape;
  return tf.tidy(() => {
    const inputs: tf.NamedTensorMap = { i0, i1s: i1Stack, u0: start };
    const state = tf.engine().runKernel<tf.Tensor4D>(TVL1_LEVEL_KERNEL, inputs, { ...c });
    return tf.slice(state, [0, 0, 0, 0], [1, h, w, 2]);
  });
}
