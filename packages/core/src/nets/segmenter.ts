/**
 * MediaPipe's selfie segmentation model (the `.tflite` that ships in `@mediapipe/selfie_segmentation`,
 * Apache-2.0) run as a tf.js graph: one runtime and one GPU context with the stylizer, in browsers and
 * in Node. The graph is the file's own operator list, executed in order; each op maps to one tf.js op.
 * ref: mediapipe/modules/selfie_segmentation/selfie_segmentation_gpu.pbtxt (input 256x256 RGB in
 * [0, 1], stretched; output a person probability) and mediapipe/util/tflite/operations/
 * transpose_conv_bias.cc (the custom Convolution2DTransposeBias op).
 */
import * as tf from '@tensorflow/tfjs-core';
import { readTflite, TfliteFormatError, type TfliteGraph, type TfliteOperator } from '../weights/tflite.js';

const CUSTOM_TRANSPOSE_CONV = 'Convolution2DTransposeBias';
const RUNNABLE = new Set([
  'ADD',
  'AVERAGE_POOL_2D',
  'CONV_2D',
  'DEPTHWISE_CONV_2D',
  'DEQUANTIZE',
  'HARD_SWISH',
  'LOGISTIC',
  'MUL',
  'RELU',
  'RELU6',
  'RESIZE_BILINEAR',
  CUSTOM_TRANSPOSE_CONV,
]);

/** tflite Padding enum: SAME 0, VALID 1 (builtin options); TfLitePadding: SAME 1, VALID 2 (custom options). */
const builtinPad = (code: number | undefined): 'same' | 'valid' => (code === 1 ? 'valid' : 'same');

function fused(x: tf.Tensor4D, activation: number | undefined): tf.Tensor4D {
  if (!activation) return x;
  if (activation === 1) return tf.relu(x);
  if (activation === 3) return tf.relu6(x);
  throw new TfliteFormatError(`segmentation model: fused activation ${activation} is not supported`);
}

/** A person-segmentation network. `segment` returns the person probability at the image's size. */
export class PersonSegmenter {
  private readonly constants = new Map<number, tf.Tensor>();
  /** Each convolution's filter in tf.js's layout, and each resize's size, prepared once. */
  private readonly filters = new Map<TfliteOperator, tf.Tensor4D>();
  private readonly resizeTo = new Map<TfliteOperator, [number, number]>();
  private disposed = false;
  /** The network's input size (height, width) in pixels. */
  readonly inputSizePx: readonly [number, number];

