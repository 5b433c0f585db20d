import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeWasm } from '../../packages/core/src/backend/node-wasm.js';
import { Stylizer } from '../../packages/core/src/pipeline/stylizer.js';
import { readImageFile } from '../../packages/core/src/io/node-image.js';
import { toImageBatch } from '../../packages/core/src/pipeline/input.js';
import { featureMoments } from '../../packages/core/src/transforms/moments.js';
import { resolveOptions } from '../../packages/core/src/pipeline/options.js';
import { MomentAccumulator } from '../../packages/core/src/transforms/moments.js';
import { tileGrid, withHalo } from '../../packages/core/src/pipeline/tiles.js';
import { SHARED } from '../helpers.js';

let content: tf.Tensor3D;
let style: tf.Tensor3D;

beforeAll(async () => {
  await initNodeWasm();
  const c = toImageBatch(await readImageFile(path.join(SHARED, 'data', 'content', 'golden_gate.jpg'), 384));
  content = tf.tidy(() => tf.squeeze<tf.Tensor3D>(tf.slice(c, [0, 0, 0, 0], [1, 384, 512, 3]), [0]));
  style = tf.squeeze<tf.Tensor3D>(toImageBatch(await readImageFile(path.join(SHARED, 'data', 'style', 'starry_night.jpg'), 256)), [0]);
  c.dispose();
});
afterAll(() => tf.dispose([content, style]));

describe('tiles', () => {
  it('a tile grid covers the image once, on the pooling grid; halos clip at the edges', () => {
    const rects = tileGrid(96, 160, 64, 16);
    expect(rects).toHaveLength(2 * 3);
    const area = rects.reduce((a, r) => a + (r.y1 - r.y0) * (r.x1 - r.x0), 0);
    expect(area).toBe(96 * 160);
    for (const r of rects) for (const v of [r.y0, r.y1, r.x0, r.x1]) expect(v % 16).toBe(0);
    expect(withHalo({ y0: 0, y1: 64, x0: 64, x1: 128 }, 32, 96, 160)).toEqual({ y0: 0, y1: 96, x0: 32, x1: 160 });
    expect(() => tileGrid(90, 160, 64, 16)).toThrow('not a multiple of 16');
  });

  it('moments accumulated over parts equal the moments of the whole (float64)', async () => {
    const x = tf.add<tf.Tensor4D>(tf.mul(tf.randomNormal<tf.Rank.R4>([1, 30, 20, 8], 0, 1, 'float32', 5), 3), 50); // a large mean
    const whole = await featureMoments(x, 'float64');
    const acc = new MomentAccumulator();
    for (const [y0, rows] of [
      [0, 7],
      [7, 13],
      [20, 10],
    ] as const) {
      const part: tf.Tensor4D = tf.slice(x, [0, y0, 0, 0], [1, rows, 20, 8]);
      await acc.add(part);
      part.dispose();
    }
    const parts = acc.moments();
    expect(parts.count).toBe(600);
    for (let k = 0; k < 8; k++) expect(Math.abs(parts.mean[k]! - whole.mean[k]!)).toBeLessThan(1e-9);
    for (let k = 0; k < 64; k++) expect(Math.abs(parts.covariance[k]! - whole.covariance[k]!)).toBeLessThan(1e-9);
    x.dispose();
  });

  it.each(['wct', 'adain'] as const)(
    '%s: a tiled still matches the untiled one, without seams or leaks',
    async (method) => {
      const before = tf.memory().numTensors;
      const whole = await Stylizer.create({ backend: 'wasm', method });
      await whole.setStyles([{ image: style }]);
      const reference = await whole.stylize(content);
      whole.dispose();
      const tiled = await Stylizer.create({ backend: 'wasm', method, tileSizePx: 128 });
      await tiled.setStyles([{ image: style }]);
      const out = await tiled.stylize(content);
      tiled.dispose();
      expect(out.shape).toEqual(reference.shape);
      const diff = tf.tidy(() => tf.abs(tf.sub(out, reference)));
      const meanAbs = tf.tidy(() => tf.mean(diff).dataSync()[0]!);
      const maxAbs = tf.tidy(() => tf.max(diff).dataSync()[0]!);
      // Seams: the difference on the tile borders (rows/columns at multiples of 128) against elsewhere.
      const border = tf.tidy(
        () => tf.mean(tf.concat([tf.slice(diff, [126, 0, 0], [4, -1, -1]), tf.slice(diff, [254, 0, 0], [4, -1, -1])], 0)).dataSync()[0]!,
      );
      console.log(
        `${method} tiled (128 px tiles) vs whole, 384x512: mean abs ${meanAbs.toExponential(2)}, max abs ${maxAbs.toFixed(3)}, on tile borders ${border.toExponential(2)}`,
      );
      // Measured 7e-5 / 1.4e-4 mean, 2e-5 / 8e-5 on the borders (no seam): the halo covers the
      // receptive field well enough that tiles differ from the whole only in the last bits.
      expect(meanAbs).toBeLessThan(1e-3);
      expect(border).toBeLessThan(1e-3);
      tf.dispose([reference, out, diff]);
      expect(tf.memory().numTensors).toBe(before);
      expect(() => resolveOptions({ tileSizePx: 10 })).toThrow('tileSizePx must be 0 or an integer in [64, 8192] (got 10)');
    },
    120_000,
  );
});
