// @ts-check
// `npm run preset-quality`: how the presets were chosen. Candidate configurations at 512 px (short side)
// on two content/style pairs: median time of 3 runs after a warm-up (2-thread WASM), the Gram style
// loss and content loss of the optimiser's loss network (vgg19, relu1_1..relu3_1 / relu2_1; lower is
// closer) and the luminance SSIM to the content. The presets in src/pipeline/presets.ts are the
// fastest candidates that keep the style: see the README's "Presets".
// Usage: node scripts/preset-quality.js [--size 512]
// The Node entry, for its defaults: Node backends, models from @livestyle/models.
import '@livestyle/core';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Stylizer } from '@livestyle/core/internal/pipeline/stylizer.js';
import { StyleOptimizer } from '@livestyle/core/internal/optimize/style-optimizer.js';
import { readImageFile } from '@livestyle/core/internal/io/node-image.js';
import { initNodeWasm } from '@livestyle/core/internal/backend/node-wasm.js';
import { toImageBatch } from '@livestyle/core/internal/pipeline/input.js';
import { ssimLuminance } from '@livestyle/core/internal/metrics/ssim.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.LIVESTYLE_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const { values } = parseArgs({ options: { size: { type: 'string', default: '512' } } });
const size = Number(values.size);
const pairs = [
  ['golden_gate', 'starry_night'],
  ['chicago', 'the_scream'],
];
/** @typedef {Partial<import('@livestyle/core/internal/pipeline/options.js').StylizerOptions>} Options */
/** @type {Options} */
const ns = { wctWhitening: 'newton-schulz' };
/** @type {Array<[string, Options]>} */
const candidates = [
  ['best: WCT 5..1, eigen (default)', { preset: 'best' }],
  ['WCT 5..1, Newton-Schulz', { levels: [5, 4, 3, 2, 1], ...ns }],
  ['balanced: WCT 4..1, N-S', { preset: 'balanced' }],
  ['WCT 5,4,3, N-S', { levels: [5, 4, 3], ...ns }],
  ['realtime: WCT 4, N-S', { preset: 'realtime' }],
  ['WCT 3, N-S', { levels: [3], ...ns }],
  ['AdaIN 4', { method: 'adain', levels: [4] }],
  ['AdaIN 3', { method: 'adain', levels: [3] }],
  ['WCT 5..1, N-S, half resolution', { levels: [5, 4, 3, 2, 1], ...ns, processingMaxSidePx: size / 2 }],
  ['WCT 4, N-S, half resolution', { levels: [4], ...ns, processingMaxSidePx: size / 2 }],
  ['AdaIN 4, half resolution', { method: 'adain', levels: [4], processingMaxSidePx: size / 2 }],
];

await initNodeWasm();
const losses = await StyleOptimizer.create({ backend: 'wasm' });
/** @type {Map<string, Array<{ ms: number; style: number; content: number; ssim: number }>>} */
const results = new Map(candidates.map(([name]) => [name, []]));
/** @param {string} name */
const resultsOf = (name) => {
  const rs = results.get(name);
  if (!rs) throw new Error(`no results for ${name}`);
  return rs;
};
for (const [contentName, styleName] of pairs) {
  const batch = toImageBatch(await readImageFile(path.join(shared, 'data', 'content', `${contentName}.jpg`), size));
  const [, h, w] = batch.shape;
  const content = /** @type {tf.Tensor3D} */ (
    tf.tidy(() => tf.squeeze(tf.slice(batch, [0, 0, 0, 0], [1, Math.floor(h / 16) * 16, Math.floor(w / 16) * 16, 3]), [0]))
  );
  batch.dispose();
  const stylePixels = await readImageFile(path.join(shared, 'data', 'style', `${styleName}.jpg`), 512);
  const style = /** @type {tf.Tensor3D} */ (tf.tidy(() => tf.squeeze(toImageBatch(stylePixels), [0])));
  for (const [name, options] of candidates) {
    const s = await Stylizer.create({ backend: 'wasm', ...options });
    await s.setStyles([{ image: style }]);
    /** @type {number[]} */
    const times = [];
    /** @type {tf.Tensor3D | null} */
    let out = null;
    for (let i = 0; i < 4; i++) {
      out?.dispose();
      const t0 = performance.now();
      out = await s.stylize(content);
      await out.data();
      if (i > 0) times.push(performance.now() - t0);
    }
    if (!out) throw new Error(`${name}: no output`);
    const parts = await losses.losses(out, content, [{ image: style }]);
    resultsOf(name).push({
      // The middle of the 3 timed runs.
      ms: /** @type {number} */ (times.sort((a, b) => a - b)[1]),
      style: parts.style,
      content: parts.content,
      ssim: await ssimLuminance(out, content),
    });
    out.dispose();
    s.dispose();
  }
  tf.dispose([content, style]);
}
/** @param {number[]} xs */
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const baseline = candidates[0];
if (!baseline) throw new Error('no candidates');
const bestMs = mean(resultsOf(baseline[0]).map((r) => r.ms));
console.log(`${size} px, pairs: ${pairs.map((p) => p.join(' x ')).join(', ')}`);
console.log('configuration                       ms   speed-up   style loss (per pair)   content loss   SSIM');
for (const [name, rs] of results) {
  const ms = mean(rs.map((r) => r.ms));
  console.log(
    `${name.padEnd(34)} ${ms.toFixed(0).padStart(5)} ${(bestMs / ms).toFixed(2).padStart(8)}x   ${rs.map((r) => r.style.toExponential(2)).join(' ')}   ${rs.map((r) => r.content.toFixed(2)).join(' ')}   ${rs.map((r) => r.ssim.toFixed(2)).join(' ')}`,
  );
}
process.exit(0);
