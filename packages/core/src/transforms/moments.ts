import * as tf from '@tensorflow/tfjs-core';
import { constant } from '../backend/constants.js';

/** Channel mean and covariance of NHWC features (batch 1), read back to float64. */
export interface FeatureMoments {
  readonly channels: number;
  /** Number of spatial positions N. */
  readonly count: number;
  readonly mean: Float64Array;
  /** C x C row-major, unbiased: Xc Xc^T / (N - 1). */
  readonly covariance: Float64Array;
}

/**
 * Where channel statistics are computed:
 * - `'float64'`: features are read back and reduced in float64 on the CPU, as the reference does.
 *   Needed for exact parity: covariance eigenvalues span many decades (dead channels, and
 *   rank-deficient deep levels on small images), and float32 round-off in the covariance is
 *   amplified by the whitening's e^-1/2.
 * - `'float32'`: reduced on the backend; only C + C^2 numbers are read back. Faster, for video.
 */
export type StatisticsPrecision = 'float64' | 'float32';

/**
 * Unbiased covariance `XcᵀXc / (N - 1)` of mean-centred rows `xc` (`[N, C]`, not disposed), on the
 * backend. Scaled by 1/√(N-1) before the product, not after: on half-float textures (WebGL without
 * float32 rendering) the raw XᵀX of a large map overflows float16's 65,504 (README, "Precision").
 * @returns `[C, C]`. Caller owns; dispose.
 */
export function covarianceOfCentred(xc: tf.Tensor2D): tf.Tensor2D {
  const count = xc.shape[0];
  return tf.tidy(() => {
    const xs = tf.mul(xc, constant(1 / Math.sqrt(count - 1)));
    return tf.matMul<tf.Tensor2D>(xs, xs, true, false);
  });
}

/**
 * Channel moments of NHWC features (batch 1).
 * ref: Li et al. 2017 (WCT), eqs. 1–2: covariance of the mean-centred C x N feature matrix.
 */
export async function featureMoments(features: tf.Tensor4D, precision: StatisticsPrecision = 'float32'): Promise<FeatureMoments> {
  return precision === 'float64' ? featureMoments64(features) : featureMoments32(features);
}

async function featureMoments64(features: tf.Tensor4D): Promise<FeatureMoments> {
  const [, h, w] = features.shape;
  if (h * w < 2) throw new Error(`feature map ${h}x${w} is too small for a covariance (need >= 2 positions)`);
  // One part: the sums are taken about the features' own mean, i.e. the two-pass centred covariance.
  const accumulator = new MomentAccumulator();
  await accumulator.add(features);
  return accumulator.moments();
}

async function featureMoments32(features: tf.Tensor4D): Promise<FeatureMoments> {
  const [, h, w, c] = features.shape;
  const count = h * w;
  if (count < 2) throw new Error(`feature map ${h}x${w} is too small for a covariance (need >= 2 positions)`);
  const [meanT, covT] = tf.tidy(() => {
    const x = tf.reshape<tf.Rank.R2>(features, [count, c]);
    const mean = tf.mean(x, 0);
    return [mean, covarianceOfCentred(tf.sub(x, mean))];
  });
  try {
    const [mean, cov] = await Promise.all([meanT.data(), covT.data()]);
    return { channels: c, count, mean: Float64Array.from(mean), covariance: Float64Array.from(cov) };
  } finally {
    tf.dispose([meanT, covT]);
  }
}

/**
 * Positions per block of {@link MomentAccumulator.add}: about 128 KiB of float64 centred values, so a
 * block stays in cache while every channel pair's dot product runs over it.
 */
const blockPositionsFor = (stride: number): number => Math.max(16, Math.floor(16_384 / stride));

/**
 * Adds the upper triangle of `block blockᵀ` to `outer` (`stride x stride`, row-major): `block` holds
 * `stride` channel rows of `blockPositions` centred values, of which the first `m` are used. Channel
 * pairs go in 2x2 tiles, each tile's four dot products summed in registers over the block: the
 * `C x C` accumulator is read and written once per block instead of once per position (the cost of
 * the plain per-position outer product, ~4x slower on a 64 px CLI run's style). Products of float32
 * values are exact in float64; only the order of the float64 additions differs from a running sum.
 */
