/**
 * Colour preservation by luminance-only transfer: keep the content's chrominance, take the
 * stylised image's luminance.
 * ref: Gatys, Bethge, Hertzmann, Shechtman, "Preserving Color in Neural Artistic Style Transfer",
 * arXiv:1606.05897 (2016), §2.2; YIQ matrices from the NTSC standard (FCC 1953).
 */
import * as tf from '@tensorflow/tfjs-core';

const RGB_TO_YIQ = [
  [0.299, 0.587, 0.114],
  [0.595716, -0.274453, -0.321263],
  [0.211456, -0.522591, 0.311135],
];
const YIQ_TO_RGB = [
  [1, 0.9563, 0.621],
  [1, -0.2721, -0.6474],
  [1, -1.107, 1.7046],
];

/** Applies a 3x3 colour matrix to an [..., 3] tensor. */
function colourMatrix(x: tf.Tensor, m: number[][]): tf.Tensor {
  return tf.tidy(() => {
    const shape = x.shape;
    const flat = tf.reshape(x, [-1, 3]);
    return tf.reshape(tf.matMul(flat, tf.tensor2d(m), false, true), shape);
  });
}

/**
 * @param stylised NHWC RGB; not disposed.
 * @param content NHWC RGB of at least the stylised size (top-left region is used); not disposed.
 * @returns new RGB tensor of the stylised size (caller owns; dispose).
 */
export function preserveContentColour(stylised: tf.Tensor4D, content: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = stylised.shape;
    const c = tf.slice(content, [0, 0, 0, 0], [1, h, w, 3]);
    const yS = tf.slice(colourMatrix(stylised, RGB_TO_YIQ), [0, 0, 0, 0], [1, h, w, 1]);
    const iqC = tf.slice(colourMatrix(c, RGB_TO_YIQ), [0, 0, 0, 1], [1, h, w, 2]);
    return colourMatrix(tf.concat([yS, iqC], 3), YIQ_TO_RGB) as tf.Tensor4D;
  });
}
