/**
 * The Gatys objective for one content image and a weighted set of style images at one scale:
 * total = contentWeight * L_content + styleWeight * sum_l w_l E_l + tvWeight * L_tv.
 * ref: Gatys, Ecker, Bethge, CVPR 2016, eq. 7 (total loss), eq. 5 (style loss over layers).
 *
 * Owns its targets (content features and style Grams); free them with `dispose()`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LossNetwork } from './loss-network.js';
import { contentLoss, gramMatrix, styleLayerLoss, totalVariationLoss } from './losses.js';

/** Weights of the content, style and total-variation terms of the objective. */
export interface LossWeights {
  readonly content: number;
  readonly style: number;
  readonly tv: number;
}

/** Loss values: the unweighted parts and the weighted total. */
export interface LossParts {
  readonly total: number;
  /** Mean squared feature difference at the content layer. */
  readonly content: number;
  /** sum_l w_l E_l over the style layers (layer weights sum to 1). */
  readonly style: number;
  readonly tv: number;
}

export interface ObjectiveLayers {
  readonly content: string;
  /** Style layer → weight (normalised to sum to 1 by the caller). */
  readonly style: ReadonlyMap<string, number>;
}

/** `[total, content, style, tv]` as read back from the stacked terms. */
function partsFrom(v: ArrayLike<number>): LossParts {
  return { total: v[0] as number, content: v[1] as number, style: v[2] as number, tv: v[3] as number };
}

/**
 * The blended Gram targets of a weighted set of style images at the scale given (no rescaling), and
 * the style term sum_l w_l E_l against them. Computed once: a metric scoring many frames against one
 * style (the temporal meter) encodes the style once. Owns its targets; free them with `dispose()`.
 */
export class StyleGrams {
  private readonly targets = new Map<string, tf.Tensor2D>();
  private disposed = false;

  /**
   * @param styles images `[1, h, w, 3]` with weights summing to 1; not disposed. Their Grams are blended linearly.
   * @param layers style layer → weight (summing to 1).
   */
  constructor(
    private readonly net: LossNetwork,
    styles: ReadonlyArray<{ image: tf.Tensor4D; weight: number }>,
    private readonly layers: ReadonlyMap<string, number>,
  ) {
    try {
      if (styles.length === 0) throw new Error('at least one style image is needed');
      const names = [...layers.keys()];
      for (const s of styles) {
        // One pass per style, freeing activations as it goes: a large style at the stylizer's scale
        // (the temporal meter's reference) overran the WASM heap when every layer was kept.
        const grams = net.gramsAt(s.image, names);
        try {
          for (const name of names) {
            const g = grams.get(name);
            if (!g) throw new Error(`no style layer ${name}`);
            const prev = this.targets.get(name);
            this.targets.set(
              name,
              tf.tidy(() => {
                const weighted = tf.mul<tf.Tensor2D>(g, s.weight);
                return prev ? tf.add<tf.Tensor2D>(prev, weighted) : weighted;
              }),
            );
            prev?.dispose();
          }
        } finally {
          tf.dispose([...grams.values()]);
        }
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /**
   * The style term from an image's features at (at least) these layers, as a scalar tensor. Call it
   * inside the caller's tidy (or gradient) scope: its intermediates are left to that scope.
   */
  term(features: ReadonlyMap<string, tf.Tensor4D>): tf.Scalar {
    this.assertLive();
    let s: tf.Scalar = tf.scalar(0);
    for (const [name, w] of this.layers) {
      const e = styleLayerLoss(gramMatrix(features.get(name) as tf.Tensor4D), this.targets.get(name) as tf.Tensor2D);
      s = tf.add<tf.Scalar>(s, tf.mul(e, w));
    }
    return s;
  }

  /** The style loss sum_l w_l E_l of an image `[1, H, W, 3]` at its own size (not disposed). */
  async value(x: tf.Tensor4D): Promise<number> {
    this.assertLive();
    const t = tf.tidy(() => this.term(this.net.features(x, [...this.layers.keys()])));
    const v = (await t.data())[0] as number;
    t.dispose();
    return v;
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('style Grams are disposed');
  }

  /** Frees the targets. Idempotent. */
  dispose(): void {
    this.disposed = true;
    for (const t of this.targets.values()) t.dispose();
    this.targets.clear();
  }
}

export class GatysObjective {
  private readonly contentTarget: tf.Tensor4D;
  private readonly style: StyleGrams;
  private readonly layerNames: string[];
  private disposed = false;

  /**
   * @param content `[1, H, W, 3]` in [0, 1]; not disposed.
   * @param styles images `[1, h, w, 3]` with weights summing to 1; not disposed. Their Grams are blended linearly.
   */
  constructor(
    private readonly net: LossNetwork,
    content: tf.Tensor4D,
    styles: ReadonlyArray<{ image: tf.Tensor4D; weight: number }>,
    private readonly layers: ObjectiveLayers,
    private readonly weights: LossWeights,
  ) {
    this.layerNames = [...new Set([layers.content, ...layers.style.keys()])];
    this.contentTarget = tf.tidy(() => {
      const f = net.features(content, [layers.content]).get(layers.content);
      if (!f) throw new Error(`no content layer ${layers.content}`);
      return f;
    });
    try {
      this.style = new StyleGrams(net, styles, layers.style);
    } catch (e) {
      this.contentTarget.dispose();
      throw e;
    }
  }

  /** Loss parts as scalar tensors `[total, content, style, tv]` (caller owns each). Differentiable in x. */
  private terms(x: tf.Tensor4D): [tf.Scalar, tf.Scalar, tf.Scalar, tf.Scalar] {
    const feats = this.net.features(x, this.layerNames);
    const c = contentLoss(feats.get(this.layers.content) as tf.Tensor4D, this.contentTarget);
    const s = this.style.term(feats);
    const tv = totalVariationLoss(x);
    const total = tf.addN<tf.Scalar>([
      tf.mul<tf.Scalar>(c, this.weights.content),
      tf.mul<tf.Scalar>(s, this.weights.style),
      tf.mul<tf.Scalar>(tv, this.weights.tv),
    ]);
    return [total, c, s, tv];
  }

  /**
   * Loss and its gradient with respect to the image.
   * @param x `[1, H, W, 3]`; not disposed.
   * @returns the parts (read back) and the gradient (caller owns; dispose).
   */
  async valueAndGrad(x: tf.Tensor4D): Promise<{ parts: LossParts; grad: tf.Tensor4D }> {
    this.assertLive();
    let partsTensor: tf.Tensor1D | null = null;
    // Only the gradient leaves the tidy scope; the parts are kept explicitly.
    const grad = tf.tidy(
      () =>
        tf.valueAndGrad((img: tf.Tensor4D) => {
          const t = this.terms(img);
          partsTensor = tf.keep(tf.stack(t) as tf.Tensor1D);
          return t[0];
        })(x).grad,
    );
    const p = partsTensor as tf.Tensor1D | null;
    if (!p) throw new Error('objective produced no loss');
    const v = await p.data();
    p.dispose();
    return { parts: partsFrom(v), grad };
  }

  /** Loss parts without a gradient (for metrics). @param x not disposed. */
  async value(x: tf.Tensor4D): Promise<LossParts> {
    this.assertLive();
    const t = tf.tidy(() => tf.stack(this.terms(x)));
    const v = await t.data();
    t.dispose();
    return partsFrom(v);
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('objective is disposed');
  }

  /** Frees the targets. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.contentTarget.dispose();
    this.style.dispose();
  }
}
