// @ts-check
// `npm run soak`: the live-filter path for a long run. Real camera-like frames (the sam2_bedroom clip,
// looped forwards and backwards so motion never jumps) go through stylizeVideoFrame with the realtime
// preset and temporal smoothing, frame after frame with 33 ms timestamps, as <livestyle-camera>
// drives it. Every window of frames it records tf.memory() (tensors, bytes), the JS heap and the
// median frame time; at the end it checks that memory is flat and frame time does not grow, prints
// the table and appends a summary to bench/history.jsonl. Exit status 1 when a check fails.
// Usage: node scripts/soak.js [--frames 5000] [--size 128] [--window 250] [--preset realtime] [--no-history]
// The Node entry, for its defaults: Node backends, models from @livestyle/models.
import '@livestyle/core';
import path from 'node:path';
import os from 'node:os';
import { appendFileSync, readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Stylizer } from '@livestyle/core/internal/pipeline/stylizer.js';
import { readImageFile } from '@livestyle/core/internal/io/node-image.js';
import { initNodeWasm } from '@livestyle/core/internal/backend/node-wasm.js';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { toImageBatch } from '@livestyle/core/internal/pipeline/input.js';
import { isPreset } from '@livestyle/core/internal/pipeline/presets.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.LIVESTYLE_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '5000' },
    size: { type: 'string', default: '128' },
    window: { type: 'string', default: '250' },
    preset: { type: 'string', default: 'realtime' },
    'no-history': { type: 'boolean', default: false },
  },
});
const totalFrames = Number(values.frames);
const size = Number(values.size);
const windowFrames = Number(values.window);
if (!(totalFrames >= 2 * windowFrames && windowFrames >= 10)) throw new Error('--frames must be at least twice --window (>= 10)');
const preset = values.preset;
if (!isPreset(preset)) throw new Error(`--preset must be realtime, balanced or best (got ${preset})`);
/** @param {number[]} xs */
const median = (xs) => {
  const m = [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  if (m === undefined) throw new Error('median of no frame times');
  return m;
};

const { threads } = await initNodeWasm();
const clip = path.join(shared, 'data', 'video', 'sam2_bedroom', 'frames');
const names = readdirSync(clip)
  .filter((f) => f.endsWith('.jpg'))
  .sort();
const loaded = [];
for (const name of names) loaded.push(toImageBatch(await readImageFile(path.join(clip, name), size)));
// Forwards then backwards: a loop with no jump back to the first frame.
const frames = [...loaded, ...loaded.slice(1, -1).reverse()].map((f) => /** @type {tf.Tensor3D} */ (tf.squeeze(f, [0])));
tf.dispose(loaded);
const [frame0] = frames;
if (!frame0) throw new Error(`no .jpg frames in ${clip}`);
const style = await readImageFile(path.join(shared, 'data', 'style', 'starry_night.jpg'), 256);

const stylizer = await Stylizer.create({ backend: 'wasm', preset });
await stylizer.setStyles([{ image: style }]);
const windows = [];
/** @type {number[]} */
let frameMs = [];
const t0 = performance.now();
for (let i = 0; i < totalFrames; i++) {
  const start = performance.now();
  const frame = frames[i % frames.length];
  if (!frame) throw new Error(`no frame ${i % frames.length}`);
  const out = await stylizer.stylizeVideoFrame(frame, i * 33);
  out.dispose();
  frameMs.push(performance.now() - start);
  if ((i + 1) % windowFrames === 0) {
    const m = tf.memory();
    const w = {
      frame: i + 1,
      tensors: m.numTensors,
      tensorMB: m.numBytes / 1e6,
      heapMB: process.memoryUsage().heapUsed / 1e6,
      medianFrameMs: median(frameMs),
    };
    windows.push(w);
    frameMs = [];
    process.stderr.write(
      `frame ${w.frame}/${totalFrames}: ${w.tensors} tensors, ${w.tensorMB.toFixed(2)} MB, heap ${w.heapMB.toFixed(1)} MB, ${w.medianFrameMs.toFixed(1)} ms/frame\n`,
    );
  }
}
const elapsedS = (performance.now() - t0) / 1000;
const info = await stylizer.videoFrameInfo();
stylizer.dispose();
tf.dispose(frames);

// Checks, from the second window on (the first includes weight loading and kernel warm-up).
const steady = windows.slice(1);
const first = steady[0];
const last = steady.at(-1);
if (!first || !last) throw new Error(`fewer than two windows of ${windowFrames} frames`);
const tensorsFlat = steady.every((w) => w.tensors === first.tensors && Math.abs(w.tensorMB - first.tensorMB) < 1e-9);
const heapGrowthMB = last.heapMB - first.heapMB;
const heapFlat = heapGrowthMB < 20; // GC timing moves the heap by a few MB; a leak of one object per frame would not stay under this
const frameTimeRatio = last.medianFrameMs / first.medianFrameMs;
const frameTimeStable = frameTimeRatio < 1.25;
console.log(
  `soak: ${totalFrames} frames of ${frame0.shape[1]}x${frame0.shape[0]}, preset ${values.preset}, ${threads} WASM threads, ${elapsedS.toFixed(0)} s`,
);
console.log('frame    tensors  tensor MB  heap MB  median ms/frame');
for (const w of windows)
  console.log(
    `${String(w.frame).padStart(5)} ${String(w.tensors).padStart(9)} ${w.tensorMB.toFixed(2).padStart(10)} ${w.heapMB.toFixed(1).padStart(8)} ${w.medianFrameMs.toFixed(1).padStart(16)}`,
  );
console.log(
  `tensors flat: ${tensorsFlat}; heap growth ${heapGrowthMB.toFixed(1)} MB (flat: ${heapFlat}); frame time last/first ${frameTimeRatio.toFixed(2)} (stable: ${frameTimeStable})`,
);
console.log(`last frame: ${info?.sceneCut ? 'scene cut' : `tracked ${(100 * (info?.trackedFraction ?? 0)).toFixed(0)}%`}`);
if (!values['no-history']) {
  const line = {
    date: new Date().toISOString(),
    kind: 'soak',
    machine: `${os.cpus().length}x ${os.cpus()[0]?.model ?? 'cpu'}`,
    backend: 'wasm',
    threads: getThreadsCount(),
    preset: values.preset,
    frames: totalFrames,
    size: `${frame0.shape[1]}x${frame0.shape[0]}`,
    tensors: first.tensors,
    tensorsFlat,
    heapMBFirst: Number(first.heapMB.toFixed(1)),
    heapMBLast: Number(last.heapMB.toFixed(1)),
    frameMsFirst: Number(first.medianFrameMs.toFixed(1)),
    frameMsLast: Number(last.medianFrameMs.toFixed(1)),
    frameTimeRatio: Number(frameTimeRatio.toFixed(2)),
  };
  appendFileSync(path.join(root, 'bench', 'history.jsonl'), `${JSON.stringify(line)}\n`);
  console.log('appended to bench/history.jsonl');
}
process.exit(tensorsFlat && heapFlat && frameTimeStable ? 0 : 1);
