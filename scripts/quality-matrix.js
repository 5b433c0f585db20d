// @ts-check
// `npm run quality -- --matrix`: every shared content photo × 6 styles of different character at
// 256 px (short side), each preset, checked against the quality band of src/bench/quality-matrix.ts
// (finite, not blank, not the content, style loss within a loose band of the Gatys optimiser's on
// the same pair and below the content's own). Writes bench-out/quality-matrix/matrix.json, a
// picture grid (grid.jpg, copied to docs/quality-matrix.jpg; the `best` preset, content photos
// down the side, styles along the top) and prints a Markdown summary per preset.
// Usage: node scripts/quality-matrix.js [--size 256] [--iters 10] [--contents a.jpg,b.jpg] [--styles x.jpg,y.png]
// The Node entry, for its defaults: Node backends, models from @livestyle/models.
import '@livestyle/core';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { Stylizer } from '@livestyle/core/internal/pipeline/stylizer.js';
import { StyleOptimizer } from '@livestyle/core/internal/optimize/style-optimizer.js';
import { PRESETS } from '@livestyle/core/internal/pipeline/presets.js';
import { readImageFile } from '@livestyle/core/internal/io/node-image.js';
import { toImageBatch, toRgbBytes } from '@livestyle/core/internal/pipeline/input.js';
import {
  MATRIX_STYLES,
  QUALITY_BAND,
  REFERENCE_ITERATIONS,
  measureOutput,
  qualityProblems,
} from '@livestyle/cli/internal/bench/quality-matrix.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.LIVESTYLE_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const contentDir = path.join(shared, 'data', 'content');
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '256' },
    iters: { type: 'string', default: String(REFERENCE_ITERATIONS) },
    contents: {
      type: 'string',
      default: readdirSync(contentDir)
        .filter((f) => /\.(jpe?g|png)$/i.test(f))
        .sort()
        .join(','),
    },
    styles: { type: 'string', default: MATRIX_STYLES.join(',') },
    tile: { type: 'string', default: '112' },
  },
  allowPositionals: false,
});
const size = Number(values.size);
const tilePx = Number(values.tile);
const contents = values.contents.split(',');
const styles = values.styles.split(',');
const out = path.join(root, 'bench-out', 'quality-matrix');
mkdirSync(out, { recursive: true });
const log = (/** @type {string} */ m) => process.stderr.write(`${m}\n`);

/** @typedef {import('@livestyle/core/internal/pipeline/presets.js').Preset} Preset */
/** @type {Partial<Record<Preset, Stylizer>>} */
const stylizers = {};
for (const p of PRESETS) stylizers[p] = await Stylizer.create({ preset: p });
/** @param {Preset} p */
const stylizerFor = (p) => {
  const st = stylizers[p];
  if (!st) throw new Error(`no stylizer for preset ${p}`);
  return st;
};
const optimiser = await StyleOptimizer.create({ iterations: Number(values.iters) });
log(
  `backend ${stylizerFor('best').backend}; ${contents.length} contents x ${styles.length} styles at ${size} px, optimiser ${values.iters} iterations`,
);

/**
 * A tile of `img` (`[H,W,3]`), letterboxed on white, as raw RGB.
 * @param {tf.Tensor3D} img
 */
async function tile(img) {
  const [h, w] = img.shape;
  return sharp(Buffer.from(await toRgbBytes(img)), { raw: { width: w, height: h, channels: 3 } })
    .resize(tilePx, tilePx, { fit: 'contain', background: { r: 255, g: 255, b: 255 } })
    .raw()
    .toBuffer();
}

