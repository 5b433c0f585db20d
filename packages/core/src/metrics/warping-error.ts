/**
 * Temporal warping error of a video.
 * ref: Lai et al., "Learning Blind Video Temporal Consistency", ECCV 2018, §5.1 eq. 8:
 * `E_warp(O_t, O_t+1) = 1 / sum(M_t) * sum_p M_t(p) ||O_t(p) - warp(O_t+1)(p)||²`, RGB in [0, 1],
 * with the flow computed on the INPUT frames and `M_t` the non-occlusion mask from a
 * forward–backward check; the video's error is the mean over consecutive pairs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { consistencyMask, estimateFlow, estimateFlowBothWays, type FlowOptions } from '../temporal/flow.js';
import { warpBilinear } from '../temporal/warp.js';

/** Warping error of one frame pair (Lai et al., ECCV 2018): how much the second output differs from the first warped onto it. */
export interface PairWarpingError {
  /** Masked mean of the squared RGB distance (sum over the 3 channels), values in [0, 1]. */
  readonly error: number;
  /** Fraction of pixels the mask kept (non-occluded, in frame). */
  readonly maskedFraction: number;
}

/**
 * Warping error between outputs `outA` (time t) and `outB` (t+1) given the input frames `inA`,
 * `inB` (all `[1,H,W,3]` in [0,1], same size; none disposed). `forwardFlow` (t→t+1, `[1,H,W,2]`)
 * may be given (e.g. ground truth); otherwise it is estimated. `backwardFlow` (t+1→t), given with
 * the forward one, skips the last estimate: a caller measuring several outputs of the same input
 * frames estimates the pair once (none of the flows is disposed).
 */
export async function pairWarpingError(
  inA: tf.Tensor4D,
  inB: tf.Tensor4D,
  outA: tf.Tensor4D,
  outB: tf.Tensor4D,
  forwardFlow?: tf.Tensor4D,
  flowOptions: Partial<FlowOptions> = {},
  backwardFlow?: tf.Tensor4D,
): Promise<PairWarpingError> {
  if (backwardFlow && !forwardFlow) throw new Error('warping error: a backward flow needs its forward flow');
  for (const [name, flow] of [
    ['forward flow', forwardFlow],
    ['backward flow', backwardFlow],
  ] as const) {
    if (flow && (flow.shape[1] !== inA.shape[1] || flow.shape[2] !== inA.shape[2] || flow.shape[3] !== 2))
      throw new Error(`warping error: the ${name} is ${flow.shape.join('x')}, expected 1x${inA.shape[1]}x${inA.shape[2]}x2`);
  }
  const shape = inA.shape;
  for (const [name, t] of [
    ['second input', inB],
    ['first output', outA],
    ['second output', outB],
  ] as const) {
    if (t.shape[1] !== shape[1] || t.shape[2] !== shape[2])
      throw new Error(`warping error: ${name} is ${t.shape[2]}x${t.shape[1]}, expected ${shape[2]}x${shape[1]}`);
  }
  const [fwd, bwd] = forwardFlow
    ? [tf.clone(forwardFlow), backwardFlow ? tf.clone(backwardFlow) : estimateFlow(inB, inA, flowOptions)]
    : estimateFlowBothWays(inA, inB, flowOptions);
  const [sumErr, sumMask] = tf.tidy((): [tf.Scalar, tf.Scalar] => {
    const mask = consistencyMask(fwd, bwd);
    const warped = warpBilinear(outB, fwd);
    const d = tf.sum(tf.squaredDifference(outA, warped), 3, true);
    return [tf.sum(tf.mul(d, mask)), tf.sum(mask)];
  });
  tf.dispose([fwd, bwd]);
  const [e, m] = await Promise.all([sumErr.data(), sumMask.data()]);
  tf.dispose([sumErr, sumMask]);
  const masked = m[0] ?? 0;
  const pixels = shape[1] * shape[2];
  return { error: masked > 0 ? (e[0] ?? 0) / masked : 0, maskedFraction: masked / pixels };
}