  private constructor(private readonly graph: TfliteGraph) {
    const input = graph.tensors[graph.inputs[0] ?? -1];
    const [, h, w, c] = input?.shape ?? [];
    if (graph.inputs.length !== 1 || graph.outputs.length !== 1 || !h || !w || h > 1024 || w > 1024 || c !== 3)
      throw new TfliteFormatError('segmentation model: expected one [1, H, W, 3] input (H, W at most 1024) and one output');
    this.inputSizePx = [h, w];
    for (const op of graph.operators) {
      if (!RUNNABLE.has(op.op)) throw new TfliteFormatError(`segmentation model: operator ${op.op} is not supported`);
    }
    try {
      graph.tensors.forEach((t, i) => {
        if (t.data)
          this.constants.set(
            i,
            tf.tensor(t.data, t.shape.length ? [...t.shape] : [t.data.length], t.type === 'int32' ? 'int32' : 'float32'),
          );
      });
      this.prepareOperators();
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Filters in tf.js's layouts and resize sizes, read once from the constants (through DEQUANTIZE). */
  private prepareOperators(): void {
    const dequantized = new Map<number, number>();
    for (const op of this.graph.operators) if (op.op === 'DEQUANTIZE') dequantized.set(op.outputs[0] as number, op.inputs[0] as number);
    const constant = (op: TfliteOperator, k: number): tf.Tensor => {
      const i = op.inputs[k] ?? -1;
      const t = this.constants.get(i) ?? this.constants.get(dequantized.get(i) ?? -1);
      if (!t) throw new TfliteFormatError(`segmentation model: ${op.op}'s input ${k} is not a constant`);
      return t;
    };
    for (const op of this.graph.operators) {
      if (op.op === 'CONV_2D') {
        // tflite filters are [out, kh, kw, in]; tf.js takes [kh, kw, in, out].
        this.filters.set(op, tf.transpose<tf.Tensor4D>(constant(op, 1) as tf.Tensor4D, [1, 2, 3, 0]));
      } else if (op.op === 'DEPTHWISE_CONV_2D') {
        // [1, kh, kw, in * multiplier] -> [kh, kw, in, multiplier].
        const weights = constant(op, 1);
        const [, kh = 0, kw = 0, c = 0] = weights.shape;
        const multiplier = op.options.depthMultiplier || 1;
        this.filters.set(op, tf.reshape<tf.Rank.R4>(weights, [kh, kw, c / multiplier, multiplier]));
      } else if (op.op === CUSTOM_TRANSPOSE_CONV) {
        // [out, kh, kw, in] -> tf.js conv2dTranspose's [kh, kw, out, in].
        this.filters.set(op, tf.transpose<tf.Tensor4D>(constant(op, 1) as tf.Tensor4D, [1, 2, 0, 3]));
      } else if (op.op === 'RESIZE_BILINEAR') {
        const size = this.graph.tensors[op.inputs[1] ?? -1]?.data;
        if (!size || size.length !== 2) throw new TfliteFormatError('segmentation model: RESIZE_BILINEAR without a constant size');
        this.resizeTo.set(op, [size[0] as number, size[1] as number]);
      }
    }
  }

  /** Reads a `.tflite` file; throws TfliteFormatError (one line) when it is not a model this runs. */
  static fromTflite(bytes: Uint8Array): PersonSegmenter {
    return new PersonSegmenter(readTflite(bytes));
  }

  /**
   * @param image `[1, H, W, 3]` float32 in [0, 1] (not disposed).
   * @returns `[H, W]` person probability in [0, 1] (caller owns).
   */
  segment(image: tf.Tensor4D): tf.Tensor2D {
    if (this.disposed) throw new Error('PersonSegmenter: disposed');
    const [, h, w] = image.shape;
    return tf.tidy(() => {
      const input = tf.image.resizeBilinear(image, [...this.inputSizePx], false, true);
      const out = this.run(input);
      const mask = tf.image.resizeBilinear(out as tf.Tensor4D, [h, w], false, true);
      return tf.reshape(tf.clipByValue(mask, 0, 1), [h, w]);
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of [...this.constants.values(), ...this.filters.values()]) t.dispose();
    this.constants.clear();
    this.filters.clear();
  }

  /** Runs the operator list in file order (it is topologically sorted); call inside tf.tidy. */
  private run(input: tf.Tensor4D): tf.Tensor {
    const values = new Map<number, tf.Tensor>(this.constants);
    values.set(this.graph.inputs[0] as number, input);
    for (const op of this.graph.operators) {
      const at = (k: number): tf.Tensor => {
        const v = values.get(op.inputs[k] ?? -1);
        if (!v) throw new TfliteFormatError(`segmentation model: ${op.op} reads a tensor no earlier op wrote`);
        return v;
      };
      values.set(op.outputs[0] as number, this.apply(op, at));
    }
    return values.get(this.graph.outputs[0] as number) as tf.Tensor;
  }

  private apply(op: TfliteOperator, at: (k: number) => tf.Tensor): tf.Tensor {
    const o = op.options;
    const x = (): tf.Tensor4D => at(0) as tf.Tensor4D;
    switch (op.op) {
      case 'DEQUANTIZE':
        return at(0);
      case 'CONV_2D': {
        const filter = this.filters.get(op) as tf.Tensor4D;
        const y = tf.conv2d(x(), filter, [o.strideH ?? 1, o.strideW ?? 1], builtinPad(o.padding), 'NHWC', [
          o.dilationH ?? 1,
          o.dilationW ?? 1,
        ]);
        return fused(tf.add(y, at(2)), o.activation);
      }
      case 'DEPTHWISE_CONV_2D': {
        const filter = this.filters.get(op) as tf.Tensor4D;
        const y = tf.depthwiseConv2d(x(), filter, [o.strideH ?? 1, o.strideW ?? 1], builtinPad(o.padding), 'NHWC', [
          o.dilationH ?? 1,
          o.dilationW ?? 1,
        ]);
        return fused(tf.add(y, at(2)), o.activation);
      }
      case 'AVERAGE_POOL_2D':
        return fused(
          tf.avgPool(x(), [o.filterH ?? 1, o.filterW ?? 1], [o.strideH ?? 1, o.strideW ?? 1], builtinPad(o.padding)),
          o.activation,
        );
      case 'ADD':
        return fused(tf.add<tf.Tensor4D>(at(0), at(1)), o.activation);
      case 'MUL':
        return fused(tf.mul<tf.Tensor4D>(at(0), at(1)), o.activation);
      case 'RELU':
        return tf.relu(at(0));
      case 'RELU6':
        return tf.relu6(at(0));
      case 'LOGISTIC':
        return tf.sigmoid(at(0));
      case 'HARD_SWISH':
        // x * relu6(x + 3) / 6
        return tf.mul(at(0), tf.div(tf.relu6(tf.add(at(0), 3)), 6));
      case 'RESIZE_BILINEAR':
        return tf.image.resizeBilinear(x(), this.resizeTo.get(op) as [number, number], o.alignCorners === 1, o.halfPixelCenters === 1);
      default:
        return this.transposeConv(op, x(), this.filters.get(op) as tf.Tensor4D, at(2));
    }
  }

  /**
   * MediaPipe's Convolution2DTransposeBias (`filter` already in tf.js's [kh, kw, out, in]): options
   * are TfLiteTransposeConvParams {padding (TfLitePadding: SAME 1, VALID 2), strideW, strideH}.
   */
  private transposeConv(op: TfliteOperator, x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor): tf.Tensor {
    const raw = op.customOptions;
    if (!raw || raw.byteLength < 12) throw new TfliteFormatError(`segmentation model: ${op.op} has no options`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const [padding, strideW, strideH] = [view.getInt32(0, true), view.getInt32(4, true), view.getInt32(8, true)];
    const [kh, kw, outC] = filter.shape;
    const [n, h, w] = x.shape;
    const pad = padding === 2 ? 'valid' : 'same';
    const outH = pad === 'same' ? h * strideH : (h - 1) * strideH + kh;
    const outW = pad === 'same' ? w * strideW : (w - 1) * strideW + kw;
    return tf.add(tf.conv2dTranspose(x, filter, [n, outH, outW, outC], [strideH, strideW], pad), bias);
  }
}
