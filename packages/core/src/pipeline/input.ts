/** Converting the accepted image kinds to a float RGB tensor in [0, 1]. */
import * as tf from '@tensorflow/tfjs-core';
import { storesHalfFloats } from '../backend/precision.js';
import { constant, constantTensor } from '../backend/constants.js';

/** Packed frame bytes → `[1,H,W,3]` float RGB in one dispatch (registered for webgpu by input-gpu.ts). */
export const BYTES_TO_RGB_KERNEL = 'LivestyleBytesToRgb';

/** Raw pixels, as `ImageData` or a decoded file: RGBA (4 bytes/px) or RGB (3 bytes/px). */
export interface PixelsLike {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array | Uint8ClampedArray;
}

/** Browser image sources tfjs can read directly. */
export type BrowserImageSource = HTMLImageElement | HTMLVideoElement | HTMLCanvasElement | ImageBitmap | OffscreenCanvas;

/**
 * What the stylizer accepts. A `tf.Tensor3D` is `[height, width, 3]`: float32 in [0, 1], or int32
 * in [0, 255]. It is never disposed by the stylizer.
 */
export type StylizerInput = tf.Tensor3D | PixelsLike | BrowserImageSource;

/** An input the stylizer cannot use (wrong shape, empty, too large, non-finite); the message says which. */
export class InputError extends Error {
  override name = 'InputError';
}

function isPixelsLike(v: unknown): v is PixelsLike {
  return (
    typeof v === 'object' &&
    v !== null &&
    'data' in v &&
    'width' in v &&
    'height' in v &&
    (v.data instanceof Uint8Array || v.data instanceof Uint8ClampedArray)
  );
}

/**
 * @returns `[1, H, W, 3]` float32 in [0, 1] (caller owns; dispose). The input is not disposed.
 */
export function toImageBatch(input: StylizerInput, what = 'image'): tf.Tensor4D {
  if (input instanceof tf.Tensor) {
    if (input.rank !== 3 || input.shape[2] !== 3)
      throw new InputError(`${what}: tensor must be [height, width, 3], got [${input.shape.join(', ')}]`);
    if (input.isDisposed) throw new InputError(`${what}: tensor is disposed`);
    return tf.tidy(() => {
      if (input.dtype !== 'float32') return tf.expandDims<tf.Tensor4D>(tf.div(tf.cast(input, 'float32'), 255), 0);
      // NaN/Inf pixels become 0 here, on the backend (no readback): passed on, they would poison every
      // statistic of the frame and, in video mode, the temporal state of the frames after it.
      return tf.expandDims<tf.Tensor4D>(tf.where(tf.isFinite(input), input, tf.zerosLike(input)), 0);
    });
  }
  if (isPixelsLike(input)) {
    const { width, height, data } = input;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new InputError(`${what}: bad size ${String(width)}x${String(height)}`);
    }
    const channels = data.length / (width * height);
    if (channels !== 3 && channels !== 4) throw new InputError(`${what}: ${data.length} bytes do not fit ${width}x${height} RGB or RGBA`);
    if (tf.getKernel(BYTES_TO_RGB_KERNEL, tf.getBackend())) {
      // The bytes as they are, four to a word (input-gpu.ts): one upload of the frame's own size.
      const words = new Int32Array(Math.ceil(data.length / 4));
      new Uint8Array(words.buffer).set(data);
      return tf.tidy(() =>
        tf.engine().runKernel<tf.Tensor4D>(BYTES_TO_RGB_KERNEL, { words: tf.tensor1d(words, 'int32') }, { height, width, channels }),
      );
    }
    return tf.tidy(() => {
      const t = tf.tensor4d(Uint8Array.from(data), [1, height, width, channels], 'int32');
      const rgb = channels === 4 ? tf.slice(t, [0, 0, 0, 0], [1, height, width, 3]) : t;
      return tf.div<tf.Tensor4D>(tf.cast(rgb, 'float32'), constant(255));
    });
  }
  if (typeof globalThis.document !== 'undefined' || typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== 'undefined') {
    return tf.tidy(() => tf.div<tf.Tensor4D>(tf.expandDims(tf.browser.fromPixels(input as HTMLImageElement), 0), 255));
  }
  throw new InputError(`${what}: unsupported input (expected a tf.Tensor3D, ImageData-like pixels, or a browser image source)`);
}

/** `[H, W, 3]` float in [0,1] → interleaved RGB bytes (clamped, rounded). The tensor is not disposed. */
export async function toRgbBytes(image: tf.Tensor3D): Promise<Uint8Array> {
  const [height, width] = image.shape;
  if (storesHalfFloats()) {
    // float16 cannot hold the packed 24-bit value below: one int32 per channel.
    const bytes = tf.tidy(() => tf.cast(tf.round(tf.mul(tf.clipByValue(image, 0, 1), 255)), 'int32'));
    try {
      return Uint8Array.from(await bytes.data());
    } finally {
      bytes.dispose();
    }
  }
  // One int32 per pixel, r + 256 g + 65536 b (exact in float32: < 2^24), so a GPU backend reads back
  // a third of the bytes of one int32 per channel.
  const packed = tf.tidy(() => {
    const q = tf.round(tf.mul(tf.clipByValue(image, 0, 1), 255));
    return tf.cast(
      tf.sum(
        tf.mul(
          q,
          constantTensor('rgbPack', () => tf.tensor1d([1, 256, 65536])),
        ),
        -1,
      ),
      'int32',
    );
  });
  try {
    const px = (await packed.data()) as Int32Array;
    const out = new Uint8Array(width * height * 3);
    for (let i = 0, o = 0; i < px.length; i++, o += 3) {
      const v = px[i] as number;
      out[o] = v & 255;
      out[o + 1] = (v >> 8) & 255;
      out[o + 2] = (v >> 16) & 255;
    }
    return out;
  } finally {
    packed.dispose();
  }
}

/** `[H, W, 3]` float in [0,1] → RGBA bytes (rounded), e.g. for a canvas's ImageData. */
export async function toPixels(image: tf.Tensor3D): Promise<{ width: number; height: number; data: Uint8ClampedArray }> {
  const [height, width] = image.shape;
  const rgb = await toRgbBytes(image);
  const data = new Uint8ClampedArray(width * height * 4).fill(255);
  for (let i = 0; i < width * height; i++) data.set(rgb.subarray(i * 3, i * 3 + 3), i * 4);
  return { width, height, data };
}
