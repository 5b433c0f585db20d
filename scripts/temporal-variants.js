// @ts-check
// Measures smoothing variants (docs/temporal.md, "Keeping the texture"): each cell's frames are
// stylised frame by frame once, then each variant of the smoother's blend runs over the same
// per-frame stylisations and is measured with the honest TemporalMeter (warping error ratio and
// style-loss ratio against the per-frame output, plus the style loss's blur equivalent).
// The stylisation of a video frame does not depend on the smoother, so this measures exactly what
// `livestyle video` would output with each variant, at a fraction of the cost.
// Usage: node scripts/temporal-variants.js [--frames 12] [--cells clip@size@style,...] [--variants name,...] [--strength 0.9]
//   [--preset realtime] [--style-size 2048] [--flow-side 512,384] [--flow-check 0,1] [--no-blur]
import '@livestyle/core';
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Stylizer } from '@livestyle/core/internal/pipeline/stylizer.js';
import { TemporalMeter } from '@livestyle/core/internal/metrics/temporal-meter.js';
import { blurEquivalentSigmaPx } from '@livestyle/core/internal/metrics/blur-equivalent.js';
import { DEFAULT_OPTIONS } from '@livestyle/core/internal/pipeline/options.js';
import { VideoSmoother } from '@livestyle/core/internal/temporal/video-smoother.js';
import { openFrameSource } from '@livestyle/cli/internal/io/video.js';
import { readStyleFile } from '@livestyle/cli/internal/io/style-file.js';
import { toImageBatch } from '@livestyle/core/internal/pipeline/input.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.LIVESTYLE_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '12' },
    cells: {
      type: 'string',
      default:
        'sintel_raft_demo@256@starry_night.jpg,sam2_bedroom/bedroom.mp4@512@la_muse.jpg,sintel_mountain_2@256@sketch.png,sam2_bedroom/bedroom.mp4@256@mondrian.jpg',
    },
    variants: { type: 'string', default: '' },
    strength: { type: 'string', default: String(DEFAULT_OPTIONS.temporalStrength) },
    'flow-side': { type: 'string', default: '0' },
    // Comma-separated `flowCheckLevels` (the occlusion check's forward flow, this many levels coarser).
    'flow-check': { type: 'string', default: '0' },
    // The stylizer's preset for the per-frame stylisation (default: none, the still-image defaults = best).
    preset: { type: 'string', default: '' },
    // The style's long side as the stylizer uses it, and the meter with it (the camera element: 512).
    'style-size': { type: 'string', default: String(DEFAULT_OPTIONS.styleMaxSizePx) },
    // Comma-separated flow caps (long side px; 0 = the output size), each run with every variant.
    // Skip the blur equivalent (a bisection of blurred style losses: most of a cell's time).
    'no-blur': { type: 'boolean', default: false },
  },
});
const n = Number(values.frames);
const strength = Number(values.strength);
const flowSides = values['flow-side'].split(',').map(Number);
const flowChecks = values['flow-check'].split(',').map(Number);
const styleSizePx = Number(values['style-size']);

/** @type {Record<string, Partial<import('@livestyle/core/internal/temporal/video-smoother.js').SmootherTuning>>} */
const VARIANTS = {
  now: {},
  cubic: { warp: 'cubic' },
  bands5_15: { bandWindowsPx: [5, 15] },
  bands3_7_15: { bandWindowsPx: [3, 7, 15] },
  bands3_7_15_31: { bandWindowsPx: [3, 7, 15, 31] },
  cubic_bands3_7_15: { warp: 'cubic', bandWindowsPx: [3, 7, 15] },
  cubic_bands3_7_15_31: { warp: 'cubic', bandWindowsPx: [3, 7, 15, 31] },
  cubic_bands5_15: { warp: 'cubic', bandWindowsPx: [5, 15] },
  nobands: { bandWindowsPx: [] },
  cubic_b3_5_9_17: { warp: 'cubic', bandWindowsPx: [3, 5, 9, 17] },
  cubic_b3_7_15_share1: { warp: 'cubic', bandWindowsPx: [3, 7, 15], movingPixelShare: 1 },
  cubic_b3_7_15_gain5: { warp: 'cubic', bandWindowsPx: [3, 7, 15], maxDetailGain: 5 },
};
const variantNames = values.variants ? values.variants.split(',') : Object.keys(VARIANTS);
const log = (/** @type {string} */ m) => process.stderr.write(`${m}\n`);

/** @param {string} clip @param {string} size long side px, or `s<px>` for the short side (as `livestyle video --size`) */
async function clipFrames(clip, size) {
  if (size.startsWith('s')) return readFrames(clip, Number(size.slice(1)));
  const longSidePx = Number(size);
  const input = path.join(shared, 'data', 'video', clip);
  const probe = await openFrameSource(input, 0);
  const first = (await probe.frames().next()).value;
  probe.close();
  if (!first) throw new Error(`${clip}: no frames`);
  const nativeLong = Math.max(first.width, first.height);
  const shortSide =
    longSidePx > 0 && longSidePx < nativeLong ? Math.round((longSidePx * Math.min(first.width, first.height)) / nativeLong) : 0;
  return readFrames(clip, shortSide);
}

