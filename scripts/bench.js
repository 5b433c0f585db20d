// @ts-check
// `npm run bench`: per-stage milliseconds of the three presets (best = the default WCT cascade,
// balanced, realtime) and single-level AdaIN at 256, 512 and 1024 px (short side), each preset's
// speed-up over best, with each conv stage's FLOPs, compulsory bytes, achieved GFLOP/s and
// its fraction of the backend's peak (a large matmul measured in the same run); the temporal stage
// (flow both ways + warp + blend) per frame; and the optical flow's cost against one default
// stylisation on the 1024x436 Sintel frames. Medians of several runs after warm-up. Each run appends
// its figures (date, machine, backend) to bench/history.jsonl so regressions show.
// Usage: node scripts/bench.js [--runs N] [--sizes 256,512,1024] [--backend wasm|cpu] [--json out.json] [--no-history]
// With --backend webgpu it runs the GPU benchmark instead (src/bench/gpu-bench.ts): per preset, size
// and mode, dispatches / passes / submits / pipelines / uploads / readbacks per frame and the median
// frame time on the Dawn adapter; `--backend webgpu --help` lists its options.
// The Node entry, for its defaults: Node backends, models from @livestyle/models.
import '@livestyle/core';
import path from 'node:path';
import os from 'node:os';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Stylizer } from '@livestyle/core/internal/pipeline/stylizer.js';
import { readImageFile } from '@livestyle/core/internal/io/node-image.js';
import { networkCost } from '@livestyle/core/internal/nets/network.js';
import { initNodeWasm } from '@livestyle/core/internal/backend/node-wasm.js';
import { LoadedModel } from '@livestyle/core/internal/weights/model-loader.js';
import { fileModelSource } from '@livestyle/core/internal/io/model-files.js';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { toImageBatch } from '@livestyle/core/internal/pipeline/input.js';
import { estimateFlow } from '@livestyle/core/internal/temporal/flow.js';
import { VideoSmoother } from '@livestyle/core/internal/temporal/video-smoother.js';
import { DEFAULT_OPTIONS, effectiveLevels } from '@livestyle/core/internal/pipeline/options.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.LIVESTYLE_SHARED_DIR ?? path.resolve(root, '..', 'shared');

const argv = process.argv.slice(2);
const backendAt = argv.findIndex((a) => a === '--backend' || a.startsWith('--backend='));
const backendArg = argv[backendAt] ?? '';
const chosenBackend = backendAt < 0 ? 'wasm' : backendArg.includes('=') ? backendArg.split('=')[1] : argv[backendAt + 1];
if (chosenBackend === 'webgpu') {
  await gpuBench(argv);
  process.exit(0);
}

