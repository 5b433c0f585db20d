/**
 * The loss network of the Gatys optimiser: a VGG-19 encoder run with plain (differentiable) ops,
 * returning the ReLU activations it is tapped at.
 *
 * ref: Gatys, Ecker, Bethge, "Image Style Transfer Using Convolutional Neural Networks", CVPR 2016,
 * §2 (a normalised VGG-19 as the loss network; style from relu1_1..relu5_1, content from a deep layer).
 * Only the full-size VGG-19 up to relu3_1 is available here (`vgg19`); the distilled `cd16x`
 * level-5 encoder reaches relu5_1 in a pruned channel space and can be used as a deeper network.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerSpec, ModelId } from '../weights/architectures.js';
import type { LoadedModel } from '../weights/model-loader.js';

/** The network the optimiser measures losses on (a {@link ModelId}). */
export type LossNetworkId = ModelId;

/** Where each named ReLU output sits in a family's deepest encoder (the conv whose ReLU it is). */
const TAPS: Readonly<Record<LossNetworkId, { level: number; layers: Readonly<Record<string, string>> }>> = {
  vgg19: { level: 3, layers: { relu1_1: 'conv2', relu2_1: 'conv4', relu3_1: 'conv6' } },
  cd16x: {
    level: 5,
    layers: { relu1_1: 'conv11', relu2_1: 'conv21', relu3_1: 'conv31', relu4_1: 'conv41', relu5_1: 'conv51' },
  },
};

/** The layers a loss network can be tapped at, shallow to deep. */
export function lossNetworkLayers(id: LossNetworkId): string[] {
  return Object.keys(TAPS[id].layers);
}

/** Default layers per network: style at every reluN_1 (equal weights, as in Gatys 2016), content at the deepest available. */
export const LOSS_LAYERS: Readonly<Record<LossNetworkId, { style: readonly string[]; content: string }>> = {
  vgg19: { style: ['relu1_1', 'relu2_1', 'relu3_1'], content: 'relu3_1' },
  cd16x: { style: ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'], content: 'relu4_1' },
};

const REFLECT_1: Array<[number, number]> = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0],
];

/**
 * A stride-1 'valid' conv whose input gradient is itself a forward conv: the full correlation of dy
 * with the filter rotated by 180 degrees and its in/out channels swapped (the transposed
 * convolution; ref: Dumoulin & Visin, "A guide to convolution arithmetic for deep learning", 2016,
 * §4.1). tfjs-wasm's Conv2DBackpropInput is a naive loop ~25x slower than its XNNPACK Conv2D; this
 * keeps the backward pass on the fast kernel. No filter gradient: the weights are constants here.
 */
