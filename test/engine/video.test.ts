// Video mode: temporal smoothing in Stylizer.stylizeVideoFrame on Node's WASM backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeWasm } from '../../packages/core/src/backend/node-wasm.js';
import { Stylizer } from '../../packages/core/src/pipeline/stylizer.js';
import { InputError, toImageBatch, type PixelsLike } from '../../packages/core/src/pipeline/input.js';
import { readImageFile } from '../../packages/core/src/io/node-image.js';
import { VideoSmoother } from '../../packages/core/src/temporal/video-smoother.js';
import { TemporalMeter, type TemporalMeasure, type TemporalMeterOptions } from '../../packages/core/src/metrics/temporal-meter.js';
import { DEFAULT_OPTIONS, type StylizerOptions } from '../../packages/core/src/pipeline/options.js';
import { SHARED } from '../helpers.js';
import { boxMean } from '../../packages/core/src/temporal/box-filter.js';

let photo: tf.Tensor4D; // a 160 px photo the synthetic clips are cut from
let style: tf.Tensor3D;

beforeAll(async () => {
  await initNodeWasm();
  photo = toImageBatch(await readImageFile(path.join(SHARED, 'data', 'content', 'golden_gate.jpg'), 160));
  const s = toImageBatch(await readImageFile(path.join(SHARED, 'data', 'style', 'starry_night.jpg'), 128));
  style = tf.squeeze<tf.Tensor3D>(s, [0]);
  s.dispose();
});
afterAll(() => tf.dispose([photo, style]));

/** Frame k of a camera pan: a `h x w` window moving `stepPx` to the right per frame. Caller owns. */
function panFrame(k: number, h: number, w: number, stepPx: number): tf.Tensor3D {
  return tf.tidy(() => tf.squeeze<tf.Tensor3D>(tf.slice(photo, [0, 0, k * stepPx, 0], [1, h, w, 3]), [0]));
}

async function stylizeClip(frames: readonly tf.Tensor3D[], temporalStrength: number): Promise<tf.Tensor3D[]> {
  const s = await Stylizer.create({ backend: 'wasm', temporalStrength });
  try {
    await s.setStyles([{ image: style }]);
    const out: tf.Tensor3D[] = [];
    for (let i = 0; i < frames.length; i++) out.push(await s.stylizeVideoFrame(frames[i] as tf.Tensor3D, i * 40));
    return out;
  } finally {
    s.dispose();
  }
}

/**
 * `frames` through `s` in video mode with `options` (after a reset), measured with a TemporalMeter made
 * with `meterOptions`: the warping error on the input frames and the style loss of the outputs.
 */
async function measureClip(
  s: Stylizer,
  frames: readonly PixelsLike[],
  meterOptions: TemporalMeterOptions,
  options: Partial<StylizerOptions>,
): Promise<TemporalMeasure> {
  await s.setOptions(options);
  s.reset();
  const meter = await TemporalMeter.create(meterOptions);
  try {
    for (const [i, px] of frames.entries()) {
      const out = await s.stylizeVideoFrame(px, i * 40);
      const [h, w] = out.shape;
      const o = tf.expandDims<tf.Tensor4D>(out, 0);
      const f = tf.tidy(() => tf.slice(toImageBatch(px), [0, 0, 0, 0], [1, h, w, 3]));
      try {
        await meter.add(f, o);
      } finally {
        tf.dispose([out, o, f]);
      }
    }
    return meter.result();
  } finally {
    meter.dispose();
  }
}

describe('box mean of the temporal blend', () => {
  it('equals the 2-D tf.avgPool (clipped border windows included) at a fraction of the reads, and leaks nothing', () => {
    const image = tf.randomUniform<tf.Rank.R4>([1, 37, 29, 3], 0, 1, 'float32', 7);
    const before = tf.memory().numTensors;
    for (const k of [1, 5, 15]) {
      const separable = boxMean(image, k);
      const direct = tf.avgPool(image, k, 1, 'same');
      const maxAbs = tf.tidy(() => tf.max(tf.abs(tf.sub(separable, direct))).dataSync()[0]);
      expect(maxAbs, `k=${k}`).toBeLessThan(1e-6);
      tf.dispose([separable, direct]);
    }
    expect(tf.memory().numTensors).toBe(before);
    image.dispose();
  });

  it('refuses a window that is not a positive integer', () => {
    const image = tf.zeros<tf.Rank.R4>([1, 4, 4, 1]);
    expect(() => boxMean(image, 0)).toThrow('boxMean: window must be a positive integer (got 0)');
    expect(() => boxMean(image, 2.5)).toThrow('positive integer');
    image.dispose();
  });
});