/** @param {string[]} args */
async function gpuBench(args) {
  const {
    gpuBenchMain,
    parseGpuBenchArgs,
    GPU_BENCH_USAGE,
    readImageFile: read,
    releaseNodeWebGpu,
  } = await import('@livestyle/cli/internal/bench-exports.js');
  if (args.includes('--help')) {
    console.log(
      `npm run bench -- --backend webgpu [options]\n${GPU_BENCH_USAGE}\n  --no-history                     do not append to bench/history.jsonl`,
    );
    return;
  }
  const opts = parseGpuBenchArgs(args);
  const photo = await read(path.join(shared, 'data', 'content', 'golden_gate.jpg'), 1200);
  const style = await read(path.join(shared, 'data', 'style', 'starry_night.jpg'), 512);
  const report = await gpuBenchMain(opts, photo, style);
  releaseNodeWebGpu();
  if (opts.historyNote) {
    const line = {
      date: report.date,
      kind: 'gpu',
      adapter: report.adapter?.description ?? null,
      software: report.adapter?.software ?? null,
      runs: report.runs,
      rows: report.rows.map((r) => ({
        preset: r.preset,
        mode: r.mode,
        size: r.size,
        dispatches: r.counts.dispatches,
        passes: r.counts.computePasses,
        submits: r.counts.submits,
        pipelines: r.counts.pipelinesCreated,
        uploads: r.counts.uploads,
        readbacks: r.counts.readbacks,
        readbackBytes: r.counts.readbackBytes,
        frameMs: r.frameMs === null ? null : Number(r.frameMs.toFixed(2)),
        gpuMs: r.gpuMs === null ? null : Number(r.gpuMs.toFixed(2)),
      })),
      temporalStageGpuMs: report.temporalStageGpuMs,
    };
    mkdirSync(path.join(root, 'bench'), { recursive: true });
    appendFileSync(path.join(root, 'bench', 'history.jsonl'), `${JSON.stringify(line)}\n`);
    console.log('appended to bench/history.jsonl');
  }
}
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '256,512,1024' },
    backend: { type: 'string', default: 'wasm' },
    json: { type: 'string' },
    'no-history': { type: 'boolean', default: false },
  },
});
if (!['wasm', 'cpu'].includes(values.backend)) throw new Error(`--backend must be wasm or cpu in Node (got ${values.backend})`);
const backend = /** @type {'wasm' | 'cpu'} */ (values.backend);
const runs = Number(values.runs);
const sizes = values.sizes.split(',').map(Number);
/** @param {number[]} xs */
const median = (xs) => {
  const m = [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  if (m === undefined) throw new Error('median of no samples (--runs must be at least 1)');
  return m;
};

/** @typedef {import('@livestyle/core/internal/pipeline/presets.js').Preset} Preset */
/** @typedef {{ macs: number; bytes: number }} NetworkCost */
/** @typedef {{ gflop: number; mbytes: number; gflops: number; gbps: number; peakFraction: number }} StageFigures */
/** @typedef {{ level: number; encodeMs: number; transformMs: number; decodeMs: number }} LevelMs */
/**
 * @typedef {{
 *   config: string; preset: Preset | null; size: string; totalMs: number; encodeMs: number; transformMs: number; decodeMs: number;
 *   encode: StageFigures; decode: StageFigures; perLevel: LevelMs[];
 * }} BenchRow
 */

// The presets (src/pipeline/presets.ts) and single-level AdaIN, the published real-time method.
/** @type {Array<{ name: string; preset?: Preset; options: Partial<import('@livestyle/core/internal/pipeline/options.js').StylizerOptions> }>} */
const configs = [
  { name: 'best (default: WCT 5..1, eigen)', preset: 'best', options: { preset: 'best' } },
  { name: 'balanced (WCT 4..1, N-S)', preset: 'balanced', options: { preset: 'balanced' } },
  { name: 'realtime (WCT 4, N-S)', preset: 'realtime', options: { preset: 'realtime' } },
  { name: 'AdaIN single level 4', options: { method: 'adain', levels: [4] } },
];

const style = await readImageFile(path.join(shared, 'data', 'style', 'starry_night.jpg'), 512);

// The backend's peak: a large float32 matmul (the best case for its kernels), measured here.
if (backend === 'wasm') await initNodeWasm();
else await tf.setBackend('cpu');
await tf.ready();
const MATMUL_N = 1024;
const ma = tf.randomUniform([MATMUL_N, MATMUL_N]);
const mb = tf.randomUniform([MATMUL_N, MATMUL_N]);
const matmulSamples = [];
for (let i = 0; i < runs + 1; i++) {
  const t0 = performance.now();
  const c = tf.matMul(ma, mb);
  await c.data();
  if (i > 0) matmulSamples.push(performance.now() - t0);
  c.dispose();
}
tf.dispose([ma, mb]);
const peakGflops = (2 * MATMUL_N ** 3) / 1e9 / (median(matmulSamples) / 1000);
const model = await LoadedModel.open(fileModelSource('cd16x'), 'cd16x');
/** @type {BenchRow[]} */
const rows = [];
for (const size of sizes) {
  const content = await readImageFile(path.join(shared, 'data', 'content', 'golden_gate.jpg'), size);
  for (const cfg of configs) {
    const s = await Stylizer.create({ backend, ...cfg.options });
    await s.setStyles([{ image: style }]);
    const samples = [];
    for (let i = 0; i < runs + 1; i++) {
      const out = await s.stylize(content);
      out.dispose();
      if (i > 0) {
        // first run is warm-up
        if (!s.lastTimings) throw new Error(`${cfg.name}: stylize recorded no timings`);
        samples.push(structuredClone(s.lastTimings));
      }
    }
    /** @param {import('@livestyle/core/internal/pipeline/stylizer.js').StageTimings} t @param {number} level */
    const levelMs = (t, level) => {
      const l = t.perLevel.find((x) => x.level === level);
      if (!l) throw new Error(`${cfg.name}: no timings for level ${level}`);
      return l;
    };
    const levels = effectiveLevels(s.getOptions());
    const deepest = Math.max(...levels);
    const f = 2 ** (deepest - 1);
    const h = Math.floor(content.height / f) * f;
    const w = Math.floor(content.width / f) * f;
    const encode = { macs: 0, bytes: 0 };
    const decode = { macs: 0, bytes: 0 };
    /** @type {LevelMs[]} */
    const perLevel = [];
    for (const level of levels) {
      const nets = await model.level(level);
      const enc = networkCost(nets.encoderLayers, h, w);
      const dec = networkCost(nets.decoderLayers, h / 2 ** (level - 1), w / 2 ** (level - 1));
      encode.macs += enc.macs;
      encode.bytes += enc.bytes;
      decode.macs += dec.macs;
      decode.bytes += dec.bytes;
      perLevel.push({
        level,
        encodeMs: median(samples.map((t) => levelMs(t, level).encodeMs)),
        transformMs: median(samples.map((t) => levelMs(t, level).transformMs)),
        decodeMs: median(samples.map((t) => levelMs(t, level).decodeMs)),
      });
    }
    const encodeMs = median(samples.map((t) => t.encodeMs));
    const decodeMs = median(samples.map((t) => t.decodeMs));
    /** @param {NetworkCost} cost @param {number} ms @returns {StageFigures} */
    const stage = (cost, ms) => {
      const gflop = (2 * cost.macs) / 1e9;
      const gflops = gflop / (ms / 1000);
      return { gflop, mbytes: cost.bytes / 1e6, gflops, gbps: cost.bytes / 1e9 / (ms / 1000), peakFraction: gflops / peakGflops };
    };
    rows.push({
      config: cfg.name,
      preset: cfg.preset ?? null,
      size: `${content.width}x${content.height}`,
      totalMs: median(samples.map((t) => t.totalMs)),
      encodeMs,
      transformMs: median(samples.map((t) => t.transformMs)),
      decodeMs,
      encode: stage(encode, encodeMs),
      decode: stage(decode, decodeMs),
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
    smoother.prepare(frame);
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
const sty = await Stylizer.create({ backend });
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
const flowMs = median(flowSamples);
const stylizeMs = median(styleSamples);
const flowCost = { size: `${fa.width}x${fa.height}`, flowMs, stylizeMs, ratio: flowMs / stylizeMs };

const env = {
  backend: tf.getBackend(),
  threads: getThreadsCount(),
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model,
  node: process.version,
  runs,
  date: new Date().toISOString(),
  peakGflops,
};
console.log(`backend ${env.backend}, ${env.threads} threads, ${env.cpus} cores (${env.cpu}), median of ${runs} runs after 1 warm-up`);
console.log(`peak: ${MATMUL_N}x${MATMUL_N} float32 matmul ${median(matmulSamples).toFixed(1)} ms = ${peakGflops.toFixed(1)} GFLOP/s`);
console.log('config                           size       total ms  encode  transform  decode');
/** @param {string} name @param {StageFigures} st */
const fmtStage = (name, st) =>
  `   ${name}: ${st.gflop.toFixed(2)} GFLOP, ${st.mbytes.toFixed(0)} MB -> ${st.gflops.toFixed(1)} GFLOP/s (${(100 * st.peakFraction).toFixed(0)}% of peak), ${st.gbps.toFixed(1)} GB/s`;
for (const r of rows) {
  console.log(
    `${r.config.padEnd(32)} ${r.size.padEnd(10)} ${r.totalMs.toFixed(0).padStart(8)} ${r.encodeMs.toFixed(0).padStart(7)} ${r.transformMs.toFixed(0).padStart(10)} ${r.decodeMs.toFixed(0).padStart(7)}`,
  );
  console.log(fmtStage('encode', r.encode));
  console.log(fmtStage('decode', r.decode));
  for (const l of r.perLevel)
    console.log(
      `   level ${l.level}: encode ${l.encodeMs.toFixed(1)} ms, transform ${l.transformMs.toFixed(1)} ms, decode ${l.decodeMs.toFixed(1)} ms`,
    );
}
// Each preset's speed-up over the still-image default, per size (same run, same machine).
const presetSpeedups = [];
for (const size of new Set(rows.map((r) => r.size))) {
  const at = (/** @type {string} */ preset) => rows.find((r) => r.size === size && r.preset === preset);
  const best = at('best');
  if (!best) continue;
  for (const preset of ['balanced', 'realtime']) {
    const r = at(preset);
    if (r) presetSpeedups.push({ size, preset, speedup: best.totalMs / r.totalMs });
  }
}
console.log('preset speed-up over best (the still-image default):');
for (const p of presetSpeedups) console.log(`   ${p.size.padEnd(10)} ${p.preset.padEnd(9)} ${p.speedup.toFixed(2)}x`);
console.log('temporal stage (flow both ways + warp + blend), per frame:');
for (const r of temporalRows) console.log(`   ${r.size.padEnd(9)} ${r.flowWarpBlendMs.toFixed(0).padStart(6)} ms`);
console.log(
  `optical flow vs stylisation at ${flowCost.size}: flow ${flowCost.flowMs.toFixed(0)} ms, default stylisation ${flowCost.stylizeMs.toFixed(0)} ms, ratio ${flowCost.ratio.toFixed(3)}`,
);
const report = { env, rows, presetSpeedups, temporalRows, flowCost };
if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 1)}\n`);
if (!values['no-history']) {
  // One line per run (committed): enough to see a regression without the per-level detail.
  /** @param {number} v @param {number} [d] */
  const round = (v, d = 1) => Number(v.toFixed(d));
  const line = {
    date: env.date,
    machine: `${env.cpus}x ${env.cpu}`,
    backend: env.backend,
    threads: env.threads,
    runs,
    peakGflops: round(peakGflops),
    rows: rows.map((r) => ({
      config: r.config,
      size: r.size,
      totalMs: round(r.totalMs, 0),
      encodeGflops: round(r.encode.gflops),
      decodeGflops: round(r.decode.gflops),
      encodePeak: round(r.encode.peakFraction, 2),
      decodePeak: round(r.decode.peakFraction, 2),
    })),
    presetSpeedups: presetSpeedups.map((p) => ({ size: p.size, preset: p.preset, speedup: round(p.speedup, 2) })),
    temporalMs: temporalRows.map((r) => ({ size: r.size, ms: round(r.flowWarpBlendMs, 0) })),
    flowToStylizeRatio: round(flowCost.ratio, 3),
  };
  mkdirSync(path.join(root, 'bench'), { recursive: true });
  appendFileSync(path.join(root, 'bench', 'history.jsonl'), `${JSON.stringify(line)}\n`);
  console.log('appended to bench/history.jsonl');
}
process.exit(0);
