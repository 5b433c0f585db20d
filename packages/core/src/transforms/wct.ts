/**
 * Whitening–colouring transform.
 * ref: Li, Fang, Yang, Wang, Lu, Yang, "Universal Style Transfer via Feature Transforms",
 * NeurIPS 2017, §3.1 (eqs. 2–4) and §3.3 (user control: alpha blending, style interpolation).
 *
 * The style side is reduced once to a mean and a colouring matrix E_s diag(f^1/2) E_s^T; per frame
 * only the content whitening matrix is computed. Because the transform is linear in the colouring
 * matrix and mean, blending N styles with weights w_i — the paper's interpolation
 * sum_i w_i WCT(f_c, f_s_i) — equals one WCT with sum_i w_i C_i and sum_i w_i m_i, so live blending
 * costs one C x C matmul no matter how many styles.
 */
import * as tf from '@tensorflow/tfjs-core';
import { matMul64, spectralFunction } from './eigen.js';
import { covarianceOfCentred, featureMoments, type FeatureMoments, type StatisticsPrecision } from './moments.js';
import { inverseSqrtNewtonSchulz, type NewtonSchulzOptions } from './matrix-sqrt.js';

export interface WctStyleStats {
  readonly channels: number;
  readonly mean: Float64Array;
  /** C x C row-major colouring matrix E_s diag(sqrt(f)) E_s^T. */
  readonly colouring: Float64Array;
}

export function colouringFromMoments(m: FeatureMoments): WctStyleStats {
  return { channels: m.channels, mean: m.mean, colouring: spectralFunction(m.covariance, m.channels, Math.sqrt) };
}

/** Computes a style's WCT statistics from its encoded features (not disposed). */
export async function wctStyleStats(styleFeatures: tf.Tensor4D, precision: StatisticsPrecision = 'float64'): Promise<WctStyleStats> {
  return colouringFromMoments(await featureMoments(styleFeatures, precision));
}

/** Weighted sum of several styles' statistics (weights are used as given; normalise beforehand). */
export function blendWctStats(stats: readonly WctStyleStats[], weights: readonly number[]): WctStyleStats {
  const first = stats[0];
  if (!first) throw new Error('blendWctStats: no styles');
  const c = first.channels;
  const mean = new Float64Array(c);
  const colouring = new Float64Array(c * c);
  stats.forEach((s, i) => {
    const w = weights[i] ?? 0;
    for (let k = 0; k < c; k++) mean[k] = (mean[k] as number) + w * (s.mean[k] as number);
    for (let k = 0; k < c * c; k++) colouring[k] = (colouring[k] as number) + w * (s.colouring[k] as number);
  });
  return { channels: c, mean, colouring };
}

/** The combined C x C matrix T = colouring · whitening(content), in float64. */
export function wctMatrix(content: FeatureMoments, style: WctStyleStats): Float64Array {
  if (content.channels !== style.channels) {
    throw new Error(`WCT: content has ${content.channels} channels, style ${style.channels}`);
  }
  const whitening = spectralFunction(content.covariance, content.channels, (e) => 1 / Math.sqrt(e));
  return matMul64(style.colouring, whitening, content.channels);
}

/**
 * Applies WCT to content features: alpha * (T (f_c - m_c) + m_s) + (1 - alpha) * f_c.
 * @param contentFeatures NHWC, batch 1; not disposed.
 * @returns new features (caller owns; dispose).
 */
export async function wct(
  contentFeatures: tf.Tensor4D,
  style: WctStyleStats,
  alpha: number,
  precision: StatisticsPrecision = 'float64',
): Promise<tf.Tensor4D> {
  const moments = await featureMoments(contentFeatures, precision);
  return applyWct(contentFeatures, moments, style, alpha);
}

/** The GPU half of {@link wct}, given the content moments already read back. Caller owns the result. */
export function applyWct(contentFeatures: tf.Tensor4D, moments: FeatureMoments, style: WctStyleStats, alpha: number): tf.Tensor4D {
  return applyWctMatrix(contentFeatures, wctMatrix(moments, style), moments.mean, style.mean, alpha);
}

