/**
 * Runs an encoder or decoder described by a layer list.
 * ref: ../shared/README.md — 3x3 convs with reflection padding 1 then ReLU, 2x2/2 max-pool (floor),
 * nearest-neighbour x2 upsampling; the 1x1 input conv has no padding and no ReLU.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerSpec } from '../weights/architectures.js';

const REFLECT_1: Array<[number, number]> = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0],
];

/**
 * @param x NHWC batch; not disposed.
 * @returns a new tensor (caller owns; dispose).
 */
export function runNetwork(x: tf.Tensor4D, layers: readonly LayerSpec[], weights: tf.NamedTensorMap): tf.Tensor4D {
  return tf.tidy(() => {
    let y = x;
    for (const l of layers) {
      if (l.op === 'pool') {
        y = tf.maxPool(y, 2, 2, 'valid');
      } else if (l.op === 'upsample') {
        const [, h, w] = y.shape;
        y = tf.image.resizeNearestNeighbor(y, [h * 2, w * 2], false, false);
      } else {
        const input = l.kernel === 3 ? tf.mirrorPad(y, REFLECT_1, 'reflect') : y;
        y = tf.fused.conv2d({
          x: input,
          filter: weights[`${l.name}.filter`] as tf.Tensor4D,
          bias: weights[`${l.name}.bias`],
          strides: 1,
          pad: 'valid',
          activation: l.relu ? 'relu' : 'linear',
        });
      }
    }
    return y;
  });
}

/** Number of 2x poolings in a layer list: the input must be divisible into 2^n blocks of >= 2 px. */
export function poolCount(layers: readonly LayerSpec[]): number {
  return layers.filter((l) => l.op === 'pool').length;
}

/** Arithmetic and minimum memory traffic of running `layers` on an `height` x `width` input. */
export interface NetworkCost {
  /** Multiply-accumulates of the convolutions (1 MAC = 2 FLOPs). */
  readonly macs: number;
  /**
   * Bytes every layer must at least read and write in float32: its input (reflection-padded for 3x3
   * convolutions), its output and its weights. Fused or cached kernels can move less; naive ones more.
   */
  readonly bytes: number;
}

/** A layer with the map it reads (h, w, c) and the map it makes (outH, outW, outC). */
interface LayerAt {
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly outH: number;
  readonly outW: number;
  readonly outC: number;
}

/** Walks a layer list from an input size: pools floor-halve the map, upsampling doubles it, convs change channels. */
function eachLayer(layers: readonly LayerSpec[], height: number, width: number, visit: (l: LayerSpec, at: LayerAt) => void): void {
  let h = height;
  let w = width;
  let c = layers.find((l) => l.op === 'conv')?.inChannels ?? 3;
  for (const l of layers) {
    const outH = l.op === 'pool' ? Math.floor(h / 2) : l.op === 'upsample' ? h * 2 : h;
    const outW = l.op === 'pool' ? Math.floor(w / 2) : l.op === 'upsample' ? w * 2 : w;
    const outC = l.op === 'conv' ? l.outChannels : c;
    visit(l, { h, w, c, outH, outW, outC });
    h = outH;
    w = outW;
    c = outC;
  }
}

/** Spatial padding a conv reads around its input (reflection, 1 px per side for 3x3). */
const convPad = (l: LayerSpec): number => (l.op === 'conv' && l.kernel === 3 ? 2 : 0);

// ref: the roofline model (Williams, Waterman, Patterson 2009): FLOPs and compulsory bytes per layer.
export function networkCost(layers: readonly LayerSpec[], height: number, width: number): NetworkCost {
  const FLOAT_BYTES = 4;
  let macs = 0;
  let values = 0;
  eachLayer(layers, height, width, (l, a) => {
    if (l.op !== 'conv') {
      values += a.h * a.w * a.c + a.outH * a.outW * a.outC;
      return;
    }
    const pad = convPad(l);
    macs += a.h * a.w * l.kernel * l.kernel * l.inChannels * l.outChannels;
    values +=
      (a.h + pad) * (a.w + pad) * l.inChannels +
      a.h * a.w * l.outChannels +
      l.kernel * l.kernel * l.inChannels * l.outChannels +
      l.outChannels;
  });
  return { macs, bytes: values * FLOAT_BYTES };
}

/** Multiply–accumulate count of a layer list at an input size, for benchmarks (FLOPs = 2 x MACs). */
export function convMacs(layers: readonly LayerSpec[], height: number, width: number): number {
  let macs = 0;
  eachLayer(layers, height, width, (l, a) => {
    if (l.op === 'conv') macs += a.h * a.w * l.kernel * l.kernel * l.inChannels * l.outChannels;
  });
  return macs;
}

/**
 * Bytes of the largest single tensor a layer list makes at an input size (float32): a padded
 * conv input, a conv output or a pool/upsample output. A GPU backend holds each in one buffer, and
 * devices cap a buffer's size (WebGPU's maxStorageBufferBindingSize).
 */
export function largestTensorBytes(layers: readonly LayerSpec[], height: number, width: number): number {
  let largest = 0;
  eachLayer(layers, height, width, (l, a) => {
    const pad = convPad(l);
    largest = Math.max(
      largest,
      a.h * a.w * a.c,
      (a.h + pad) * (a.w + pad) * (l.op === 'conv' ? l.inChannels : a.c),
      a.outH * a.outW * a.outC,
    );
  });
  return largest * 4;
}
