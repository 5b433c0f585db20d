/**
 * A style file read as every command hands it to the stylizer: scaled down while decoding so its long
 * side is at most `--style-size` (lanczos3, see readImageFile). `eval temporal` reads its style through
 * here too, so its reference is the image `livestyle stylize|video` stylised with.
 */
import { readImageFile } from '@livestyle/core/internal/io/node-image.js';
import type { PixelsLike } from '@livestyle/core/internal/pipeline/input.js';

/** @param styleSizePx `--style-size`: the longest side in px, 0 = native. */
export function readStyleFile(file: string, styleSizePx: number): Promise<PixelsLike> {
  return readImageFile(file, { maxSidePx: styleSizePx });
}