/**
 * alpha * (T (f - contentMean) + styleMean) + (1 - alpha) * f for a given C x C matrix T (see
 * {@link wctMatrix}): the per-position half of WCT, for features whose statistics were gathered
 * elsewhere (the tiles of a large image share one T). Caller owns the result.
 */
export function applyWctMatrix(
  contentFeatures: tf.Tensor4D,
  t: Float64Array,
  contentMean: Float64Array,
  styleMean: Float64Array,
  alpha: number,
): tf.Tensor4D {
  const [, h, w, c] = contentFeatures.shape;
  return tf.tidy(() => {
    const x = tf.reshape(contentFeatures, [h * w, c]);
    // Rows are positions, so (T Xc)^T = Xc T^T.
    const tT = tf.transpose(tf.tensor2d(Float32Array.from(t), [c, c]));
    const xc = tf.sub(x, tf.tensor1d(Float32Array.from(contentMean)));
    let y = tf.add(tf.matMul(xc, tT), tf.tensor1d(Float32Array.from(styleMean)));
    if (alpha !== 1) y = tf.add(tf.mul(y, alpha), tf.mul(x, 1 - alpha));
    return tf.reshape(y, [1, h, w, c]);
  });
}

/** A style's (or a blend's) WCT statistics uploaded to the backend. */
export interface WctStyleTensors {
  /** `[C, C]` colouring matrix. */
  readonly colouring: tf.Tensor2D;
  /** `[C]` style mean. */
  readonly mean: tf.Tensor1D;
}

/** Uploads blended style statistics. Caller owns both tensors; dispose. */
export function uploadWctStats(style: WctStyleStats): WctStyleTensors {
  return {
    colouring: tf.tensor2d(Float32Array.from(style.colouring), [style.channels, style.channels]),
    mean: tf.tensor1d(Float32Array.from(style.mean)),
  };
}

/**
 * WCT entirely on the backend, with no readback: content moments by reduction and the whitening
 * matrix by the Newton–Schulz iteration (see matrix-sqrt.ts) instead of a CPU eigendecomposition.
 * For the per-frame video path; the exact path ({@link wct}) stays the still-image reference.
 * Not for backends that keep half floats (`storesHalfFloats()`, backend/precision.ts): it diverges there,
 * so the Stylizer whitens exactly on them (README, "Precision").
 * @param contentFeatures NHWC batch 1; not disposed. `style` tensors are not disposed.
 * @returns new features. Caller owns; dispose.
 */
export function wctOnBackend(
  contentFeatures: tf.Tensor4D,
  style: WctStyleTensors,
  alpha: number,
  newtonSchulz: Partial<NewtonSchulzOptions> = {},
): tf.Tensor4D {
  const [, h, w, c] = contentFeatures.shape;
  const count = h * w;
  if (count < 2) throw new Error(`feature map ${h}x${w} is too small for a covariance (need >= 2 positions)`);
  if (style.colouring.shape[0] !== c) throw new Error(`WCT: content has ${c} channels, style ${style.colouring.shape[0]}`);
  return tf.tidy(() => {
    const x = tf.reshape<tf.Rank.R2>(contentFeatures, [count, c]);
    const xc = tf.sub<tf.Tensor2D>(x, tf.mean(x, 0));
    const covariance = covarianceOfCentred(xc);
    const whitening = inverseSqrtNewtonSchulz(covariance, newtonSchulz);
    // Rows are positions: (T Xc)^T = Xc T^T with T = colouring · whitening (whitening is symmetric).
    const tT = tf.matMul(whitening, style.colouring, false, true);
    let y = tf.add(tf.matMul(xc, tT), style.mean);
    if (alpha !== 1) y = tf.add(tf.mul(y, alpha), tf.mul(x, 1 - alpha));
    return tf.reshape(y, [1, h, w, c]);
  });
}
