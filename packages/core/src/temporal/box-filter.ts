/**
 * Box mean of a `[1, H, W, C]` image over a `k x k` window ('same' size; windows clipped at the
 * borders average what lies inside, as `tf.avgPool` does). Computed as a row pass then a column
 * pass: a clipped window is still a rectangle, so the separable result equals the 2-D average,
 * at 2k instead of k² reads per pixel (the 15 px band of the temporal blend was 10% of a realtime
 * frame on WASM as one 2-D pool; `npm run profile`). Caller owns the result.
 */
import * as tf from '@tensorflow/tfjs-core';

export function boxMean(image: tf.Tensor4D, windowPx: number): tf.Tensor4D {
  if (!Number.isInteger(windowPx) || windowPx < 1) throw new Error(`boxMean: window must be a positive integer (got ${windowPx})`);
  return tf.tidy(() => tf.avgPool(tf.avgPool(image, [1, windowPx], 1, 'same'), [windowPx, 1], 1, 'same'));
}