const cells = [];
// grid[row][col]: row 0 = style thumbnails, column 0 = content thumbnails.
const blank = Buffer.alloc(tilePx * tilePx * 3, 255);
const styleRow = [blank];
const grid = [styleRow];
/** @type {tf.Tensor3D[]} */
const styleImages = [];
for (const s of styles) {
  const px = await readImageFile(path.join(shared, 'data', 'style', s), size);
  const t = /** @type {tf.Tensor3D} */ (tf.squeeze(toImageBatch(px, s), [0]));
  styleImages.push(t);
  styleRow.push(await tile(t));
}
// Ctrl-C or SIGTERM: finish the content row in progress, then write the grid and summary of the rows done.
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => (stopping = true));
const t0 = performance.now();
for (const c of contents) {
  if (stopping) break;
  const px = await readImageFile(path.join(contentDir, c), size);
  const content = tf.tidy(() => {
    const t = /** @type {tf.Tensor3D} */ (tf.squeeze(toImageBatch(px, c), [0]));
    const h = Math.floor(t.shape[0] / 16) * 16;
    const w = Math.floor(t.shape[1] / 16) * 16;
    return tf.slice(t, [0, 0, 0], [h, w, 3]);
  });
  const row = [await tile(content)];
  for (const [si, s] of styles.entries()) {
    const style = styleImages[si];
    if (!style) throw new Error(`style ${s} was not read`);
    const g = await optimiser.optimize(content, [{ image: style }]);
    const reference = {
      optimiser: await optimiser.losses(g.image, content, [{ image: style }]),
      contentStyleLoss: (await optimiser.losses(content, content, [{ image: style }])).style,
    };
    g.image.dispose();
    for (const p of PRESETS) {
      await stylizerFor(p).setStyles([{ image: style }]);
      const o = await stylizerFor(p).stylize(content);
      const q = await measureOutput(optimiser, o, content, style, reference);
      const problems = qualityProblems(q);
      cells.push({ content: c, style: s, preset: p, ...q, optimiserStyleLoss: reference.optimiser.style, problems });
      if (p === 'best') row.push(await tile(o));
      o.dispose();
      log(
        `${c} x ${s} ${p}: style ${q.styleLossVsOptimiser.toFixed(2)}x optimiser, ${q.styleLossVsContent.toFixed(2)}x content ${problems.length ? `PROBLEM ${problems.join('; ')}` : 'ok'}`,
      );
    }
  }
  content.dispose();
  grid.push(row);
  writeFileSync(
    path.join(out, 'matrix.json'),
    `${JSON.stringify({ sizePx: size, optimiserIterations: Number(values.iters), band: QUALITY_BAND, cells }, null, 2)}\n`,
  );
}
tf.dispose(styleImages);
for (const p of PRESETS) stylizerFor(p).dispose();
optimiser.dispose();

const cols = styles.length + 1;
const raw = Buffer.alloc(cols * tilePx * grid.length * tilePx * 3);
grid.forEach((row, r) =>
  row.forEach((t, ci) => {
    for (let y = 0; y < tilePx; y++)
      t.copy(raw, ((r * tilePx + y) * cols * tilePx + ci * tilePx) * 3, y * tilePx * 3, (y + 1) * tilePx * 3);
  }),
);
await sharp(raw, { raw: { width: cols * tilePx, height: grid.length * tilePx, channels: 3 } })
  .jpeg({ quality: 82 })
  .toFile(path.join(out, 'grid.jpg'));
copyFileSync(path.join(out, 'grid.jpg'), path.join(root, 'docs', 'quality-matrix.jpg'));

/** @param {number[]} xs */
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s[Math.floor((s.length - 1) / 2)];
  if (m === undefined) throw new Error('median of no values (no content row finished)');
  return m;
};
console.log(
  `| preset | within band | style loss vs optimiser: median (max) | vs content's own: median (max) | mean abs diff from content: min |`,
);
console.log('| --- | --- | --- | --- | --- |');
for (const p of PRESETS) {
  const cs = cells.filter((x) => x.preset === p);
  const ok = cs.filter((x) => x.problems.length === 0).length;
  const f = (/** @type {'styleLossVsOptimiser' | 'styleLossVsContent'} */ k) =>
    `${median(cs.map((x) => x[k])).toFixed(2)} (${Math.max(...cs.map((x) => x[k])).toFixed(2)})`;
  console.log(
    `| ${p} | ${ok} of ${cs.length} | ${f('styleLossVsOptimiser')} | ${f('styleLossVsContent')} | ${Math.min(...cs.map((x) => x.meanAbsDiffFromContent)).toFixed(3)} |`,
  );
}
const rowsDone = grid.length - 1;
if (rowsDone < contents.length) console.log(`\nStopped early: ${rowsDone} of ${contents.length} content photos done.`);
const bad = cells.filter((x) => x.problems.length > 0);
for (const x of bad) console.log(`- ${x.content} × ${x.style}, ${x.preset}: ${x.problems.join('; ')}`);
log(`${cells.length} outputs in ${((performance.now() - t0) / 60000).toFixed(1)} min; wrote ${path.join(out, 'grid.jpg')}`);
if (bad.length > 0 || rowsDone < contents.length) process.exitCode = 1;