/** @param {string} clip @param {number} shortSide 0 = native */
async function readFrames(clip, shortSide) {
  const input = path.join(shared, 'data', 'video', clip);
  const source = await openFrameSource(input, shortSide);
  /** @type {import('@livestyle/core/internal/pipeline/input.js').PixelsLike[]} */
  const frames = [];
  for await (const px of source.frames()) {
    frames.push(px);
    if (frames.length >= n) break;
  }
  source.close();
  return frames;
}

const stylizer = await Stylizer.create({
  temporalStrength: 0,
  styleMaxSizePx: styleSizePx,
  ...(values.preset ? { preset: /** @type {import('@livestyle/core/internal/pipeline/presets.js').Preset} */ (values.preset) } : {}),
});
log(`backend ${stylizer.backend}; strength ${strength}; style size ${styleSizePx} px; ${n} frames`);
const results = [];
for (const spec of values.cells.split(',')) {
  const [clip = '', size = '256', styleFile = ''] = spec.split('@');
  const style = await readStyleFile(path.join(shared, 'data', 'style', styleFile), styleSizePx);
  await stylizer.setStyles([{ image: style }]);
  const frames = await clipFrames(clip, size);
  let stylizeMs = 0;
  /** @type {tf.Tensor4D[]} */ const inputs = [];
  /** @type {tf.Tensor4D[]} */ const perFrame = [];
  for (const [i, px] of frames.entries()) {
    const t = performance.now();
    const o = await stylizer.stylizeVideoFrame(px, i * 40);
    if (i > 0) stylizeMs += performance.now() - t;
    const out = /** @type {tf.Tensor4D} */ (tf.expandDims(o, 0));
    o.dispose();
    const [, h, w] = out.shape;
    inputs.push(tf.tidy(() => tf.slice(toImageBatch(px, 'frame'), [0, 0, 0, 0], [1, h, w, 3])));
    perFrame.push(out);
  }
  /** @param {tf.Tensor4D[]} outs */
  const measure = async (outs) => {
    const meter = await TemporalMeter.create({ style, styleMaxSizePx: styleSizePx });
    for (const [i, o] of outs.entries()) await meter.add(/** @type {tf.Tensor4D} */ (inputs[i]), o);
    const r = meter.result();
    meter.dispose();
    return { warp: r.warpingError, style: /** @type {number} */ (r.styleLoss) };
  };
  const off = await measure(perFrame);
  const blurMeter = await TemporalMeter.create({ style, styleMaxSizePx: styleSizePx });
  const [, h, w] = /** @type {tf.Tensor4D} */ (perFrame[0]).shape;
  log(
    `${clip} ${w}x${h} ${styleFile}: stylise ${(stylizeMs / (frames.length - 1)).toFixed(0)} ms/frame; per-frame warp ${off.warp.toFixed(4)} style ${off.style.toExponential(3)}`,
  );
  for (const flowSidePx of flowSides)
    for (const [flowCheckLevels, name] of flowChecks.flatMap((c) => variantNames.map((n) => /** @type {const} */ ([c, n])))) {
      const tuning = VARIANTS[name];
      if (!tuning) throw new Error(`unknown variant ${name}`);
      const smoother = new VideoSmoother({ strength, flowMaxSidePx: flowSidePx, flowCheckLevels, tuning });
      /** @type {tf.Tensor4D[]} */ const outs = [];
      let ms = 0;
      for (const [i, f] of inputs.entries()) {
        const t0 = performance.now();
        smoother.prepare(f);
        outs.push(smoother.blend(/** @type {tf.Tensor4D} */ (perFrame[i])));
        // The first frame has nothing to track: the median-free mean over the rest.
        if (i > 0) ms += (performance.now() - t0) / (inputs.length - 1);
      }
      smoother.dispose();
      const on = await measure(outs);
      tf.dispose(outs);
      const blur = values['no-blur']
        ? { sigmaPx: NaN }
        : await blurEquivalentSigmaPx((s) => (s === 0 ? Promise.resolve(off.style) : blurMeter.blurredStyleLoss(perFrame, s)), on.style);
      const row = {
        cell: `${clip.split('/')[0]} ${w}x${h} ${styleFile}`,
        variant: name,
        flowSidePx,
        flowCheckLevels,
        warpRatio: on.warp / off.warp,
        styleRatio: on.style / off.style,
        blurSigmaPx: blur.sigmaPx,
        msPerFrame: ms,
      };
      results.push(row);
      log(
        `  ${`${name}${flowCheckLevels ? ` check+${flowCheckLevels}` : ''}`.padEnd(22)} warp ${row.warpRatio.toFixed(3)}  style ${row.styleRatio.toFixed(3)}  σ ${blur.sigmaPx.toFixed(2)}  ${ms.toFixed(0)} ms/frame`,
      );
    }
  blurMeter.dispose();
  tf.dispose([...inputs, ...perFrame]);
}
stylizer.dispose();
mkdirSync(path.join(root, 'bench-out', 'temporal'), { recursive: true });
writeFileSync(
  path.join(root, 'bench-out', 'temporal', `variants-${Date.now()}.json`),
  `${JSON.stringify({ frames: n, strength, preset: values.preset || null, styleSizePx, results }, null, 2)}\n`,
);
