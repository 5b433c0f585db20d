/**
 * Dense bilinear warping of an image by a flow field: `out(x) = image(x + flow(x))`.
 *
 * tf.js has no such op, so it is a custom kernel: a shader on webgl/webgpu (`warp-kernels-gpu.ts`,
 * imported by the browser entry) and a loop over main memory on wasm/cpu (`warp-kernels-cpu.ts`).
 * `warpBilinearOps` composes the same arithmetic from stock tf ops (gather + blend) as the reference. `test/browser.test.ts` checks that all backends agree.
 * ref: bilinear sampling as in Jaderberg et al., "Spatial Transformer Networks", NeurIPS 2015, eq. 5,
 * with coordinates clamped to the image (border replication).
 */
import * as tf from '@tensorflow/tfjs-core';

import { DENSE_WARP_CUBIC_KERNEL, DENSE_WARP_KERNEL } from './warp-kernels-cpu.js';

export { DENSE_WARP_CUBIC_KERNEL, DENSE_WARP_KERNEL };

/** Whether the active backend has the one-pass warp kernel. */
export function hasWarpKernel(backendName = tf.getBackend()): boolean {
  return tf.getKernel(DENSE_WARP_KERNEL, backendName) !== undefined;
}

/**
 * Samples `image` at `(x + flow_x, y + flow_y)` for every pixel, bilinearly, with sample
 * coordinates clamped to the image. `flow` is in pixels, channel 0 = x (right), 1 = y (down).
 * Uses the backend's kernel where there is one unless `useKernel` is false.
 * @returns `[1, H, W, C]`. Caller owns; dispose. Inputs are not disposed.
 */
export function warpBilinear(image: tf.Tensor4D, flow: tf.Tensor4D, useKernel = true): tf.Tensor4D {
  const [n, h, w] = image.shape;
  if (n !== 1 || flow.shape[0] !== 1 || flow.shape[1] !== h || flow.shape[2] !== w || flow.shape[3] !== 2) {
    throw new Error(`warpBilinear: image ${JSON.stringify(image.shape)} and flow ${JSON.stringify(flow.shape)} do not match`);
  }
  if (useKernel && hasWarpKernel()) {
    const inputs: tf.NamedTensorMap = { image, flow };
    return tf.engine().runKernel<tf.Tensor4D>(DENSE_WARP_KERNEL, inputs);
  }
  return warpBilinearOps(image, flow);
}

/** The composite (gather-based) warp used on wasm/cpu. Caller owns the result. */
export function warpBilinearOps(image: tf.Tensor4D, flow: tf.Tensor4D): tf.Tensor4D {
  const [, h, w, c] = image.shape;
  return tf.tidy(() => {
    const [fx, fy] = tf.split<tf.Tensor4D>(flow, 2, 3);
    const gx = tf.reshape(tf.range(0, w, 1, 'float32'), [1, 1, w, 1]);
    const gy = tf.reshape(tf.range(0, h, 1, 'float32'), [1, h, 1, 1]);
    const sx = tf.clipByValue(tf.add(gx, fx as tf.Tensor4D), 0, w - 1);
    const sy = tf.clipByValue(tf.add(gy, fy as tf.Tensor4D), 0, h - 1);
    const x0 = tf.floor(sx);
    const y0 = tf.floor(sy);
    const ax = tf.sub(sx, x0);
    const ay = tf.sub(sy, y0);
    const x1 = tf.minimum(tf.add(x0, 1), w - 1);
    const y1 = tf.minimum(tf.add(y0, 1), h - 1);
    const flat = tf.reshape(image, [h * w, c]);
    // Indices stay exact in float32 below 2^24 pixels (MAX side limits keep us far below).
    const at = (yy: tf.Tensor, xx: tf.Tensor): tf.Tensor =>
      tf.reshape(tf.gather(flat, tf.cast(tf.reshape(tf.add(tf.mul(yy, w), xx), [h * w]), 'int32')), [1, h, w, c]);
    const top = tf.add(tf.mul(at(y0, x0), tf.sub(1, ax)), tf.mul(at(y0, x1), ax));
    const bottom = tf.add(tf.mul(at(y1, x0), tf.sub(1, ax)), tf.mul(at(y1, x1), ax));
    return tf.add<tf.Tensor4D>(tf.mul(top, tf.sub(1, ay)), tf.mul(bottom, ay));
  });
}

/**
 * As {@link warpBilinear}, with Catmull-Rom (bicubic) interpolation: sharper when an image is
 * resampled again and again (the smoother's previous output). Values may overshoot [0, 1] slightly
 * at edges (the smoother clips its output). Every backend livestyle runs on has the kernel.
 * @returns `[1, H, W, C]`. Caller owns; dispose. Inputs are not disposed.
 */
export function warpCubic(image: tf.Tensor4D, flow: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w] = image.shape;
  if (n !== 1 || flow.shape[0] !== 1 || flow.shape[1] !== h || flow.shape[2] !== w || flow.shape[3] !== 2) {
    throw new Error(`warpCubic: image ${JSON.stringify(image.shape)} and flow ${JSON.stringify(flow.shape)} do not match`);
  }
  if (tf.getKernel(DENSE_WARP_CUBIC_KERNEL, tf.getBackend()) === undefined)
    throw new Error(`warpCubic: no ${DENSE_WARP_CUBIC_KERNEL} kernel on the ${tf.getBackend()} backend`);
  const inputs: tf.NamedTensorMap = { image, flow };
  return tf.engine().runKernel<tf.Tensor4D>(DENSE_WARP_CUBIC_KERNEL, inputs);
}

/** Samples `image` at `x + flow(x)` with the given interpolation. Caller owns the result. */
export function warpImage(image: tf.Tensor4D, flow: tf.Tensor4D, interpolation: 'bilinear' | 'cubic'): tf.Tensor4D {
  return interpolation === 'bilinear' ? warpBilinear(image, flow) : warpCubic(image, flow);
}
