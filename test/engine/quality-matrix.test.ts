// The small quality matrix (issue 18): 6 content × style pairs no other test uses, at 128 px, with
// every preset. Each output must be finite, not blank, not the content, and its Gram style loss
// within a loose band of the Gatys optimiser's on the same pair (src/bench/quality-matrix.ts).
// `npm run quality -- --matrix` runs the same checks on every shared content × 6 styles at 256 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeWasm } from '../../packages/core/src/backend/node-wasm.js';
import { PRESETS, type Preset } from '../../packages/core/src/pipeline/presets.js';
import { readImageFile } from '../../packages/core/src/io/node-image.js';
import { Stylizer } from '../../packages/core/src/pipeline/stylizer.js';
import { StyleOptimizer } from '../../packages/core/src/optimize/style-optimizer.js';
import { toImageBatch } from '../../packages/core/src/pipeline/input.js';
import {
  CI_QUALITY_PAIRS,
  QUALITY_BAND,
  REFERENCE_ITERATIONS,
  measureOutput,
  qualityProblems,
  type OutputQuality,
} from '../../packages/cli/src/bench/quality-matrix.js';
import { SHARED } from '../helpers.js';

const SIZE_PX = 128;

const stylizers = new Map<Preset, Stylizer>();
/** Tensors alive after the first pair (the stylizers then hold one style each): later pairs must end there too. */
let settledTensors: number | null = null;
let optimiser: StyleOptimizer;

beforeAll(async () => {
  await initNodeWasm();
  for (const p of PRESETS) stylizers.set(p, await Stylizer.create({ backend: 'wasm', preset: p }));
  optimiser = await StyleOptimizer.create({ backend: 'wasm', iterations: REFERENCE_ITERATIONS });
});
afterAll(() => {
  for (const s of stylizers.values()) s.dispose();
  optimiser.dispose();
});

type Reference = Parameters<typeof measureOutput>[4];
/** The reference optimiser run per pair (the band test reuses the first pair's). */
const references = new Map<string, Reference>();
async function referenceFor(contentFile: string, content: tf.Tensor3D, style: tf.Tensor3D): Promise<Reference> {
  const known = references.get(contentFile);
  if (known) return known;
  const g = await optimiser.optimize(content, [{ image: style }]);
  const reference = {
    optimiser: await optimiser.losses(g.image, content, [{ image: style }]),
    contentStyleLoss: (await optimiser.losses(content, content, [{ image: style }])).style,
  };
  g.image.dispose();
  // The reference itself must have run every iteration and optimised: style loss well below the content's own.
  expect(g.stopReason).toBe('iterations');
  expect(reference.optimiser.style).toBeLessThan(0.5 * reference.contentStyleLoss);
  references.set(contentFile, reference);
  return reference;
}

async function image(kind: 'content' | 'style', file: string): Promise<tf.Tensor3D> {
  const px = await readImageFile(path.join(SHARED, 'data', kind, file), SIZE_PX);
  return tf.tidy(() => {
    const t = tf.squeeze<tf.Tensor3D>(toImageBatch(px, file), [0]);
    // The stylizer crops to its levels' stride (16 px); crop the content the same way so they pair up.
    const h = Math.floor(t.shape[0] / 16) * 16;
    const w = Math.floor(t.shape[1] / 16) * 16;
    return kind === 'content' ? tf.slice(t, [0, 0, 0], [h, w, 3]) : t;
  });
}

describe('quality matrix at 128 px (6 untuned pairs × every preset)', () => {
  it.each(CI_QUALITY_PAIRS)(
    '%s × %s: every preset within the band of the optimiser',
    async (contentFile, styleFile) => {
      const content = await image('content', contentFile);
      const style = await image('style', styleFile);
      const reference = await referenceFor(contentFile, content, style);
      const results: Array<[Preset, OutputQuality]> = [];
      for (const [preset, s] of stylizers) {
        await s.setStyles([{ image: style }]);
        const out = await s.stylize(content);
        expect(out.shape).toEqual(content.shape);
        results.push([preset, await measureOutput(optimiser, out, content, style, reference)]);
        out.dispose();
      }
      tf.dispose([content, style]);
      settledTensors ??= tf.memory().numTensors;
      expect(tf.memory().numTensors).toBe(settledTensors);
      for (const [preset, q] of results) {
        console.log(
          `${contentFile} x ${styleFile} ${preset}: style ${q.styleLossVsOptimiser.toFixed(2)}x optimiser, ${q.styleLossVsContent.toFixed(2)}x content, diff ${q.meanAbsDiffFromContent.toFixed(3)}, std ${q.stdDev.toFixed(3)}`,
        );
        expect({ preset, problems: qualityProblems(q) }).toEqual({ preset, problems: [] });
        expect(q.meanAbsDiffFromContent).toBeGreaterThan(QUALITY_BAND.minMeanAbsDiffFromContent);
      }
    },
    60_000,
  );

  it('the band catches the content itself, a blank image and non-finite values', async () => {
    const [contentFile, styleFile] = CI_QUALITY_PAIRS[0] as readonly [string, string];
    const content = await image('content', contentFile);
    const style = await image('style', styleFile);
    const reference = await referenceFor(contentFile, content, style);
    const grey = tf.fill<tf.Rank.R3>(content.shape, 0.5);
    const nan = tf.fill<tf.Rank.R3>(content.shape, NaN);
    const problems = async (t: tf.Tensor3D): Promise<string> =>
      qualityProblems(await measureOutput(optimiser, t, content, style, reference)).join('\n');
    const itself = await problems(content);
    const blank = await problems(grey);
    const broken = await problems(nan);
    tf.dispose([content, style, grey, nan]);
    expect(itself).toMatch(/the content \(mean abs diff 0\.0000/);
    expect(itself).toMatch(/x the content's own/);
    expect(blank).toMatch(/blank \(std 0\.0000/);
    expect(broken.split('\n')[0]).toBe('non-finite values');
  }, 60_000);
});
