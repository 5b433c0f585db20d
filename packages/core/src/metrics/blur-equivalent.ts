/**
 * A texture cost a reader can picture: the Gaussian blur (σ in px) of the per-frame output that
 * scores the same style loss as, say, the smoothed output. The honest meter's loss grows with σ (the
 * calibration in test/engine/temporal-meter.test.ts), so bisection over σ finds it.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The 1-D Gaussian taps for `sigmaPx`, radius ceil(3σ), normalised to sum 1. */
function gaussianTaps(sigmaPx: number): number[] {
  const radiusPx = Math.ceil(3 * sigmaPx);
  const taps = Array.from({ length: 2 * radiusPx + 1 }, (_, i) => Math.exp(-((i - radiusPx) ** 2) / (2 * sigmaPx * sigmaPx)));
  const sum = taps.reduce((a, b) => a + b, 0);
  return taps.map((t) => t / sum);
}

/**
 * Separable Gaussian blur of `[1, H, W, C]` with standard deviation `sigmaPx` (0: a copy), borders
 * mirrored (so the edge rows keep their own texture instead of fading to black).
 * @returns caller owns; the input is not disposed.
 */
export function gaussianBlur(image: tf.Tensor4D, sigmaPx: number): tf.Tensor4D {
  if (!(Number.isFinite(sigmaPx) && sigmaPx >= 0)) throw new Error(`gaussianBlur: sigmaPx must be a finite number >= 0 (got ${sigmaPx})`);
  if (sigmaPx === 0) return tf.clone(image);
  const taps = gaussianTaps(sigmaPx);
  const radiusPx = (taps.length - 1) / 2;
  const [, h, w, c] = image.shape;
  if (radiusPx >= Math.min(h, w))
    throw new Error(`gaussianBlur: σ ${sigmaPx} px needs a ${radiusPx} px border, more than the ${w}x${h} image has`);
  return tf.tidy(() => {
    // A depthwise filter per direction: each channel blurred on its own.
    const row = tf.tile<tf.Tensor4D>(tf.tensor4d(taps, [1, taps.length, 1, 1]), [1, 1, c, 1]);
    const col = tf.tile<tf.Tensor4D>(tf.tensor4d(taps, [taps.length, 1, 1, 1]), [1, 1, c, 1]);
    const padded = tf.mirrorPad(
      image,
      [
        [0, 0],
        [radiusPx, radiusPx],
        [radiusPx, radiusPx],
        [0, 0],
      ],
      'reflect',
    );
    return tf.depthwiseConv2d(tf.depthwiseConv2d(padded, row, 1, 'valid'), col, 1, 'valid');
  });
}

/** The result of {@link blurEquivalentSigmaPx}. */
export interface BlurEquivalent {
  /** The σ (px) whose blur scores the target loss; an end of the search range when `atBound`. */
  readonly sigmaPx: number;
  /** The target lies outside the losses at the range's ends (below the unblurred one, or beyond the widest blur). */
  readonly atBound: boolean;
}

export interface BlurEquivalentOptions {
  /** Widest blur tried (default 3 px). */
  readonly maxSigmaPx?: number;
  /** Bisection stops when the bracket is this narrow (default 0.01 px). */
  readonly toleranceSigmaPx?: number;
}

/**
 * The σ in [0, maxSigmaPx] at which `lossAtSigmaPx` (increasing in σ) reaches `targetLoss`, by
 * bisection. Costs two evaluations for the ends, then one per halving of the bracket (about 8 for
 * the defaults).
 */
export async function blurEquivalentSigmaPx(
  lossAtSigmaPx: (sigmaPx: number) => Promise<number>,
  targetLoss: number,
  options: BlurEquivalentOptions = {},
): Promise<BlurEquivalent> {
  const { maxSigmaPx = 3, toleranceSigmaPx = 0.01 } = options;
  if (!(maxSigmaPx > 0 && toleranceSigmaPx > 0)) throw new Error('blurEquivalentSigmaPx: maxSigmaPx and toleranceSigmaPx must be > 0');
  if (!Number.isFinite(targetLoss)) throw new Error(`blurEquivalentSigmaPx: the target loss must be finite (got ${targetLoss})`);
  if (targetLoss <= (await lossAtSigmaPx(0))) return { sigmaPx: 0, atBound: true };
  if (targetLoss >= (await lossAtSigmaPx(maxSigmaPx))) return { sigmaPx: maxSigmaPx, atBound: true };
  let lowPx = 0;
  let highPx = maxSigmaPx;
  while (highPx - lowPx > toleranceSigmaPx) {
    const midPx = (lowPx + highPx) / 2;
    if ((await lossAtSigmaPx(midPx)) < targetLoss) lowPx = midPx;
    else highPx = midPx;
  }
  return { sigmaPx: (lowPx + highPx) / 2, atBound: false };
}
