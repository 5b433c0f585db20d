/**
 * Structural similarity of luminance.
 * ref: Wang, Bovik, Sheikh, Simoncelli, "Image Quality Assessment: From Error Visibility to
 * Structural Similarity", IEEE TIP 2004, eqs. 13–14 (11x11 Gaussian window, sigma 1.5, K1 = 0.01,
 * K2 = 0.03, dynamic range 1); luminance weights from ITU-R BT.601.
 */
import * as tf from '@tensorflow/tfjs-core';

const WINDOW_PX = 11;
const SIGMA_PX = 1.5;
const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

function gaussianWindow(): tf.Tensor4D {
  const r = (WINDOW_PX - 1) / 2;
  const g1 = Array.from({ length: WINDOW_PX }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * SIGMA_PX ** 2)));
  const s = g1.reduce((a, b) => a + b, 0);
  const w: number[] = [];
  for (const a of g1) for (const b of g1) w.push((a * b) / (s * s));
  return tf.tensor4d(w, [WINDOW_PX, WINDOW_PX, 1, 1]);
}

/** BT.601 luma of `[H, W, 3]` or `[1, H, W, 3]` RGB in [0, 1]: `[1, H, W, 1]`. @returns caller owns. */
export function luminance(rgb: tf.Tensor3D | tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const x = rgb.rank === 3 ? tf.expandDims(rgb, 0) : rgb;
    return tf.sum<tf.Tensor4D>(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), -1, true);
  });
}

/**
 * Mean SSIM of the luminance of two RGB images of the same size (at least 11x11), in [-1, 1].
 * Inputs are not disposed.
 */
export async function ssimLuminance(a: tf.Tensor3D | tf.Tensor4D, b: tf.Tensor3D | tf.Tensor4D): Promise<number> {
  if (a.shape.join(',') !== b.shape.join(',')) throw new Error(`ssim: shapes differ ([${a.shape.join(', ')}] vs [${b.shape.join(', ')}])`);
  const t = tf.tidy(() => {
    const x = luminance(a);
    const y = luminance(b);
    if (x.shape[1] < WINDOW_PX || x.shape[2] < WINDOW_PX) throw new Error(`ssim: images must be at least ${WINDOW_PX}x${WINDOW_PX}`);
    const w = gaussianWindow();
    const blur = (z: tf.Tensor4D): tf.Tensor4D => tf.conv2d(z, w, 1, 'valid');
    const muX = blur(x);
    const muY = blur(y);
    const sxx = tf.sub(blur(tf.square(x)), tf.square(muX));
    const syy = tf.sub(blur(tf.square(y)), tf.square(muY));
    const sxy = tf.sub(blur(tf.mul(x, y)), tf.mul(muX, muY));
    const num = tf.mul(tf.add(tf.mul(tf.mul(muX, muY), 2), C1), tf.add(tf.mul(sxy, 2), C2));
    const den = tf.mul(tf.add(tf.add(tf.square(muX), tf.square(muY)), C1), tf.add(tf.add(sxx, syy), C2));
    return tf.mean(tf.div(num, den));
  });
  const v = (await t.data())[0] as number;
  t.dispose();
  return v;
}
