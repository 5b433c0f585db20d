/**
 * One flat colour: a style with no texture to transfer (a blank or one-colour image gives the
 * decoder nothing but a mean, and its output is flat too). Checked where a style is read, so the
 * message names the style, not the model.
 */
import type { PixelsLike } from '../pipeline/input.js';

/** Below this standard deviation (0..255) in every channel an image is one flat colour (JPEG noise included). */
export const FLAT_STDEV = 1;

/** True when every channel's standard deviation (0..255 scale) is under {@link FLAT_STDEV}. */
export function isFlatStats(channels: ReadonlyArray<{ readonly stdev: number }>): boolean {
  return channels.length > 0 && channels.every((c) => c.stdev < FLAT_STDEV);
}

/** `one flat colour (RGB r, g, b)` when `pixels` (RGB or RGBA bytes) is flat, else null. */
export function describeFlatColour(pixels: PixelsLike): string | null {
  const channels = pixels.data.length / (pixels.width * pixels.height);
  const n = pixels.width * pixels.height;
  const stats = [0, 1, 2].map((c) => {
    let sum = 0;
    let sq = 0;
    for (let i = c; i < pixels.data.length; i += channels) {
      const v = pixels.data[i]!;
      sum += v;
      sq += v * v;
    }
    const mean = sum / n;
    return { mean, stdev: Math.sqrt(Math.max(0, sq / n - mean * mean)) };
  });
  return isFlatStats(stats) ? `one flat colour (RGB ${stats.map((s) => Math.round(s.mean)).join(', ')})` : null;
}