function convValidInputGrad(x: tf.Tensor4D, filter: tf.Tensor4D, rotatedFilter: tf.Tensor4D): tf.Tensor4D {
  const k = filter.shape[0] - 1;
  const op = tf.customGrad(((input: tf.Tensor4D) => ({
    value: tf.conv2d(input, filter, 1, 'valid'),
    gradFunc: (dy: tf.Tensor4D) =>
      tf.conv2d(
        k > 0
          ? tf.pad(dy, [
              [0, 0],
              [k, k],
              [k, k],
              [0, 0],
            ])
          : dy,
        rotatedFilter,
        1,
        'valid',
      ),
  })) as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor4D;
}

/**
 * Reflection padding by 1 px with the exact gradient. tfjs-core's MirrorPad gradient only slices
 * the interior of dy and drops the reflected border terms, which made gradients ~20-50% wrong here.
 * The reflected row/column 0 copies row/column 1 and the last padded one copies n-2, so their
 * gradients fold back onto those.
 */
export function reflectPad1(x: tf.Tensor4D): tf.Tensor4D {
  const op = tf.customGrad(((input: tf.Tensor4D) => ({
    value: tf.mirrorPad(input, REFLECT_1, 'reflect'),
    gradFunc: (dy: tf.Tensor4D) => foldBorder(foldBorder(dy, 2), 1),
  })) as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor4D;
}

/** Adds the two border slices of `axis` (1 = rows, 2 = columns) onto their mirror sources and drops them. */
function foldBorder(dy: tf.Tensor4D, axis: 1 | 2): tf.Tensor4D {
  const n = dy.shape[axis] - 2;
  const size = [...dy.shape] as [number, number, number, number];
  const at = (start: number, length: number): tf.Tensor4D => {
    const begin = [0, 0, 0, 0];
    begin[axis] = start;
    const s = [...size];
    s[axis] = length;
    return tf.slice(dy, begin, s);
  };
  const padAlong = (t: tf.Tensor4D, before: number, after: number): tf.Tensor4D => {
    const p: Array<[number, number]> = [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ];
    p[axis] = [before, after];
    return tf.pad(t, p);
  };
  // padded 0 = x[1]; padded n + 1 = x[n - 2]
  return tf.addN([at(1, n), padAlong(at(0, 1), 1, n - 2), padAlong(at(n + 1, 1), n - 2, 1)]);
}

/**
 * 2x2 stride-2 max-pool (floor) with its gradient routed to the window maxima. tfjs-wasm's
 * MaxPoolGrad is wrong on windows whose maximum is negative and on odd sizes (checked against the
 * cpu backend); here the inputs follow a ReLU, where ties are zeros whose ReLU gradient is 0 anyway.
 */
export function maxPool2(x: tf.Tensor4D): tf.Tensor4D {
  const op = tf.customGrad(((input: tf.Tensor4D, save: tf.GradSaveFunc) => {
    const y = tf.maxPool(input, 2, 2, 'valid');
    save([input, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xIn, yOut] = saved as [tf.Tensor4D, tf.Tensor4D];
        const [, h, w, c] = xIn.shape;
        const [, ho, wo] = yOut.shape;
        const cropped = tf.slice(xIn, [0, 0, 0, 0], [1, 2 * ho, 2 * wo, c]);
        const isMax = tf.cast(tf.equal(cropped, tf.image.resizeNearestNeighbor(yOut, [2 * ho, 2 * wo])), 'float32');
        const routed = tf.mul(tf.image.resizeNearestNeighbor(dy, [2 * ho, 2 * wo]), isMax);
        return tf.pad(routed, [
          [0, 0],
          [0, h - 2 * ho],
          [0, w - 2 * wo],
          [0, 0],
        ]);
      },
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor4D;
}

export class LossNetwork {
  private constructor(
    readonly id: LossNetworkId,
    private readonly layers: readonly LayerSpec[],
    private readonly weights: tf.NamedTensorMap,
    /** Per conv: the filter rotated 180 degrees with in/out swapped, for the input gradient. Owned here. */
    private readonly rotated: Map<string, tf.Tensor4D>,
    /** 2^pools: image sides must be at least this (and are cropped to multiples of it by no one: pooling floors). */
    readonly minSidePx: number,
  ) {}

  /** Loads the encoder from a model (weights stay owned by the model). */
  static async load(model: LoadedModel, signal?: AbortSignal): Promise<LossNetwork> {
    const tap = TAPS[model.id];
    const nets = await model.level(tap.level, signal);
    const pools = nets.encoderLayers.filter((l) => l.op === 'pool').length;
    const rotated = new Map<string, tf.Tensor4D>();
    for (const l of nets.encoderLayers) {
      if (l.op !== 'conv') continue;
      const f = nets.encoderWeights[`${l.name}.filter`] as tf.Tensor4D;
      rotated.set(
        l.name,
        tf.tidy(() => tf.transpose(tf.reverse(f, [0, 1]), [0, 1, 3, 2])),
      );
    }
    return new LossNetwork(model.id, nets.encoderLayers, nets.encoderWeights, rotated, 2 ** pools);
  }

  /** The layer names this network can be tapped at. */
  get layerNames(): string[] {
    return lossNetworkLayers(this.id);
  }

  /**
   * Runs the encoder up to the deepest requested layer with differentiable ops (plain conv2d + bias +
   * ReLU: the fused op's gradient also computes filter gradients, which the WASM backend lacks).
   * @param x `[1, H, W, 3]` RGB in [0, 1]; not disposed.
   * @returns one tensor per requested layer (caller owns; dispose). Call inside `tf.tidy` or a gradient.
   */
  features(x: tf.Tensor4D, names: readonly string[]): Map<string, tf.Tensor4D> {
    const wanted = this.convsFor(names);
    const out = new Map<string, tf.Tensor4D>();
    let y = x;
    for (const l of this.layers) {
      if (out.size === wanted.size) break;
      if (l.op === 'pool') y = maxPool2(y);
      else if (l.op === 'conv') {
        y = this.convLayer(l, y);
        const name = wanted.get(l.name);
        if (name) out.set(name, y);
      }
    }
    return out;
  }

  /**
   * The Gram matrices (as losses.ts `gramMatrix`, to the bit: F^T F / positions) of `x` at the named layers, in one pass that frees each
   * activation as soon as the next is made. Not differentiable. For large style images: {@link features}
   * inside one `tf.tidy` keeps every activation to the deepest layer (a 1200x1000 style needed over
   * 2 GB to relu3_1 and overran the WASM heap).
   * @param x `[1, H, W, 3]` RGB in [0, 1]; not disposed.
   * @returns layer name → `[C, C]` Gram. Caller owns; dispose.
   */
  gramsAt(x: tf.Tensor4D, names: readonly string[]): Map<string, tf.Tensor2D> {
    const wanted = this.convsFor(names);
    const out = new Map<string, tf.Tensor2D>();
    let y: tf.Tensor4D = x;
    try {
      for (const l of this.layers) {
        if (out.size === wanted.size) break;
        if (l.op !== 'pool' && l.op !== 'conv') continue;
        const next = tf.tidy(() => (l.op === 'conv' ? this.convLayer(l, y) : maxPool2(y)));
        if (y !== x) y.dispose();
        y = next;
        const name = l.op === 'conv' ? wanted.get(l.name) : undefined;
        if (name) out.set(name, gram(y));
      }
    } catch (e) {
      tf.dispose([...out.values()]);
      throw e;
    } finally {
      if (y !== x) y.dispose();
    }
    return out;
  }

  /** Conv layer name → requested layer name, refusing a name this network cannot be tapped at. */
  private convsFor(names: readonly string[]): Map<string, string> {
    const taps = TAPS[this.id].layers;
    const wanted = new Map<string, string>();
    for (const n of names) {
      const conv = taps[n];
      if (!conv) throw new Error(`loss network ${this.id} has no layer ${n} (has ${this.layerNames.join(', ')})`);
      wanted.set(conv, n);
    }
    return wanted;
  }

  private convLayer(l: Extract<LayerSpec, { op: 'conv' }>, y: tf.Tensor4D): tf.Tensor4D {
    const input = l.kernel === 3 ? reflectPad1(y) : y;
    const z = tf.add<tf.Tensor4D>(
      convValidInputGrad(input, this.weights[`${l.name}.filter`] as tf.Tensor4D, this.rotated.get(l.name) as tf.Tensor4D),
      this.weights[`${l.name}.bias`] as tf.Tensor1D,
    );
    return l.relu ? tf.relu(z) : z;
  }

  /** Frees the rotated filters (the weights belong to the model). Idempotent. */
  dispose(): void {
    tf.dispose([...this.rotated.values()]);
    this.rotated.clear();
  }
}

/**
 * F^T F / positions of `[1, H, W, C]` features, without gradient. The same ops in the same order as
 * losses.ts `gramMatrix` (an explicit transpose, not matMul's transposeA), so a style measured against
 * itself scores exactly 0. Caller owns.
 */
function gram(f: tf.Tensor4D): tf.Tensor2D {
  const [, h, w, c] = f.shape;
  return tf.tidy(() => {
    const flat = tf.reshape<tf.Rank.R2>(f, [h * w, c]);
    return tf.div<tf.Tensor2D>(tf.matMul(tf.transpose(flat), flat), h * w);
  });
}
