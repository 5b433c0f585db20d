// `npm run bench`: per-stage milliseconds of the default WCT cascade and single-level AdaIN at 256
// and 512 px (short side); the temporal stage (flow both ways + warp + blend) per frame at the same
// sizes; and the optical flow's cost against one default stylisation frame on the 1024x436 Sintel
// frames. Medians of several runs after warm-up, on Node's WASM backend.
// Usage: node scripts/bench.js [--runs N] [--sizes 256,512] [--json out.json]
import path from 'node:path';
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import {
  Stylizer,
  readImageFile,
  convMacs,
  LoadedModel,
  fileModelSource,
  getThreadsCount,
  toImageBatch,
  estimateFlow,
  VideoSmoother,
  DEFAULT_OPTIONS,
} from '../dist/bench-exports.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.LIVESTYLE_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, sizes: { type: 'string', default: '256,512' }, json: { type: 'string' } },
});
const runs = Number(values.runs);
const sizes = values.sizes.split(',').map(Number);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const configs = [
  { name: 'WCT cascade 5,4,3,2,1 (default)', options: { method: 'wct', levels: [5, 4, 3, 2, 1] } },
  { name: 'AdaIN single level 4', options: { method: 'adain', levels: [4] } },
];

const style = await readImageFile(path.join(shared, 'data', 'style', 'starry_night.jpg'), 512);
const model = await LoadedModel.open(fileModelSource('cd16x'), 'cd16x');
const rows = [];
for (const size of sizes) {
  const content = await readImageFile(path.join(shared, 'data', 'content', 'golden_gate.jpg'), size);
  for (const cfg of configs) {
    const s = await Stylizer.create({ backend: 'wasm', ...cfg.options });
    await s.setStyles([{ image: style }]);
    const samples = [];
    for (let i = 0; i < runs + 1; i++) {
      const out = await s.stylize(content);
      out.dispose();
      if (i > 0) samples.push(structuredClone(s.lastTimings)); // first run is warm-up
    }
    let macs = 0;
    let h = content.height;
    let w = content.width;
    const perLevel = [];
    for (const level of cfg.options.levels) {
      const nets = await model.level(level);
      const f = 2 ** (Math.max(...cfg.options.levels) - 1);
      const hh = Math.floor(h / f) * f;
      const ww = Math.floor(w / f) * f;
      const m = convMacs(nets.encoderLayers, h, w) + convMacs(nets.decoderLayers, hh / 2 ** (level - 1), ww / 2 ** (level - 1));
      macs += m;
      h = hh;
      w = ww;
      perLevel.push({
        level,
        encodeMs: median(samples.map((t) => t.perLevel.find((l) => l.level === level).encodeMs)),
        transformMs: median(samples.map((t) => t.perLevel.find((l) => l.level === level).transformMs)),
        decodeMs: median(samples.map((t) => t.perLevel.find((l) => l.level === level).decodeMs)),
      });
    }
    const convMs = median(samples.map((t) => t.encodeMs + t.decodeMs));
    rows.push({
      config: cfg.name,
      size: `${content.width}x${content.height}`,
      totalMs: median(samples.map((t) => t.totalMs)),
      encodeMs: median(samples.map((t) => t.encodeMs)),
      transformMs: median(samples.map((t) => t.transformMs)),
      decodeMs: median(samples.map((t) => t.decodeMs)),
      convGflop: (2 * macs) / 1e9,
      convGflops: (2 * macs) / 1e9 / (convMs / 1000),
      perLevel,
    });
    s.dispose();
  }
}
model.dispose();

