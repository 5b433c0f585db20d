/**
 * How a style image becomes the tensor the stylizer encodes: scaled down (never up) so its long side
 * is at most `styleMaxSizePx`, bilinear with half-pixel centres. The stylizer and the temporal meter
 * both go through here, so the meter's style reference is the image the stylizer actually saw.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError, toImageBatch, type StylizerInput } from './input.js';

/**
 * `[1, h, w, 3]` of a style image at the stylizer's scale (`styleMaxSizePx` 0: as given).
 * @returns caller owns; the input is not disposed.
 */
export function prepareStyleImage(image: StylizerInput, styleMaxSizePx: number, what: string): tf.Tensor4D {
  const batch = toImageBatch(image, what);
  const [, h, w] = batch.shape;
  if (styleMaxSizePx > 0 && Math.max(h, w) > styleMaxSizePx) {
    const scale = styleMaxSizePx / Math.max(h, w);
    const resized = tf.tidy(() =>
      tf.image.resizeBilinear(batch, [Math.max(1, Math.round(h * scale)), Math.max(1, Math.round(w * scale))], false, true),
    );
    batch.dispose();
    return resized;
  }
  return batch;
}

/**
 * Refuses a prepared style smaller than the deepest level can encode: that level pools
 * 2^(level-1) times and pads by reflection, so each side needs at least 2^level pixels.
 * @param what names the style in the message, e.g. "style 1".
 */
export function checkStyleFitsLevels(
  heightPx: number,
  widthPx: number,
  levels: readonly number[],
  styleMaxSizePx: number,
  what: string,
): void {
  const deepest = Math.max(...levels);
  const minSidePx = 2 ** deepest;
  if (heightPx >= minSidePx && widthPx >= minSidePx) return;
  const scaled =
    styleMaxSizePx > 0 && Math.max(heightPx, widthPx) === styleMaxSizePx ? ` after scaling to styleMaxSizePx ${styleMaxSizePx}` : '';
  throw new InputError(`${what} is ${widthPx}x${heightPx}${scaled}: level ${deepest} needs at least ${minSidePx}x${minSidePx} pixels`);
}
