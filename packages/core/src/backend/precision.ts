/**
 * What the active tf.js backend stores tensors in, where that changes which algorithm is safe.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Whether the active backend keeps tensors in half-float textures: tf.js's WebGL backend does so
 * where the device cannot render to float32 textures (`WEBGL_RENDER_FLOAT32_ENABLED` false, as on
 * many phones), or when a page sets that flag itself. float16 keeps ~3 significant digits and
 * tops out at 65,504.
 */
export function storesHalfFloats(): boolean {
  return tf.getBackend() === 'webgl' && !tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED');
}

/**
 * The largest buffer the active backend can bind, in bytes: on WebGPU the device's
 * `maxStorageBufferBindingSize` (and `maxBufferSize`); null where no such per-tensor limit applies.
 * Over it, WebGPU reports a validation error and the result is garbage, not an exception.
 */
export function maxTensorBytes(): number | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const limits = (tf.backend() as unknown as { device?: { limits?: { maxStorageBufferBindingSize: number; maxBufferSize: number } } })
    .device?.limits;
  return limits ? Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) : null;
}
