// The temporal meter's style loss is calibrated (issue 30): measured against the style exactly as the
// stylizer used it, blurring a stylised frame must cost style, and the unstylised frame most of all.
// Against a style rescaled to the frame (the old meter) a 1 px blur scored as closer to the style.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeWasm } from '../../packages/core/src/backend/node-wasm.js';
import { Stylizer } from '../../packages/core/src/pipeline/stylizer.js';
import { toImageBatch } from '../../packages/core/src/pipeline/input.js';
import { InputError } from '../../packages/core/src/pipeline/input.js';
import { readImageFile } from '../../packages/core/src/io/node-image.js';
import { TemporalMeter } from '../../packages/core/src/metrics/temporal-meter.js';
import { gaussianBlur } from '../../packages/core/src/metrics/blur-equivalent.js';
import { DEFAULT_OPTIONS } from '../../packages/core/src/pipeline/options.js';
import { pairWarpingError } from '../../packages/core/src/metrics/warping-error.js';
import { estimateFlowBothWays } from '../../packages/core/src/temporal/flow.js';
import { SHARED } from '../helpers.js';

const STYLE_FILE = path.join(SHARED, 'data', 'style', 'starry_night.jpg'); // 1024x640: within the default styleMaxSizePx
let content: tf.Tensor4D; // the frame, cropped as the stylizer crops it
let stylised: tf.Tensor4D;

beforeAll(async () => {
  await initNodeWasm();
  // A 256 px frame (long side) as `npm run temporal` reads it: 256x109, stylised to 256x96.
  const frame = await readImageFile(path.join(SHARED, 'data', 'video', 'sintel_raft_demo', 'frame_0016.png'), { maxSidePx: 256 });
  const s = await Stylizer.create({ backend: 'wasm' });
  try {
    await s.setStyles([{ image: await readImageFile(STYLE_FILE) }]);
    const out = await s.stylize(frame);
    stylised = tf.expandDims<tf.Tensor4D>(out, 0);
    const [h, w] = out.shape;
    out.dispose();
    const full = toImageBatch(frame);
    content = tf.slice(full, [0, 0, 0, 0], [1, h, w, 3]);
    full.dispose();
  } finally {
    s.dispose();
  }
});
afterAll(() => tf.dispose([content, stylised]));

describe('TemporalMeter style loss', () => {
  it('rises with blur (σ 0, 0.5, 1 px) and is highest for the unstylised frame', async () => {
    const meter = await TemporalMeter.create({ style: await readImageFile(STYLE_FILE), backend: 'wasm' });
    try {
      const scores: number[] = [];
      for (const sigmaPx of [0, 0.5, 1]) {
        const blurred = gaussianBlur(stylised, sigmaPx);
        scores.push(await meter.styleLossOf(blurred));
        blurred.dispose();
      }
      scores.push(await meter.styleLossOf(content));
      const [sharp, half, one, unstylised] = scores as [number, number, number, number];
      const ratio = (v: number): string => `${v.toPrecision(3)} (${(v / sharp).toFixed(2)}x)`;
      console.log(
        `style loss: frame ${sharp.toPrecision(3)}, blur 0.5 px ${ratio(half)}, 1 px ${ratio(one)}, content ${ratio(unstylised)}`,
      );
      expect(half).toBeGreaterThan(sharp);
      expect(one).toBeGreaterThan(half);
      expect(unstylised).toBeGreaterThan(one);
    } finally {
      meter.dispose();
    }
  });

  it('scores against the style at the stylizer scale and reports it; refuses a style too small for the levels', async () => {
    const style = await readImageFile(STYLE_FILE);
    const meter = await TemporalMeter.create({ style, styleMaxSizePx: 512, backend: 'wasm' });
    try {
      await meter.add(content, stylised);
      expect(meter.result().styleReference).toEqual({ widthPx: 512, heightPx: 320, styleMaxSizePx: 512 });
    } finally {
      meter.dispose();
    }
    expect(DEFAULT_OPTIONS.styleMaxSizePx).toBeGreaterThanOrEqual(1024);
    // 1024x640 scaled to a long side of 32 is 32x20: level 5 needs 32x32.
    const small = TemporalMeter.create({ style, styleMaxSizePx: 32, backend: 'wasm' });
    await expect(small).rejects.toThrow(InputError);
    await expect(small).rejects.toThrow('style is 32x20 after scaling to styleMaxSizePx 32: level 5 needs at least 32x32 pixels');
  });

  it('measures against a 1200x1000 style at the default style size (it overran the WASM heap before)', async () => {
    // la_muse at its native 1200x1000: keeping every activation to relu3_1 needed over 2 GB.
    const meter = await TemporalMeter.create({
      style: await readImageFile(path.join(SHARED, 'data', 'style', 'la_muse.jpg')),
      backend: 'wasm',
    });
    try {
      const before = tf.memory().numTensors;
      const loss = await meter.styleLossOf(stylised);
      expect(Number.isFinite(loss) && loss > 0).toBe(true);
      expect(meter.result().styleReference ?? null).toEqual({
        widthPx: 1200,
        heightPx: 1000,
        styleMaxSizePx: DEFAULT_OPTIONS.styleMaxSizePx,
      });
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      meter.dispose();
    }
  });
});

describe('pairWarpingError with given flows', () => {
  it('scores the same with both flows given as with none and uses the given ones; refuses a backward flow alone or of another size', async () => {
    // The second frame: the content moved 2 px right (a known motion), its output likewise.
    const shifted = (t: tf.Tensor4D): tf.Tensor4D =>
      tf.tidy(() => tf.concat([tf.slice(t, [0, 0, 0, 0], [-1, -1, 2, -1]), tf.slice(t, [0, 0, 0, 0], [-1, -1, t.shape[2] - 2, -1])], 2));
    const [inB, outB] = [shifted(content), shifted(stylised)];
    const [fwd, bwd] = estimateFlowBothWays(content, inB);
    const small = tf.slice(bwd, [0, 0, 0, 0], [1, 8, 8, 2]);
    try {
      const estimated = await pairWarpingError(content, inB, stylised, outB);
      const before = tf.memory().numTensors;
      const given = await pairWarpingError(content, inB, stylised, outB, fwd, {}, bwd);
      expect(tf.memory().numTensors).toBe(before);
      expect(fwd.isDisposed || bwd.isDisposed).toBe(false);
      expect(given.error).toBeGreaterThan(0);
      expect(given.error).toBeCloseTo(estimated.error, 12);
      expect(given.maskedFraction).toBe(estimated.maskedFraction);
      await expect(pairWarpingError(content, inB, stylised, outB, undefined, {}, bwd)).rejects.toThrow(
        /backward flow needs its forward flow/,
      );
    } finally {
      tf.dispose([inB, outB, fwd, bwd, small]);
    }
  });
});
