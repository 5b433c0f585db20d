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
