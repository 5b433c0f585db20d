/**
 * Node-only image files: decoding (JPEG, PNG, WebP, GIF, TIFF, AVIF via sharp/libvips), resizing and
 * atomic PNG writing (temporary name, then rename: never a half-written output).
 */
import type Sharp from 'sharp';
import { rename, rm, stat } from 'node:fs/promises';
import { describeWriteError, temporaryNameFor } from './atomic-file.js';
import type * as tf from '@tensorflow/tfjs-core';
import { toRgbBytes, type PixelsLike } from '../pipeline/input.js';

/** An image file that cannot be read or written; the message names the file and the cause. */
export class ImageFileError extends Error {
  override name = 'ImageFileError';
}

/**
 * sharp, loaded on first use: it is an optional peer dependency of @livestyle/core, so a Node program
 * that never reads or writes image files does not need it installed.
 */
let sharpModule: Promise<typeof Sharp> | undefined;
function loadSharp(): Promise<typeof Sharp> {
  sharpModule ??= import('sharp').then(
    (m) => m.default,
    (e: unknown) => {
      sharpModule = undefined;
      throw new ImageFileError(
        (e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND'
          ? "reading and writing image files in Node needs the package 'sharp': npm install sharp"
          : `the 'sharp' package failed to load: ${(e as Error).message}`,
      );
    },
  );
  return sharpModule;
}

/** Largest side accepted on input (px): beyond this, memory use is unreasonable for one pass. */
export const MAX_IMAGE_SIDE_PX = 16384;

/**
 * The most pixels an image may decode to (after any scaling on read): 50 megapixels, 150 MB of RGB
 * bytes and 600 MB as the float tensor the stylizer makes of it. The side limit alone would let a
 * 16000x16000 image through (256 MP, gigabytes of memory).
 */
export const MAX_IMAGE_PIXELS = 50_000_000;

/** How `readImageFile` scales an image while decoding it (never up). */
export interface ReadImageOptions {
  /** Scale so the shorter side is this many px (0 = as is; may scale up). */
  readonly shortSidePx?: number;
  /** Scale down so the longer side is at most this many px (0 = no limit). */
  readonly maxSidePx?: number;
}

/**
 * Reads an image file as RGB bytes (EXIF orientation applied, alpha dropped), scaled while decoding
 * as asked (`shortSidePx` as a number is the short side). Rejects with an ImageFileError naming the
 * file when it cannot be read, or when it would decode to more than {@link MAX_IMAGE_PIXELS}.
 */
export async function readImageFile(file: string, scaling: number | ReadImageOptions = 0): Promise<PixelsLike> {
  const { shortSidePx = 0, maxSidePx = 0 } = typeof scaling === 'number' ? { shortSidePx: scaling } : scaling;
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new ImageFileError(`${file}: not a file`);
  } catch (e) {
    if (e instanceof ImageFileError) throw e;
    throw new ImageFileError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const sharp = await loadSharp();
  try {
    let img = sharp(file, { failOn: 'error' }).rotate().removeAlpha().toColourspace('srgb');
    const meta = await img.metadata(); // describes the input file; read once, shared with the pipeline
    const w0 = meta.autoOrient?.width ?? meta.width;
    const h0 = meta.autoOrient?.height ?? meta.height;
    if (!w0 || !h0) throw new ImageFileError(`${file}: image has no size`);
    if (Math.max(w0, h0) > MAX_IMAGE_SIDE_PX) throw new ImageFileError(`${file}: ${w0}x${h0} exceeds the ${MAX_IMAGE_SIDE_PX} px limit`);
    // Only JPEG is scaled while decoding (shrink-on-load): any other format is decoded whole first,
    // so over the budget it is refused before it is decoded (a 16000x16000 PNG took 4.3 GB).
    if (w0 * h0 > MAX_IMAGE_PIXELS && meta.format !== 'jpeg')
      throw new ImageFileError(
        `${file}: ${w0}x${h0} ${String(meta.format ?? 'image').toUpperCase()} is ${((w0 * h0) / 1e6).toFixed(1)} MP, over the ${(MAX_IMAGE_PIXELS / 1e6).toFixed(1)} MP budget for images that are decoded whole (only JPEG is scaled while decoding); scale it first`,
      );
    let scale = shortSidePx > 0 ? shortSidePx / Math.min(w0, h0) : 1;
    if (maxSidePx > 0 && Math.max(w0, h0) * scale > maxSidePx) scale = maxSidePx / Math.max(w0, h0);
    const [w, h] = [Math.max(1, Math.round(w0 * scale)), Math.max(1, Math.round(h0 * scale))];
    if (w * h > MAX_IMAGE_PIXELS) {
      const mp = (n: number): string => `${(n / 1e6).toFixed(1)} MP`;
      throw new ImageFileError(
        `${file}: ${w0}x${h0}${scale !== 1 ? ` scaled to ${w}x${h}` : ''} is ${mp(w * h)}, over the ${mp(MAX_IMAGE_PIXELS)} budget; read it scaled down (the CLI's --size for content, --style-size for styles; for stills larger than this, scale first)`,
      );
    }
    // sharp scales while decoding (shrink-on-load where the format allows): the full image is not held.
    if (scale !== 1) img = img.resize(w, h, { kernel: 'lanczos3', fit: 'fill' });
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new ImageFileError(`${file}: decoded to ${info.channels} channels, expected RGB`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    if (e instanceof ImageFileError) throw e;
    throw new ImageFileError(`${file}: unreadable or unsupported image (${(e as Error).message.split('\n')[0]})`);
  }
}

/**
 * Writes `[H, W, 3]` float [0,1] as an 8-bit PNG, atomically. The tensor is not disposed.
 * `compressionLevel` (zlib, 0..9): 6 by default; intermediate frames use 1 (faster, larger).
 */
export async function writePngFile(file: string, image: tf.Tensor3D, compressionLevel = 6): Promise<void> {
  const [height, width] = image.shape;
  await writeRgbPngFile(file, await toRgbBytes(image), width, height, compressionLevel);
}

/** Writes packed 8-bit RGB pixels as a PNG, atomically (temporary name, then rename). */
export async function writeRgbPngFile(file: string, data: Uint8Array, width: number, height: number, compressionLevel = 6): Promise<void> {
  const sharp = await loadSharp();
  const tmp = temporaryNameFor(file);
  try {
    await sharp(data, { raw: { width, height, channels: 3 } })
      .png({ compressionLevel })
      .toFile(tmp);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new ImageFileError(`${file}: cannot write (${describeWriteError(e)})`);
  }
}
