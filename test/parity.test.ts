// Layer-by-layer parity with the PyTorch reference fixtures (../shared/fixtures, 96x128 crops).
// Tolerances are relative to each reference tensor's value range:
//   encoders / decoders  3e-5  (float32 through up to 17 convs; accumulation order differs from PyTorch)
//   AdaIN                1e-4  (float32 statistics; the reference uses float32 too)
//   WCT                  1e-4  (statistics in float64 as in the reference)
//   5-level cascade      5e-4  (errors compound through five decoder/encoder pairs)
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import {
  initNodeWasm,
  fileModelSource,
  LoadedModel,
  runNetwork,
  wct,
  wctStyleStats,
  adain,
  adainStyleStats,
  Stylizer,
} from '../src/node.js';
import { fixtureBatch, maxAbsError } from './helpers.js';

const models = new Map<string, LoadedModel>();
let content: tf.Tensor4D;
let style: tf.Tensor4D;

beforeAll(async () => {
  await initNodeWasm();
  for (const id of ['cd16x', 'vgg19'] as const) models.set(id, await LoadedModel.open(fileModelSource(id), id));
  content = fixtureBatch('content_96x128');
  style = fixtureBatch('style_96x128');
});
afterAll(() => {
  for (const m of models.values()) m.dispose();
  tf.dispose([content, style]);
});

function expectClose(actual: tf.Tensor, fixture: string, relTol: number): void {
  const ref = fixtureBatch(fixture);
  expect(actual.shape).toEqual(ref.shape);
  const { maxAbs, range } = maxAbsError(actual, ref);
  ref.dispose();
  expect(maxAbs / range, `${fixture}: max abs error ${maxAbs} over range ${range}`).toBeLessThan(relTol);
}

describe.each([
  ['cd16x', [1, 2, 3, 4, 5]],
  ['vgg19', [1, 2, 3]],
] as const)('%s encoders and decoders', (id, levels) => {
  it.each(levels)('level %i matches enc/dec fixtures', async (level) => {
    const nets = await models.get(id)!.level(level);
    const features = runNetwork(content, nets.encoderLayers, nets.encoderWeights);
    expectClose(features, `${id}_enc${level}`, 3e-5);
    const decoded = runNetwork(features, nets.decoderLayers, nets.decoderWeights);
    expectClose(decoded, `${id}_dec${level}`, 3e-5);
    tf.dispose([features, decoded]);
  });
});

describe('cd16x transforms', () => {
  it.each([1, 2, 3, 4, 5])('level %i: WCT and AdaIN match their fixtures', async (level) => {
    const nets = await models.get('cd16x')!.level(level);
    const fc = runNetwork(content, nets.encoderLayers, nets.encoderWeights);
    const fs = runNetwork(style, nets.encoderLayers, nets.encoderWeights);
    const w = await wct(fc, await wctStyleStats(fs), 1);
    expectClose(w, `cd16x_wct${level}`, 1e-4);
    const a = adain(fc, await adainStyleStats(fs), 1);
    expectClose(a, `cd16x_adain${level}`, 1e-4);
    tf.dispose([fc, fs, w, a]);
  });
});

describe('cd16x five-level WCT cascade', () => {
  it.each([1, 0.6])('alpha %s matches cd16x_cascade_wct_alpha*', async (alpha) => {
    const stylizer = await Stylizer.create({ model: 'cd16x', method: 'wct', alpha, backend: 'wasm' });
    const contentImage = tf.squeeze<tf.Tensor3D>(content, [0]);
    const styleImage = tf.squeeze<tf.Tensor3D>(style, [0]);
    await stylizer.setStyles([{ image: styleImage }]);
    // The fixture is unclamped; compare before the stylizer's final clamp by clamping both.
    const out = await stylizer.stylize(contentImage);
    const ref = fixtureBatch(`cd16x_cascade_wct_alpha${alpha}`);
    const refClamped = tf.squeeze(tf.clipByValue(ref, 0, 1), [0]);
    const { maxAbs, range } = maxAbsError(out, refClamped);
    expect(maxAbs / range, `max abs ${maxAbs}`).toBeLessThan(5e-4);
    tf.dispose([out, ref, refClamped, contentImage, styleImage]);
    stylizer.dispose();
  });
});
