/**
 * The Gatys losses, each a scalar tensor of a feature or image tensor.
 * ref: Gatys, Ecker, Bethge, CVPR 2016, eqs. 1–5; total variation as in Mahendran & Vedaldi,
 * "Understanding Deep Image Representations by Inverting Them", CVPR 2015 (beta = 2).
 *
 * Normalisation (documented deviation): the content loss is a mean over feature elements instead of
 * 1/2 of a sum, so one weight works at every image size; the style loss is exactly the paper's
 * E_l = 1/(4 N_l^2 M_l^2) sum (G - A)^2, written with Grams already divided by M_l.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Gram matrix divided by the number of positions M = H*W: `[C, C]`.
 * Written with an explicit transpose and its own gradient dF = F (dG + dG^T) / M: tfjs-wasm's
 * matMul with a transpose flag is ~8x slower than on a transposed copy, and the built-in
 * gradient of a matMul uses those flags.
 * @param f `[1, H, W, C]`; not disposed. @returns caller owns.
 */
export function gramMatrix(f: tf.Tensor4D): tf.Tensor2D {
  const [, h, w, c] = f.shape;
  const positions = h * w;
  const op = tf.customGrad(((x: tf.Tensor4D, save: tf.GradSaveFunc) => {
    const flat = tf.reshape(x, [positions, c]);
    save([flat]);
    return {
      value: tf.div(tf.matMul(tf.transpose(flat), flat), positions),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const sym = tf.add(dy, tf.transpose(dy));
        return tf.reshape(tf.div(tf.matMul(saved[0] as tf.Tensor2D, sym), positions), [1, h, w, c]);
      },
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return op(f) as tf.Tensor2D;
}

/** E_l = sum((G - A)^2) / (4 C^2), G and A position-normalised Grams. @returns scalar, caller owns. */
export function styleLayerLoss(gram: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const c = gram.shape[0];
    return tf.div(tf.sum(tf.squaredDifference(gram, target)), 4 * c * c);
  });
}

/** Mean squared feature difference. @returns scalar, caller owns. */
export function contentLoss(f: tf.Tensor4D, target: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(f, target)));
}

/** Mean over pixels of squared right and down neighbour differences (summed over channels). @returns scalar, caller owns. */
export function totalVariationLoss(x: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    const [, h, w, c] = x.shape;
    const dy = tf.sub(tf.slice(x, [0, 1, 0, 0], [1, h - 1, w, c]), tf.slice(x, [0, 0, 0, 0], [1, h - 1, w, c]));
    const dx = tf.sub(tf.slice(x, [0, 0, 1, 0], [1, h, w - 1, c]), tf.slice(x, [0, 0, 0, 0], [1, h, w - 1, c]));
    return tf.div(tf.add(tf.sum(tf.square(dy)), tf.sum(tf.square(dx))), h * w);
  });
}
