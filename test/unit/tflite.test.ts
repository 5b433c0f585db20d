// The project's TensorFlow Lite reader (core's weights/tflite.ts) on the selfie segmentation model as
// @mediapipe/selfie_segmentation ships it, and on files that are not models: one line saying what is wrong.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readTflite, TfliteFormatError } from '../../packages/core/src/weights/tflite.js';
import { PersonSegmenter } from '../../packages/core/src/nets/segmenter.js';
import { SELFIE_SEGMENTATION } from '../../packages/core/src/weights/segmentation-model.js';

const modelBytes = (): Uint8Array =>
  new Uint8Array(readFileSync(createRequire(import.meta.url).resolve(`@mediapipe/selfie_segmentation/${SELFIE_SEGMENTATION.file}`)));

describe('readTflite', () => {
  it("reads the selfie segmentation graph: one 256x256x3 input, one 256x256x1 output, MediaPipe's custom transpose conv", () => {
    const bytes = modelBytes();
    expect(bytes.byteLength).toBe(SELFIE_SEGMENTATION.byteLength);
    const g = readTflite(bytes);
    expect(g.tensors[g.inputs[0]!]!.shape).toEqual([1, 256, 256, 3]);
    expect(g.tensors[g.outputs[0]!]!.shape).toEqual([1, 256, 256, 1]);
    const ops = new Set(g.operators.map((o) => o.op));
    expect([...ops].sort()).toEqual(
      [
        'ADD',
        'AVERAGE_POOL_2D',
        'CONV_2D',
        'Convolution2DTransposeBias',
        'DEPTHWISE_CONV_2D',
        'DEQUANTIZE',
        'HARD_SWISH',
        'LOGISTIC',
        'MUL',
        'RELU',
        'RESIZE_BILINEAR',
      ].sort(),
    );
    // Weights are stored as float16 and widened on read: the first conv's kernel is [16, 3, 3, 3], finite, not all zero.
    const kernel = g.tensors.find((t) => t.name === 'conv2d/Kernel')!;
    expect(kernel.type).toBe('float16');
    expect(kernel.shape).toEqual([16, 3, 3, 3]);
    const data = kernel.data as Float32Array;
    expect(data.every(Number.isFinite)).toBe(true);
    expect(data.some((v) => v !== 0)).toBe(true);
    // The custom op's options: SAME padding (TfLitePadding 1), stride 2 x 2.
    const up = g.operators.find((o) => o.op === 'Convolution2DTransposeBias')!;
    expect(Array.from(new Int32Array(up.customOptions!.slice().buffer))).toEqual([1, 2, 2]);
  });

  it('refuses what is not a TensorFlow Lite model, or is cut short, with one line', () => {
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['empty', new Uint8Array(0), /^tflite: not a TensorFlow Lite model \(no 'TFL3' identifier in the first 8 of 0 bytes\)$/],
      ['a PNG', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), /not a TensorFlow Lite model/],
      ['cut short', modelBytes().slice(0, 4096), /^tflite: an offset points outside the file \(\d+ \+ \d+ > 4096 bytes\)$/],
    ];
    for (const [what, bytes, message] of cases) {
      let error: unknown;
      try {
        readTflite(bytes);
      } catch (e) {
        error = e;
      }
      expect(error, what).toBeInstanceOf(TfliteFormatError);
      expect((error as Error).message, what).toMatch(message);
      expect((error as Error).message, what).not.toContain('\n');
    }
  });

  it('runs as a tf.js graph on the cpu backend and frees its weights on dispose (idempotent)', async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    const net = PersonSegmenter.fromTflite(modelBytes());
    expect(net.inputSizePx).toEqual([256, 256]);
    const image = tf.fill<tf.Rank.R4>([1, 40, 30, 3], 0.5);
    const mask = net.segment(image);
    expect(mask.shape).toEqual([40, 30]);
    const values = mask.dataSync();
    expect(values.every((v) => v >= 0 && v <= 1)).toBe(true);
    tf.dispose([image, mask]);
    net.dispose();
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => net.segment(image)).toThrow(/disposed/);
  });
});
