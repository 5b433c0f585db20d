/**
 * A result is checked before it is written: NaN/Inf values, or one flat colour from a content that
 * is not flat, mean the model or a decoder is broken (huge weights overflow to Inf and clamp flat),
 * and such an output must never be written as if it were a stylisation.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PixelsLike } from '@livestyle/core/internal/pipeline/input.js';

/** Below this range (in [0, 1]) an image is one flat colour. */
const FLAT_RANGE = 1 / 255;

export class ImplausibleOutputError extends Error {
  override name = 'ImplausibleOutputError';
}

function byteRange(pixels: PixelsLike): number {
  let lo = 255;
  let hi = 0;
  const channels = pixels.data.length / (pixels.width * pixels.height);
  for (let i = 0; i < pixels.data.length; i++) {
    if (channels === 4 && i % 4 === 3) continue; // alpha
    const v = pixels.data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return (hi - lo) / 255;
}

/** Throws ImplausibleOutputError naming `source` (the model, the decoders) when `result` is not an image. */
export async function checkStylised(result: tf.Tensor3D, content: PixelsLike, source: string): Promise<void> {
  const summary = tf.tidy(() => tf.stack([tf.cast(tf.all(tf.isFinite(result)), 'float32'), tf.min(result), tf.max(result)]));
  let finite: number, lo: number, hi: number;
  try {
    [finite = 0, lo = 0, hi = 0] = await summary.data();
  } finally {
    summary.dispose();
  }
  if (finite !== 1)
    throw new ImplausibleOutputError(`the output holds NaN or infinite values (${source}: damaged weights?); nothing written`);
  if (hi - lo < FLAT_RANGE && byteRange(content) >= FLAT_RANGE)
    throw new ImplausibleOutputError(
      `the output is one flat colour from a content that is not (${source}: damaged or extreme weights?); nothing written`,
    );
}
