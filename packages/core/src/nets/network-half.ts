/**
 * The encoder and decoder in half precision (the `precision: 'float16'` option), on WebGPU only.
 *
 * Between layers, activations are IEEE half floats packed two to a 32-bit word (an int32 tensor of
 * half the channels): half the bytes every layer reads and writes, and these small networks are
 * bound by memory traffic and dispatch count, not arithmetic. Weights are packed the same way,
 * once per model on the device. Each conv is one dispatch with its reflection padding, the pool or
 * upsampling before it, the bias and the ReLU folded in (float32 tfjs: up to four dispatches).
 * Where the device has `shader-f16`, products are taken in half precision and summed in float32
 * every 4 channel pairs; elsewhere half storage with float32 arithmetic. The network's input and
 * output stay float32, so the feature transforms see the same tensors as before.
 * `test/webgpu-node.test.ts` bounds the difference to the float32 path.
 * ref: IEEE 754-2008 binary16; WGSL §17.9 pack2x16float/unpack2x16float, §4.1 `enable f16`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerSpec } from '../weights/architectures.js';
import { constantTensor } from '../backend/constants.js';

/** One conv layer with what runs before it (pooling or x2 upsampling) fused in. */
export const HALF_CONV_KERNEL = 'LivestyleHalfConv';
/** Packs a float32 [k, k, in, out] filter into the half-float word layout {@link HALF_CONV_KERNEL} reads. */
export const PACK_HALF_FILTER_KERNEL = 'LivestylePackHalfFilter';

/** Where the half-precision path can run now: the WebGPU backend with the kernels registered. */
export function halfNetworkAvailable(): boolean {
  return (
    tf.getBackend() === 'webgpu' &&
    tf.getKernel(HALF_CONV_KERNEL, 'webgpu') !== undefined &&
    tf.getKernel(PACK_HALF_FILTER_KERNEL, 'webgpu') !== undefined
  );
}

/**
 * A filter packed for {@link HALF_CONV_KERNEL}: kept in the constant cache (one upload per model
 * and device while a stylizer lives), keyed by the filter tensor's id, which tfjs never reuses.
 */
function packedFilter(filter: tf.Tensor): tf.Tensor {
  return constantTensor(`halfFilter:${filter.id}`, () => tf.engine().runKernel<tf.Tensor>(PACK_HALF_FILTER_KERNEL, { filter }, {}));
}

/**
 * Runs `layers` like {@link runNetwork} with half-precision activations and weights. Only where
 * {@link halfNetworkAvailable}. Every pool and upsample must be followed by a conv (true of every
 * encoder and decoder here); layers whose channels are not a multiple of 4 write float32.
 * @param x NHWC float32 batch; not disposed.
 * @returns a new float32 tensor (caller owns; dispose).
 */
export function runNetworkHalf(x: tf.Tensor4D, layers: readonly LayerSpec[], weights: tf.NamedTensorMap): tf.Tensor4D {
  return tf.tidy(() => {
    let y: tf.Tensor = x;
    let pending: 'none' | 'pool' | 'upsample' = 'none';
    let packed = false;
    const convs = layers.filter((l) => l.op === 'conv');
    const last = convs[convs.length - 1];
    for (const l of layers) {
      if (l.op !== 'conv') {
        if (pending !== 'none') throw new Error(`runNetworkHalf: two resampling layers in a row`);
        pending = l.op;
        continue;
      }
      // Packed output needs whole groups of 4 channels (cd16x's 3-channel conv0 stays float32).
      const outHalf = l !== last && l.outChannels % 4 === 0;
      const filter = weights[`${l.name}.filter`];
      const bias = weights[`${l.name}.bias`];
      if (!filter || !bias) throw new Error(`runNetworkHalf: missing weights of ${l.name}`);
      y = tf.engine().runKernel<tf.Tensor>(
        HALF_CONV_KERNEL,
        { x: y, w: packedFilter(filter), b: bias },
        {
          kernel: l.kernel,
          relu: l.relu,
          resample: pending,
          inHalf: packed,
          outHalf,
          inChannels: l.inChannels,
          outChannels: l.outChannels,
        },
      );
      packed = outHalf;
      pending = 'none';
    }
    if (pending !== 'none' || packed) throw new Error('runNetworkHalf: the layer list must end with a conv');
    return y as tf.Tensor4D;
  });
}
