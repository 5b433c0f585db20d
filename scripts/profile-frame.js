// @ts-check
// `npm run profile`: where one live-path frame spends its time, kernel by kernel — the "measure
// first" step before writing fused kernels (issue #6). One stylizeVideoFrame (temporal smoothing on)
// of a 3 px/frame pan of a real photo, profiled with tf.profile after warm-up frames; kernels are
// grouped by what a fused kernel could remove: padding/resizing copies around the convs, the convs
// themselves, and the elementwise/reduction work of the transform and temporal stages.
// Usage: node scripts/profile-frame.js [--size 512] [--preset realtime] [--backend wasm|cpu] [--runs 3]
// The Node entry, for its defaults: Node backends, models from @livestyle/models.
import '@livestyle/core';
import path from 'node:path';
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
    size: { type: 'string', default: '512' },
    preset: { type: 'string', default: 'realtime' },
    backend: { type: 'string', default: 'wasm' },
    runs: { type: 'string', default: '3' },
  },
});
const sizePx = Number(values.size);
const runs = Number(values.runs);
if (!['wasm', 'cpu'].includes(values.backend)) throw new Error(`--backend must be wasm or cpu in Node (got ${values.backend})`);
const backend = /** @type {'wasm' | 'cpu'} */ (values.backend);
const preset = values.preset;
if (!isPreset(preset)) throw new Error(`--preset must be realtime, balanced or best (got ${preset})`);
if (values.backend === 'wasm') await initNodeWasm();
else await tf.setBackend('cpu');

// Kernel families: what a fused kernel would absorb.
/** @type {Array<[string, RegExp]>} */
const GROUPS = [
  ['conv (Conv2D, FusedConv2D)', /^(Conv2D|FusedConv2D|DepthwiseConv2dNative|FusedDepthwiseConv2D)$/],
  ['pad / resize / pool copies', /^(MirrorPad|PadV2|ResizeBilinear|ResizeNearestNeighbor|MaxPool|AvgPool)$/],
  ['matmul (covariance, whitening, colouring)', /^(BatchMatMul|_FusedMatMul|MatMul)$/],
  ['reductions (Sum, Mean, Max, Min)', /^(Sum|Mean|Max|Min|Prod|Any|All)$/],
  ['dense warp (custom kernel)', /^LivestyleDenseWarp$/],
  [
    'layout (Reshape, Transpose, Slice, Concat, Tile, Cast, Identity)',
    /^(Reshape|Transpose|Slice|Concat|Tile|Cast|Identity|Pack|Unpack|SplitV|GatherV2|BroadcastTo|StridedSlice|ExpandDims|Squeeze|Fill|Range|ZerosLike|OnesLike)$/,
  ],
];
const groupOf = (/** @type {string} */ name) => GROUPS.find(([, re]) => re.test(name))?.[0] ?? 'elementwise (Add, Mul, Sqrt, Where, …)';

const original = toImageBatch(await readImageFile(path.join(shared, 'data', 'content', 'golden_gate.jpg')));
const photo = /** @type {tf.Tensor3D} */ (
  tf.tidy(() => tf.squeeze(tf.image.resizeBilinear(original, [sizePx, sizePx + 21], false, true), [0]))
);
original.dispose();
const style = await readImageFile(path.join(shared, 'data', 'style', 'starry_night.jpg'), 512);
const frames = [0, 1, 2, 3, 4, 5, 6].map((k) => tf.slice(photo, [0, 3 * k, 0], [sizePx, sizePx, 3]));
/** @param {number} i */
const frameAt = (i) => {
  const f = frames[i];
  if (!f) throw new Error(`no frame ${i}: there are ${frames.length} (3 warm-up, so --runs is at most ${frames.length - 3})`);
  return f;
};
const stylizer = await Stylizer.create({ backend, preset });
await stylizer.setStyles([{ image: style }]);
for (let i = 0; i < 3; i++) (await stylizer.stylizeVideoFrame(frameAt(i), i * 33)).dispose();

/** @typedef {{ ms: number; calls: number }} KernelTime */
/** @type {Map<string, KernelTime>} */
const byKernel = new Map();
/** @type {number[]} */
const wallMs = [];
for (let r = 0; r < runs; r++) {
  const i = 3 + r;
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    const out = await stylizer.stylizeVideoFrame(frameAt(i), i * 33);
    out.dispose();
  });
  wallMs.push(performance.now() - t0);
  for (const k of info.kernels) {
    // Composite ops show up as "<name>__op" around the kernels they run: count kernels only.
    if (k.name.endsWith('__op')) continue;
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += ms / runs;
    e.calls += 1 / runs;
    byKernel.set(k.name, e);
  }
}
const totalKernelMs = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
/** @type {Map<string, KernelTime>} */
const groups = new Map();
for (const [name, e] of byKernel) {
  const g = groupOf(name);
  const ge = groups.get(g) ?? { ms: 0, calls: 0 };
  ge.ms += e.ms;
  ge.calls += e.calls;
  groups.set(g, ge);
}
const threads = values.backend === 'wasm' ? getThreadsCount() : 1;
const medianWallMs = [...wallMs].sort((a, b) => a - b)[Math.floor(runs / 2)];
if (medianWallMs === undefined) throw new Error(`no profiled frames (--runs ${values.runs})`);
console.log(
  `${values.preset} preset, video mode, ${sizePx}x${sizePx}, ${values.backend} (${threads} threads): ` +
    `${totalKernelMs.toFixed(0)} ms in kernels per frame (profiled wall ${medianWallMs.toFixed(0)} ms), mean of ${runs} frames`,
);
console.table(
  [...groups]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([group, e]) => ({
      group,
      ms: +e.ms.toFixed(1),
      share: `${((100 * e.ms) / totalKernelMs).toFixed(1)}%`,
      calls: Math.round(e.calls),
    })),
);
console.table(
  [...byKernel]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 15)
    .map(([kernel, e]) => ({
      kernel,
      ms: +e.ms.toFixed(1),
      share: `${((100 * e.ms) / totalKernelMs).toFixed(1)}%`,
      calls: Math.round(e.calls),
    })),
);
stylizer.dispose();
tf.dispose([photo, ...frames]);
