/**
 * Node-only image files: decoding (JPEG, PNG, WebP, GIF, TIFF, AVIF via sharp/libvips), resizing and
 * atomic PNG writing (temporary name, then rename: never a half-written output).
 */
import sharp from 'sharp';
import { rename, rm, stat } from 'node:fs/promises';
import { temporaryNameFor } from './atomic-file.js';
import type * as tf from '@tensorflow/tfjs-core';
import { toRgbBytes, type PixelsLike } from '../pipeline/input.js';

export class ImageFileError extends Error {
  override name = 'ImageFileError';
}

/** Largest side accepted on input (px): beyond this, memory use is unreasonable for one pass. */
export const MAX_IMAGE_SIDE_PX = 16384;

/**
 * Reads an image file as RGB pixels.
 * @param shortSidePx if > 0, resize (Lanczos) so the short side is this many px; 0 keeps the pixels.
 */
export async function readImageFile(file: string, shortSidePx = 0): Promise<PixelsLike> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new ImageFileError(`${file}: not a file`);
  } catch (e) {
    if (e instanceof ImageFileError) throw e;
    throw new ImageFileError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    let img = sharp(file, { failOn: 'error' }).rotate().removeAlpha().toColourspace('srgb');
    const meta = await img.metadata(); // describes the input file; read once, shared with the pipeline
    const w0 = meta.autoOrient?.width ?? meta.width;
    const h0 = meta.autoOrient?.height ?? meta.height;
    if (!w0 || !h0) throw new ImageFileError(`${file}: image has no size`);
    if (Math.max(w0, h0) > MAX_IMAGE_SIDE_PX) throw new ImageFileError(`${file}: ${w0}x${h0} exceeds the ${MAX_IMAGE_SIDE_PX} px limit`);
    if (shortSidePx > 0) {
      const scale = shortSidePx / Math.min(w0, h0);
      img = img.resize(Math.max(1, Math.round(w0 * scale)), Math.max(1, Math.round(h0 * scale)), { kernel: 'lanczos3', fit: 'fill' });
    }
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new ImageFileError(`${file}: decoded to ${info.channels} channels, expected RGB`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    if (e instanceof ImageFileError) throw e;
    throw new ImageFileError(`${file}: unreadable or unsupported image (${(e as Error).message.split('\n')[0]})`);
  }
}

/** Writes `[H, W, 3]` float [0,1] as an 8-bit PNG, atomically. The tensor is not disposed. */
export async function writePngFile(file: string, image: tf.Tensor3D): Promise<void> {
  const [height, width] = image.shape;
  const data = await toRgbBytes(image);
  const tmp = temporaryNameFor(file);
  try {
    await sharp(data, { raw: { width, height, channels: 3 } })
      .png({ compressionLevel: 6 })
      .toFile(tmp);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new ImageFileError(`${file}: cannot write (${(e as Error).message})`);
  }
}
