// `npm run bench`: per-stage milliseconds of the default WCT cascade and single-level AdaIN at 256
// and 512 px (short side), median of several runs after warm-up, on Node's WASM backend.
// Usage: node scripts/bench.js [--runs N] [--sizes 256,512] [--json out.json]
import path from 'node:path';
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Stylizer, readImageFile, convMacs, LoadedModel, fileModelSource, getThreadsCount } from '../dist/bench-exports.js';

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
if (values.json) writeFileSync(values.json, `${JSON.stringify({ env, rows }, null, 1)}\n`);
process.exit(0);