function accumulateOuterBlock(block: Float64Array, stride: number, blockPositions: number, m: number, outer: Float64Array): void {
  for (let a = 0; a < stride; a += 2) {
    const r0 = a * blockPositions;
    const r1 = r0 + blockPositions;
    for (let b = a; b < stride; b += 2) {
      const q0 = b * blockPositions;
      const q1 = q0 + blockPositions;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      for (let j = 0; j < m; j++) {
        const u0 = block[r0 + j] as number;
        const u1 = block[r1 + j] as number;
        const v0 = block[q0 + j] as number;
        const v1 = block[q1 + j] as number;
        s00 += u0 * v0;
        s01 += u0 * v1;
        s10 += u1 * v0;
        s11 += u1 * v1;
      }
      const base = a * stride + b;
      outer[base] = (outer[base] as number) + s00;
      outer[base + 1] = (outer[base + 1] as number) + s01;
      outer[base + stride + 1] = (outer[base + stride + 1] as number) + s11;
      // On the diagonal tile (b = a) this one is below the diagonal: the upper triangle has it as s01.
      if (b > a) outer[base + stride] = (outer[base + stride] as number) + s10;
    }
  }
}

/**
 * Channel moments of features that arrive in parts (the tiles of a large image), accumulated in
 * float64 on the CPU: the same mean and unbiased covariance as {@link featureMoments} of the whole.
 * Sums are taken about the first part's channel means, so large means do not cancel the variance.
 */
export class MomentAccumulator {
  private channels = 0;
  /** Channels rounded up to even (the 2x2 tiles of accumulateOuterBlock); a padding channel stays 0. */
  private stride = 0;
  private count = 0;
  private shift: Float64Array | null = null;
  private sum: Float64Array | null = null;
  /** `stride x stride`, upper triangle: sums of products of the shifted values. */
  private outer: Float64Array | null = null;

  /** Adds the positions of NHWC features (batch 1; read back, not disposed). */
  async add(features: tf.Tensor4D): Promise<void> {
    const [, h, w, c] = features.shape;
    const n = h * w;
    if (n === 0) return;
    const x = await features.data();
    if (!this.shift) {
      this.channels = c;
      this.stride = c + (c % 2);
      this.shift = new Float64Array(c);
      for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) this.shift[k] = (this.shift[k] as number) + (x[i * c + k] as number);
      for (let k = 0; k < c; k++) this.shift[k] = (this.shift[k] as number) / n;
      this.sum = new Float64Array(c);
      this.outer = new Float64Array(this.stride * this.stride);
    }
    if (c !== this.channels) throw new Error(`MomentAccumulator: expected ${this.channels} channels, got ${c}`);
    const shift = this.shift;
    const sum = this.sum as Float64Array;
    const stride = this.stride;
    const blockPositions = blockPositionsFor(stride);
    // Channel-major (row k = channel k), so each channel pair's dot product reads two contiguous rows.
    const block = new Float64Array(stride * blockPositions);
    for (let start = 0; start < n; start += blockPositions) {
      const m = Math.min(blockPositions, n - start);
      // Channel by channel: the reads stride through the block's positions, the writes are contiguous
      // (the other order, strided writes, cost as much as the products on a narrow level).
      for (let k = 0; k < c; k++) {
        const row = k * blockPositions;
        const s = shift[k] as number;
        let total = sum[k] as number;
        for (let j = 0, from = start * c + k; j < m; j++, from += c) {
          const v = (x[from] as number) - s;
          block[row + j] = v;
          total += v;
        }
        sum[k] = total;
      }
      accumulateOuterBlock(block, stride, blockPositions, m, this.outer as Float64Array);
    }
    this.count += n;
  }

  /** The moments of everything added so far. */
  moments(): FeatureMoments {
    const c = this.channels;
    const n = this.count;
    if (n < 2 || !this.shift || !this.sum || !this.outer) throw new Error(`need >= 2 positions for a covariance (have ${n})`);
    const centred = new Float64Array(c);
    const mean = new Float64Array(c);
    for (let k = 0; k < c; k++) {
      centred[k] = (this.sum[k] as number) / n;
      mean[k] = (this.shift[k] as number) + (centred[k] as number);
    }
    const covariance = new Float64Array(c * c);
    for (let a = 0; a < c; a++)
      for (let b = a; b < c; b++) {
        const v = ((this.outer[a * this.stride + b] as number) - n * (centred[a] as number) * (centred[b] as number)) / (n - 1);
        covariance[a * c + b] = v;
        covariance[b * c + a] = v;
      }
    return { channels: c, count: n, mean, covariance };
  }
}