// Temporal stage per frame (what stylizeVideoFrame adds): two frames of a 3 px/frame pan.
const temporalRows = [];
for (const size of sizes) {
  const photo = toImageBatch(await readImageFile(path.join(shared, 'data', 'content', 'golden_gate.jpg'), size));
  const [, h, w] = photo.shape;
  const oh = Math.floor(h / 16) * 16;
  const ow = Math.floor((w - 3 * (runs + 2)) / 16) * 16;
  const smoother = new VideoSmoother({ strength: DEFAULT_OPTIONS.temporalStrength, flowMaxSidePx: DEFAULT_OPTIONS.flowMaxSidePx });
  const samples = [];
  for (let i = 0; i < runs + 2; i++) {
    const frame = tf.slice(photo, [0, 0, 3 * i, 0], [1, oh, ow, 3]);
    const t0 = performance.now();
    await smoother.prepare(frame);
    const out = smoother.blend(frame); // the frame stands in for its stylisation: same cost
    await out.data();
    if (i >= 2) samples.push(performance.now() - t0); // frame 0 has no predecessor, frame 1 warms up
    tf.dispose([frame, out]);
  }
  smoother.dispose();
  photo.dispose();
  temporalRows.push({ size: `${ow}x${oh}`, flowWarpBlendMs: median(samples) });
}

// Optical flow (one direction, default options) against one default stylisation of the same frame.
const sintel = path.join(shared, 'data', 'flow', 'sintel_alley_1_f0002', 'clean');
const fa = await readImageFile(path.join(sintel, 'frame_0002.png'));
const fb = await readImageFile(path.join(sintel, 'frame_0003.png'));
const ta = toImageBatch(fa);
const tb = toImageBatch(fb);
const flowSamples = [];
for (let i = 0; i < runs + 1; i++) {
  const t0 = performance.now();
  const f = estimateFlow(ta, tb);
  await f.data();
  if (i > 0) flowSamples.push(performance.now() - t0);
  f.dispose();
}
const sty = await Stylizer.create({ backend: 'wasm' });
await sty.setStyles([{ image: style }]);
const styleSamples = [];
for (let i = 0; i < runs + 1; i++) {
  const t0 = performance.now();
  const out = await sty.stylize(fa);
  if (i > 0) styleSamples.push(performance.now() - t0);
  out.dispose();
}
sty.dispose();
tf.dispose([ta, tb]);
const flowCost = { size: `${fa.width}x${fa.height}`, flowMs: median(flowSamples), stylizeMs: median(styleSamples) };
flowCost.ratio = flowCost.flowMs / flowCost.stylizeMs;

const env = {
  backend: tf.getBackend(),
  threads: getThreadsCount(),
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model,
  node: process.version,
  runs,
  date: new Date().toISOString(),
};
console.log(`backend ${env.backend}, ${env.threads} threads, ${env.cpus} cores (${env.cpu}), median of ${runs} runs after 1 warm-up`);
console.log('config                           size     total ms  encode  transform  decode  conv GFLOP  conv GFLOP/s');
for (const r of rows) {
  console.log(
    `${r.config.padEnd(32)} ${r.size.padEnd(8)} ${r.totalMs.toFixed(0).padStart(8)} ${r.encodeMs.toFixed(0).padStart(7)} ${r.transformMs.toFixed(0).padStart(10)} ${r.decodeMs.toFixed(0).padStart(7)} ${r.convGflop.toFixed(2).padStart(11)} ${r.convGflops.toFixed(1).padStart(13)}`,
  );
  for (const l of r.perLevel)
    console.log(
      `   level ${l.level}: encode ${l.encodeMs.toFixed(1)} ms, transform ${l.transformMs.toFixed(1)} ms, decode ${l.decodeMs.toFixed(1)} ms`,
    );
}
console.log('temporal stage (flow both ways + warp + blend), per frame:');
for (const r of temporalRows) console.log(`   ${r.size.padEnd(9)} ${r.flowWarpBlendMs.toFixed(0).padStart(6)} ms`);
console.log(
  `optical flow vs stylisation at ${flowCost.size}: flow ${flowCost.flowMs.toFixed(0)} ms, default stylisation ${flowCost.stylizeMs.toFixed(0)} ms, ratio ${flowCost.ratio.toFixed(3)}`,
);
if (values.json) writeFileSync(values.json, `${JSON.stringify({ env, rows, temporalRows, flowCost }, null, 1)}\n`);
process.exit(0);