describe('temporal smoothing', () => {
  it('off (strength 0) reproduces per-frame stylisation exactly', async () => {
    const frames = [0, 1, 2].map((k) => panFrame(k, 64, 96, 2));
    const video = await stylizeClip(frames, 0);
    const s = await Stylizer.create({ backend: 'wasm' });
    await s.setStyles([{ image: style }]);
    for (let i = 0; i < frames.length; i++) {
      const still = await s.stylize(frames[i] as tf.Tensor3D);
      expect(tf.max(tf.abs(tf.sub(still, video[i] as tf.Tensor3D))).dataSync()[0]).toBe(0);
      still.dispose();
    }
    s.dispose();
    tf.dispose([...frames, ...video]);
  });

  // Issue 18: on sintel_raft_demo at 1024 px the smoothing kept 0.43x of the warping error with the
  // flow at 256 px, 0.20x with it at the output size (its error in output pixels grew with the
  // upsampling), and two detail bands (5 and 15 px) raised the Gram loss of line sketches. The same
  // pan, scaled, must pass at both sizes: motion 1/32 of the frame per frame, the line sketch (the
  // style the bands hurt most), the style as the stylizer used it (300x300, under styleMaxSizePx).
  // Measured on the old meter (style rescaled to the frame): 0.073 / 1.075 at 128 px and 0.093 / 0.944
  // at 512 px; with the two bands 1.40x and 1.20x style (fails); with the flow at a quarter of the
  // output, 0.33x and 0.20x warping, which the tighter MAX_PAN_WARP_RATIO catches (the 0.5
  // would not). On the honest meter (issue 30), the single 15 px band measured 0.073 / 1.170 at 128 px
  // and 0.093 / 1.034 at 512 px; the 3/7/15 px bands with the Catmull-Rom warp measure 0.087 / 1.217
  // and 0.125 / 1.032 (an integer-pixel pan: the warp's interpolation does not enter). The style bound
  // sits under issue 30's target of 1.5x (about a 0.3 px blur).
  const MAX_PAN_WARP_RATIO = 0.15;
  const MAX_PAN_STYLE_RATIO = 1.25;
  it.each([128, 512])(
    'a pan at %i px: warping error at most 0.15x (issue target 0.5x), Gram style loss at most 1.25x per-frame',
    async (sidePx) => {
      const stepPx = sidePx / 32;
      const frameCount = 6;
      const wide = toImageBatch(await readImageFile(path.join(SHARED, 'data', 'content', 'newyork.jpg'), sidePx + 16));
      const frames = Array.from({ length: frameCount }, (_, k) =>
        tf.tidy(() => tf.squeeze<tf.Tensor3D>(tf.slice(wide, [0, 0, k * stepPx, 0], [1, sidePx, sidePx, 3]), [0])),
      );
      wide.dispose();
      const nativeStyle = await readImageFile(path.join(SHARED, 'data', 'style', 'sketch.png'));
      const measure = async (temporalStrength: number): Promise<TemporalMeasure> => {
        const s = await Stylizer.create({ backend: 'wasm', temporalStrength });
        const meter = await TemporalMeter.create({ style: nativeStyle, backend: 'wasm' });
        try {
          await s.setStyles([{ image: nativeStyle }]);
          for (const [i, frame] of frames.entries()) {
            const out = await s.stylizeVideoFrame(frame, i * 40);
            const o = tf.expandDims<tf.Tensor4D>(out, 0);
            const f = tf.expandDims<tf.Tensor4D>(frame, 0);
            await meter.add(f, o);
            tf.dispose([out, o, f]);
          }
          return meter.result();
        } finally {
          meter.dispose();
          s.dispose();
        }
      };
      const before = tf.memory().numTensors;
      const off = await measure(0);
      const on = await measure(DEFAULT_OPTIONS.temporalStrength);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(frames);
      const warpRatio = on.warpingError / off.warpingError;
      const styleRatio = (on.styleLoss ?? NaN) / (off.styleLoss ?? NaN);
      console.log(`pan at ${sidePx} px: warping error ${warpRatio.toFixed(3)}x, Gram style loss ${styleRatio.toFixed(3)}x per-frame`);
      expect(off.frames).toBe(frameCount);
      expect(off.warpingError).toBeGreaterThan(0);
      expect(warpRatio).toBeLessThanOrEqual(MAX_PAN_WARP_RATIO);
      expect(styleRatio).toBeLessThanOrEqual(MAX_PAN_STYLE_RATIO);
    },
    300_000,
  );

  // Issue 30: on the honest meter the single 15 px detail band and the bilinear warp cost texture
  // (this cell: 1.44x per-frame style loss, about a 0.4 px blur); the 3/7/15 px bands with the
  // Catmull-Rom warp measure 1.03x (docs/temporal.md, "Keeping the texture").
  it('a real clip keeps its texture: sintel_raft_demo at 256 px x starry_night, style loss at most 1.2x per-frame, warping at most 0.5x', async () => {
    const dir = path.join(SHARED, 'data', 'video', 'sintel_raft_demo');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.png'))
      .sort();
    expect(files.length).toBeGreaterThanOrEqual(10);
    const frames = await Promise.all(files.map((f) => readImageFile(path.join(dir, f), { maxSidePx: 256 })));
    const styleImage = await readImageFile(path.join(SHARED, 'data', 'style', 'starry_night.jpg'));
    const s = await Stylizer.create({ backend: 'wasm' });
    try {
      await s.setStyles([{ image: styleImage }]);
      const measure = (temporalStrength: number, flowCheckLevels = 0): Promise<TemporalMeasure> =>
        measureClip(s, frames, { style: styleImage, backend: 'wasm' }, { temporalStrength, flowCheckLevels });
      const off = await measure(0);
      const on = await measure(DEFAULT_OPTIONS.temporalStrength);
      const warpRatio = on.warpingError / off.warpingError;
      const styleRatio = (on.styleLoss ?? NaN) / (off.styleLoss ?? NaN);
      // realtime's cheaper occlusion check (the forward flow one level coarser) is not taken at this
      // size: its forward flow would be solved at 64 px, which took this cell's warping ratio from 0.15x to
      // 0.25x and the camera's 256 px cells over 0.5x (CHECK_FLOW_MIN_SIDE_PX). Same frames, same figures.
      const coarse = await measure(DEFAULT_OPTIONS.temporalStrength, 1);
      const coarseWarp = coarse.warpingError / off.warpingError;
      const coarseStyle = (coarse.styleLoss ?? NaN) / (off.styleLoss ?? NaN);
      console.log(
        `sintel_raft_demo 256 px x starry_night: warping ${warpRatio.toFixed(3)}x, style ${styleRatio.toFixed(3)}x per-frame; ` +
          `with flowCheckLevels 1: ${coarseWarp.toFixed(3)}x, ${coarseStyle.toFixed(3)}x`,
      );
      expect(off.frames).toBe(files.length);
      expect(warpRatio).toBeLessThanOrEqual(0.5);
      expect(styleRatio).toBeLessThanOrEqual(1.2);
      expect(coarseWarp).toBe(warpRatio);
      expect(coarseStyle).toBe(styleRatio);
    } finally {
      s.dispose();
    }
  }, 300_000);

  // Issue 30: the cell users meet most is the camera element: realtime, styles at 512 px, frames at 256 px.
  // There realtime's coarser occlusion check (forward flow solved at 64 px) left this cell at 0.58x warping;
  // with the check held at 128 px or finer it measures 0.34x (docs/temporal.md, "The camera's cells").
  it("the camera's configuration keeps the warping target: sam2_bedroom at 256 px x mondrian, realtime, style 512 px", async () => {
    const dir = path.join(SHARED, 'data', 'video', 'sam2_bedroom', 'frames');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.jpg'))
      .sort()
      .slice(0, 12);
    expect(files.length).toBe(12);
    const frames = await Promise.all(files.map((f) => readImageFile(path.join(dir, f), { maxSidePx: 256 })));
    const styleImage = await readImageFile(path.join(SHARED, 'data', 'style', 'mondrian.jpg'));
    const styleMaxSizePx = 512;
    const s = await Stylizer.create({ backend: 'wasm', preset: 'realtime', styleMaxSizePx });
    try {
      await s.setStyles([{ image: styleImage }]);
      const measure = (temporalStrength: number): Promise<TemporalMeasure> =>
        measureClip(s, frames, { style: styleImage, styleMaxSizePx, backend: 'wasm' }, { temporalStrength });
      const off = await measure(0);
      const on = await measure(DEFAULT_OPTIONS.temporalStrength);
      const warpRatio = on.warpingError / off.warpingError;
      const styleRatio = (on.styleLoss ?? NaN) / (off.styleLoss ?? NaN);
      console.log(
        `camera cell sam2_bedroom 256 px x mondrian: warping ${warpRatio.toFixed(3)}x, style ${styleRatio.toFixed(3)}x per-frame`,
      );
      expect(off.frames).toBe(12);
      expect(warpRatio).toBeLessThanOrEqual(0.45);
      expect(styleRatio).toBeLessThanOrEqual(1.2);
    } finally {
      s.dispose();
    }
  }, 300_000);

  it('a still scene with sensor noise stays still: temporal std at most a third of per-frame', async () => {
    const base = panFrame(0, 128, 160, 0);
    const frames = Array.from({ length: 24 }, (_, k) =>
      tf.tidy(() => tf.clipByValue(tf.add(base, tf.randomNormal(base.shape, 0, 0.02, 'float32', 100 + k)), 0, 1) as tf.Tensor3D),
    );
    // After a warm-up of 8 frames (the running blend starts from the first frame's stylisation).
    const stdOf = (outs: tf.Tensor3D[]): number =>
      tf.tidy(() => tf.mean(tf.sqrt(tf.moments(tf.stack(outs.slice(8)), 0).variance)).dataSync()[0] ?? NaN);
    const off = await stylizeClip(frames, 0);
    const on = await stylizeClip(frames, 0.9);
    const [stdOff, stdOn] = [stdOf(off), stdOf(on)];
    console.log(`still: temporal std ${stdOff.toFixed(4)} -> ${stdOn.toFixed(4)}`);
    expect(stdOff).toBeGreaterThan(0.02); // the transform amplifies the noise: there is flicker to remove
    expect(stdOn).toBeLessThanOrEqual(stdOff / 3);
    tf.dispose([base, ...frames, ...off, ...on]);
  }, 120_000);

  it('starts afresh on a seek, a pause, a scene cut and a size change', async () => {
    const s = await Stylizer.create({ backend: 'wasm', videoResetGapMs: 500 });
    await s.setStyles([{ image: style }]);
    const a = panFrame(0, 64, 96, 0);
    const b = panFrame(1, 64, 96, 1);
    const other = tf.tidy(() => tf.reverse(tf.sub(1, a), [0, 1]) as tf.Tensor3D); // unrelated content
    const small = panFrame(0, 48, 64, 0);
    const step = async (f: tf.Tensor3D, t: number): Promise<boolean | undefined> => {
      (await s.stylizeVideoFrame(f, t)).dispose();
      return (await s.videoFrameInfo())?.sceneCut;
    };
    expect(await step(a, 0)).toBe(true); // first frame
    expect(await step(b, 40)).toBe(false); // tracked
    expect(await step(a, 20)).toBe(true); // seek backwards
    expect(await step(b, 60)).toBe(false);
    expect(await step(a, 2000)).toBe(true); // pause longer than videoResetGapMs
    expect(await step(other, 2040)).toBe(true); // cut to unrelated content
    expect(await step(small, 2080)).toBe(true); // size change
    s.reset();
    expect(await s.videoFrameInfo()).toBeNull();
    await expect(s.stylizeVideoFrame(a, Number.NaN)).rejects.toThrow(InputError);
    await expect(s.stylizeVideoFrame(a, Number.NaN)).rejects.toThrow(/timestampMs must be a finite number/);
    s.dispose();
    tf.dispose([a, b, other, small]);
  });

  it('keeps tracking through fast real motion but cuts between shots (shared Sintel frames, flow at 256 px)', async () => {
    // sintel_ambush_4 frames 4-6 are a fight moving up to 250 px per frame at 1024 px: only ~10%
    // of the frame tracks, yet it is one shot. Cutting to mountain_2 and raft_demo tracks 0-1%.
    const video = path.join(SHARED, 'data', 'video');
    // [clip, frame, starts a shot]: the first frame always does.
    const files = [
      ['sintel_ambush_4_clean', 'frame_0004.png', true],
      ['sintel_ambush_4_clean', 'frame_0005.png', false],
      ['sintel_ambush_4_clean', 'frame_0006.png', false],
      ['sintel_mountain_2', 'frame_0001.png', true],
      ['sintel_raft_demo', 'frame_0016.png', true],
    ] as const;
    const smoother = new VideoSmoother({ strength: 0.9, flowMaxSidePx: 256 });
    const before = tf.memory().numTensors;
    const seen: Array<{ cut: boolean; tracked: number }> = [];
    for (const [clip, file] of files) {
      const frame = toImageBatch(await readImageFile(path.join(video, clip, file), 256));
      smoother.prepare(frame);
      const info = await smoother.lastFrameInfo();
      seen.push({ cut: info?.sceneCut ?? true, tracked: info?.trackedFraction ?? 0 });
      smoother.blend(frame).dispose();
      frame.dispose();
    }
    smoother.dispose();
    expect(tf.memory().numTensors).toBe(before);
    console.log(`tracked: ${seen.map((x) => x.tracked.toFixed(3)).join(', ')}`);
    expect(seen.map((x) => x.cut)).toEqual(files.map(([, , startsShot]) => startsShot));
    expect(seen[1]?.tracked).toBeLessThan(0.4); // what the old 40% rule wrongly called a cut
    expect(seen[2]?.tracked).toBeLessThan(0.4);
  }, 60_000);

  it('1000 frames through stylizeVideoFrame leave tf.memory() where it started', async () => {
    // Small frames and one level keep this to about a minute; every frame still runs both flows,
    // the consistency check, the warp and the blend (or a reset).
    const s = await Stylizer.create({ backend: 'wasm', levels: [1] });
    await s.setStyles([{ image: style }]);
    const frames = Array.from({ length: 8 }, (_, k) => panFrame(k, 24, 24, 1));
    (await s.stylizeVideoFrame(frames[0] as tf.Tensor3D, 0)).dispose(); // model weights load lazily
    s.reset();
    const before = tf.memory().numTensors;
    const bytesBefore = tf.memory().numBytes;
    let cuts = 0;
    let tracked = 0;
    for (let i = 0; i < 1000; i++) {
      // A pan that jumps back every 8 frames (a cut) and a seek every 250.
      const t = i % 250 === 249 ? (i - 100) * 33 : i * 33;
      (await s.stylizeVideoFrame(frames[i % 8] as tf.Tensor3D, t)).dispose();
      if ((await s.videoFrameInfo())?.sceneCut) cuts++;
      else tracked++;
    }
    s.reset();
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numBytes).toBe(bytesBefore);
    expect(cuts).toBeGreaterThan(0);
    expect(tracked).toBeGreaterThan(500);
    s.dispose();
    tf.dispose(frames);
  }, 300_000);

  it('keeps no tensors after dispose, including the video state', async () => {
    const before = tf.memory().numTensors;
    const s = await Stylizer.create({ backend: 'wasm', levels: [2, 1] });
    await s.setStyles([{ image: style }]);
    const f = panFrame(0, 32, 32, 0);
    for (let i = 0; i < 3; i++) (await s.stylizeVideoFrame(f, i * 33)).dispose();
    s.dispose();
    f.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
