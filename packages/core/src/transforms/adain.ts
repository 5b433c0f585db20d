/**
 * Adaptive instance normalisation.
 * ref: Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance
 * Normalization", ICCV 2017, eq. 8; statistics as in the authors' PyTorch port (naoto0804/pytorch-AdaIN,
 * `calc_mean_std`): unbiased variance + 1e-5 under the square root.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FeatureMoments } from './moments.js';

export const ADAIN_EPSILON = 1e-5;

export interface AdaInStyleStats {
  readonly channels: number;
  readonly mean: Float64Array;
  readonly std: Float64Array;
}

/** Channel mean and std (caller owns both tensors). */
function meanStd(features: tf.Tensor4D): [tf.Tensor1D, tf.Tensor1D] {
  return tf.tidy(() => {
    const [, h, w, c] = features.shape;
    const n = h * w;
    const x = tf.reshape(features, [n, c]);
    const { mean, variance } = tf.moments(x, 0);
    const std = tf.sqrt(tf.add(tf.mul(variance, n / Math.max(1, n - 1)), ADAIN_EPSILON));
    return [mean as tf.Tensor1D, std as tf.Tensor1D];
  });
}

/** AdaIN statistics from channel moments (already read back): std = sqrt(unbiased variance + eps). */
export function adainStatsFromMoments(m: FeatureMoments): AdaInStyleStats {
  const std = new Float64Array(m.channels);
  for (let k = 0; k < m.channels; k++) std[k] = Math.sqrt((m.covariance[k * m.channels + k] as number) + ADAIN_EPSILON);
  return { channels: m.channels, mean: m.mean, std };
}

export async function adainStyleStats(styleFeatures: tf.Tensor4D): Promise<AdaInStyleStats> {
  const [mean, std] = meanStd(styleFeatures);
  try {
    const [m, s] = await Promise.all([mean.data(), std.data()]);
    return { channels: styleFeatures.shape[3], mean: Float64Array.from(m), std: Float64Array.from(s) };
  } finally {
    tf.dispose([mean, std]);
  }
}

/** Weighted sum of style statistics (AdaIN is affine in them, so this equals blending the outputs). */
export function blendAdainStats(stats: readonly AdaInStyleStats[], weights: readonly number[]): AdaInStyleStats {
  const first = stats[0];
  if (!first) throw new Error('blendAdainStats: no styles');
  const mean = new Float64Array(first.channels);
  const std = new Float64Array(first.channels);
  stats.forEach((s, i) => {
    const w = weights[i] ?? 0;
    for (let k = 0; k < first.channels; k++) {
      mean[k] = (mean[k] as number) + w * (s.mean[k] as number);
      std[k] = (std[k] as number) + w * (s.std[k] as number);
    }
  });
  return { channels: first.channels, mean, std };
}

/**
 * alpha * (std_s * (f_c - mean_c) / std_c + mean_s) + (1 - alpha) * f_c, entirely on the backend.
 * @param contentFeatures NHWC batch 1; not disposed.
 * @returns new features (caller owns; dispose).
 */
export function adain(contentFeatures: tf.Tensor4D, style: AdaInStyleStats, alpha: number): tf.Tensor4D {
  if (contentFeatures.shape[3] !== style.channels) {
    throw new Error(`AdaIN: content has ${contentFeatures.shape[3]} channels, style ${style.channels}`);
  }
  return tf.tidy(() => {
    const [mean, std] = meanStd(contentFeatures);
    return adainWithContentStats(contentFeatures, mean, std, style, alpha);
  });
}

/**
 * AdaIN with the content's channel mean and std given (gathered over a whole image whose tiles
 * are transformed one by one). Inputs are not disposed; caller owns the result.
 */
export function adainWithContentStats(
  contentFeatures: tf.Tensor4D,
  contentMean: tf.Tensor1D,
  contentStd: tf.Tensor1D,
  style: AdaInStyleStats,
  alpha: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const normalised = tf.div(tf.sub(contentFeatures, contentMean), contentStd);
    let y: tf.Tensor4D = tf.add(tf.mul(normalised, tf.tensor1d(Float32Array.from(style.std))), tf.tensor1d(Float32Array.from(style.mean)));
    if (alpha !== 1) y = tf.add(tf.mul(y, alpha), tf.mul(contentFeatures, 1 - alpha));
    return y;
  });
}
