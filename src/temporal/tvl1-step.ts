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
