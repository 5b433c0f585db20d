// Person / background (the `subject` option) on Node's WASM backend: the selfie segmentation model read
// from its .tflite by the project's own reader and run in tf.js, its mask against a hand-checked one,
// the composite in image and video mode, the mask's smoothing over time, and what happens when the
// model cannot be loaded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { initNodeWasm } from '../../packages/core/src/backend/node-wasm.js';
import { Stylizer } from '../../packages/core/src/pipeline/stylizer.js';
import { toImageBatch } from '../../packages/core/src/pipeline/input.js';
import { readImageFile } from '../../packages/core/src/io/node-image.js';
import { fileModelSource, modelsDir } from '../../packages/core/src/io/model-files.js';
import { SegmentationUnavailableError, SubjectMasker } from '../../packages/core/src/pipeline/subject.js';
import { PersonSegmenter } from '../../packages/core/src/nets/segmenter.js';
import { VideoSmoother } from '../../packages/core/src/temporal/video-smoother.js';
import { SEGMENTATION_MODEL_DIR, SELFIE_SEGMENTATION } from '../../packages/core/src/weights/segmentation-model.js';
import type { ByteSource } from '../../packages/core/src/weights/model-loader.js';
import { SHARED } from '../helpers.js';

const CONTENT = path.join(SHARED, 'data', 'content');
/** Measured 0.991 (brad_pitt.jpg at 512x512 against the flood-filled background below). */
const MIN_IOU = 0.95;

let segmenter: PersonSegmenter;
let style: tf.Tensor3D;

/**
 * The hand-checked person mask of brad_pitt.jpg: its plain light-grey backdrop flood-filled from the
 * top, left and right borders (light: mean RGB > 0.72; grey: max - min < 0.1), everything else person.
 * Checked by eye against the photo (docs/subject.md shows both). 1 = person.
 */
async function handCheckedMask(file: string): Promise<{ mask: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width: w, height: h } = info;
  const backdropLike = (i: number): boolean => {
    const r = (data[3 * i] as number) / 255;
    const g = (data[3 * i + 1] as number) / 255;
    const b = (data[3 * i + 2] as number) / 255;
    return (r + g + b) / 3 > 0.72 && Math.max(r, g, b) - Math.min(r, g, b) < 0.1;
  };
  const backdrop = new Uint8Array(w * h);
  const stack: number[] = [];
  for (let x = 0; x < w; x++) stack.push(x);
  for (let y = 0; y < h; y++) stack.push(y * w, y * w + w - 1);
  while (stack.length) {
    const i = stack.pop() as number;
    if (backdrop[i] || !backdropLike(i)) continue;
    backdrop[i] = 1;
    const x = i % w;
    if (x > 0) stack.push(i - 1);
    if (x < w - 1) stack.push(i + 1);
    if (i >= w) stack.push(i - w);
    if (i + w < w * h) stack.push(i + w);
  }
  return { mask: Uint8Array.from(backdrop, (v) => 1 - v), width: w, height: h };
}

/** Mean |a - b| over the pixels where `where` holds; `a`, `b` `[H, W, 3]`, `mask` `[H*W]`. */
function meanDiffWhere(a: tf.Tensor3D, b: tf.Tensor3D, mask: Float32Array, where: (m: number) => boolean): number {
  const d = tf.tidy(() => tf.mean(tf.abs(tf.sub(a, b)), 2).dataSync());
  let sum = 0;
  let n = 0;
  for (let i = 0; i < d.length; i++) {
    if (!where(mask[i] as number)) continue;
    sum += d[i] as number;
    n++;
  }
  expect(n, 'pixels in the region').toBeGreaterThan(100);
  return sum / n;
}

beforeAll(async () => {
  await initNodeWasm();
  const bytes = new Uint8Array(readFileSync(path.join(modelsDir(), SEGMENTATION_MODEL_DIR, SELFIE_SEGMENTATION.file)));
  segmenter = PersonSegmenter.fromTflite(bytes);
  const s = toImageBatch(await readImageFile(path.join(SHARED, 'data', 'style', 'starry_night.jpg'), 128));
  style = tf.squeeze<tf.Tensor3D>(s, [0]);
  s.dispose();
});
afterAll(() => {
  segmenter.dispose();
  style.dispose();
});

describe('selfie segmentation in tf.js (own .tflite reader)', () => {
  it('finds the person of a portrait (IoU against a hand-checked mask) and nobody in a street scene; leaks nothing', async () => {
    const file = path.join(CONTENT, 'brad_pitt.jpg');
    const hand = await handCheckedMask(file);
    const before = tf.memory().numTensors;
    const photo = toImageBatch(await readImageFile(file));
    const mask = segmenter.segment(photo);
    expect(mask.shape).toEqual([hand.height, hand.width]);
    const m = mask.dataSync();
    let inter = 0;
    let union = 0;
    for (let i = 0; i < m.length; i++) {
      const a = hand.mask[i] === 1;
      const b = (m[i] as number) > 0.5;
      if (a && b) inter++;
      if (a || b) union++;
    }
    const iou = inter / union;
    mask.dispose();
    photo.dispose();

    const street = toImageBatch(await readImageFile(path.join(CONTENT, 'chicago.jpg'), 256));
    const streetMask = segmenter.segment(street);
    const personShare = tf.tidy(() => tf.mean(tf.cast(tf.greater(streetMask, 0.5), 'float32')).dataSync()[0] as number);
    tf.dispose([street, streetMask]);
    console.log(`brad_pitt.jpg IoU ${iou.toFixed(3)} against the hand-checked mask; chicago.jpg person share ${personShare.toFixed(4)}`);
    expect(iou).toBeGreaterThan(MIN_IOU);
    expect(personShare).toBeLessThan(0.01);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Stylizer subject', () => {
  it('background keeps the person as the camera sees it and stylises the rest; person does the opposite; all is unchanged', async () => {
    const photo = await readImageFile(path.join(CONTENT, 'brad_pitt.jpg'), 128);
    const input = tf.tidy(() => tf.squeeze<tf.Tensor3D>(toImageBatch(photo), [0]));
    const s = await Stylizer.create({ backend: 'wasm', preset: 'realtime' });
    try {
      await s.setStyles([{ image: style }]);
      const whole = await s.stylize(input);
      const before = tf.memory().numTensors;
      await s.setOptions({ subject: 'background' });
      const masker = (s as unknown as { masker: SubjectMasker }).masker;
      const mask = tf.tidy(() => {
        const [h, w] = whole.shape;
        return masker.personMask(tf.slice(tf.expandDims<tf.Tensor4D>(input, 0), [0, 0, 0, 0], [1, h, w, 3])).dataSync() as Float32Array;
      });
      const afterLoad = tf.memory().numTensors;
      const background = await s.stylize(input);
      await s.setOptions({ subject: 'person' });
      const person = await s.stylize(input);
      await s.setOptions({ subject: 'all' });
      const again = await s.stylize(input);
      const [h, w] = whole.shape;
      const source = tf.slice(input, [0, 0, 0], [h, w, 3]);
      const isPerson = (m: number): boolean => m > 0.95;
      const isBackdrop = (m: number): boolean => m < 0.05;
      const figures = {
        backgroundOnPerson: meanDiffWhere(background, source, mask, isPerson),
        backgroundOnBackdrop: meanDiffWhere(background, whole, mask, isBackdrop),
        backdropStylised: meanDiffWhere(whole, source, mask, isBackdrop),
        personOnBackdrop: meanDiffWhere(person, source, mask, isBackdrop),
        personOnPerson: meanDiffWhere(person, whole, mask, isPerson),
        personStylised: meanDiffWhere(whole, source, mask, isPerson),
        allAgain: tf.tidy(() => tf.max(tf.abs(tf.sub(again, whole))).dataSync()[0] as number),
      };
      console.log(`subject at ${w}x${h}: ${JSON.stringify(figures)}`);
      // Inside the person (mask > 0.95) 'background' is the input within 5% of the mask's weight...
      expect(figures.backgroundOnPerson).toBeLessThan(0.03);
      // ...while the stylisation moved those pixels far more.
      expect(figures.personStylised).toBeGreaterThan(0.1);
      // Outside it, 'background' is the whole-frame stylisation.
      expect(figures.backgroundOnBackdrop).toBeLessThan(0.01);
      expect(figures.backdropStylised).toBeGreaterThan(0.1);
      // 'person' mirrors both.
      expect(figures.personOnBackdrop).toBeLessThan(0.03);
      expect(figures.personOnPerson).toBeLessThan(0.01);
      expect(figures.allAgain).toBe(0);
      tf.dispose([background, person, again, source]);
      // Loading the network kept its weights (once); stylising with a subject kept nothing more.
      expect(tf.memory().numTensors).toBe(afterLoad);
      expect(afterLoad).toBeGreaterThan(before);
      whole.dispose();
    } finally {
      s.dispose();
      input.dispose();
    }
  });

  it('video mode: the mask is steadied along the flow (a noisy still camera: the edge boils less)', async () => {
    const photo = toImageBatch(await readImageFile(path.join(CONTENT, 'brad_pitt.jpg'), 160));
    const masker = await SubjectMasker.load(fileModelSource(SEGMENTATION_MODEL_DIR));
    const smoother = new VideoSmoother({ strength: 0.9, flowMaxSidePx: 0 });
    const before = tf.memory().numTensors;
    let freshChange = 0;
    let steadyChange = 0;
    let prevFresh: tf.Tensor4D | null = null;
    let prevSteady: tf.Tensor4D | null = null;
    const frames = 8;
    for (let k = 0; k < frames; k++) {
      // Sensor noise, σ 0.03, different every frame: the scene does not move.
      const frame = tf.tidy(() =>
        tf.clipByValue(tf.add(photo, tf.randomNormal(photo.shape, 0, 0.03, 'float32', 100 + k)), 0, 1),
      ) as tf.Tensor4D;
      smoother.prepare(frame);
      const fresh = masker.personMask(frame);
      const steady = smoother.smoothMask(fresh);
      tf.dispose(smoother.blend(frame));
      if (prevFresh && prevSteady) {
        freshChange += tf.tidy(() => tf.mean(tf.abs(tf.sub(fresh, prevFresh as tf.Tensor4D))).dataSync()[0] as number);
        steadyChange += tf.tidy(() => tf.mean(tf.abs(tf.sub(steady, prevSteady as tf.Tensor4D))).dataSync()[0] as number);
      }
      tf.dispose([frame, prevFresh, prevSteady].filter((t): t is tf.Tensor4D => t !== null));
      prevFresh = fresh;
      prevSteady = steady;
    }
    tf.dispose([prevFresh, prevSteady].filter((t): t is tf.Tensor4D => t !== null));
    smoother.dispose();
    console.log(
      `mask change per frame: fresh ${(freshChange / (frames - 1)).toFixed(5)}, steadied ${(steadyChange / (frames - 1)).toFixed(5)}`,
    );
    expect(freshChange).toBeGreaterThan(0);
    expect(steadyChange).toBeLessThan(0.6 * freshChange);
    expect(tf.memory().numTensors).toBe(before);
    masker.dispose();
    photo.dispose();
  });

  it('video frames with a subject leak nothing and keep the person', async () => {
    const photo = await readImageFile(path.join(CONTENT, 'brad_pitt.jpg'), 96);
    const input = tf.tidy(() => tf.squeeze<tf.Tensor3D>(toImageBatch(photo), [0]));
    const s = await Stylizer.create({ backend: 'wasm', preset: 'realtime', subject: 'background' });
    try {
      await s.setStyles([{ image: style }]);
      // Two frames in, the smoother holds its whole state (previous frame, output, mask, tracking).
      tf.dispose(await s.stylizeVideoFrame(input, 0));
      tf.dispose(await s.stylizeVideoFrame(input, 20));
      const before = tf.memory().numTensors;
      const outs: tf.Tensor3D[] = [];
      for (let k = 1; k < 4; k++) outs.push(await s.stylizeVideoFrame(input, 40 * k));
      tf.dispose(outs);
      expect(tf.memory().numTensors).toBe(before);
      await s.setOptions({ temporalStrength: 0 });
      tf.dispose(await s.stylizeVideoFrame(input, 200));
      expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
    } finally {
      s.dispose();
      input.dispose();
    }
  });

  it('with an internal resolution, the kept pixels line up with what the stylised output shows', async () => {
    // 200x200 stylised at 120 px: the encoders crop 120 to 112 (a multiple of 16), and that crop is scaled to
    // the 192 px output, so the output shows 112 / 120 * 200 = 186.7 px of the input, not its top-left 192.
    const photo = await readImageFile(path.join(CONTENT, 'brad_pitt.jpg'), 200);
    const input = tf.tidy(() => tf.squeeze<tf.Tensor3D>(toImageBatch(photo), [0]));
    const s = await Stylizer.create({ backend: 'wasm', levels: [5], processingMaxSidePx: 120, subject: 'background' });
    try {
      await s.setStyles([{ image: style }]);
      const out = await s.stylize(input);
      expect(out.shape).toEqual([192, 192, 3]);
      const shown = tf.tidy(() => tf.image.resizeBilinear(tf.slice(input, [0, 0, 0], [187, 187, 3]), [192, 192], false, true));
      const naive = tf.slice(input, [0, 0, 0], [192, 192, 3]);
      const masker = (s as unknown as { masker: SubjectMasker }).masker;
      const mask = tf.tidy(() => masker.personMask(tf.expandDims<tf.Tensor4D>(shown, 0)).dataSync() as Float32Array);
      const isPerson = (m: number): boolean => m > 0.95;
      const aligned = meanDiffWhere(out, shown, mask, isPerson);
      const topLeft = meanDiffWhere(out, naive, mask, isPerson);
      console.log(
        `internal resolution: person region vs the depicted input ${aligned.toFixed(4)}, vs the top-left crop ${topLeft.toFixed(4)}`,
      );
      expect(aligned).toBeLessThan(0.01);
      expect(topLeft).toBeGreaterThan(3 * aligned);
      tf.dispose([out, shown, naive]);
    } finally {
      s.dispose();
      input.dispose();
    }
  });

  it('setOptions: the latest call wins while the segmentation model loads; a failed subject changes nothing, the model included', async () => {
    const real = fileModelSource(SEGMENTATION_MODEL_DIR);
    const slow: ByteSource = async (rel, signal) => {
      await new Promise((r) => setTimeout(r, 300));
      return real(rel, signal);
    };
    const make = (source: ByteSource): Promise<Stylizer> =>
      Stylizer.create({
        backend: 'wasm',
        preset: 'realtime',
        modelSource: (f) => (f === SEGMENTATION_MODEL_DIR ? source : fileModelSource(f)),
      });
    const s = await make(slow);
    try {
      // A slow subject change, then a quick alpha change: both apply.
      await Promise.all([s.setOptions({ subject: 'person' }), s.setOptions({ alpha: 0.3 })]);
      expect([s.getOptions().subject, s.getOptions().alpha]).toEqual(['person', 0.3]);
    } finally {
      s.dispose();
    }
    const t = await make(slow);
    try {
      // A slow 'background', then 'all': the later call's subject stays.
      await Promise.all([t.setOptions({ subject: 'background' }), t.setOptions({ subject: 'all' })]);
      expect(t.getOptions().subject).toBe('all');
    } finally {
      t.dispose();
    }
    const u = await make(() => Promise.reject(new Error('selfie/manifest.json: cannot read (ENOENT)')));
    try {
      const error = await u.setOptions({ model: 'vgg19', subject: 'person' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SegmentationUnavailableError);
      expect(u.getOptions().model).toBe('cd16x');
      expect((u as unknown as { model: { id: string } }).model.id).toBe('cd16x');
    } finally {
      u.dispose();
    }
  });

  it('setOptions calls take effect in call order: the options always name the model that is loaded', async () => {
    const loaded = (s: Stylizer): string => (s as unknown as { model: { id: string } }).model.id;
    let failVgg = true;
    const flaky = (folder: Parameters<typeof fileModelSource>[0]): ByteSource => {
      const real = fileModelSource(folder);
      return async (rel, signal) => {
        if (folder === 'vgg19' && failVgg) {
          failVgg = false;
          throw new Error('vgg19/manifest.json: network down');
        }
        await new Promise((r) => setTimeout(r, 100));
        return real(rel, signal);
      };
    };
    const s = await Stylizer.create({ backend: 'wasm', modelSource: flaky });
    try {
      // A failed load, then the same request again: it loads (the failure is not taken for a load in flight).
      await expect(s.setOptions({ model: 'vgg19' })).rejects.toThrow(/network down/);
      expect([s.getOptions().model, loaded(s)]).toEqual(['cd16x', 'cd16x']);
      await s.setOptions({ model: 'vgg19' });
      expect([s.getOptions().model, loaded(s)]).toEqual(['vgg19', 'vgg19']);
      // In call order, each judged against what the calls before it leave: level 5 is valid once cd16x is
      // back, vgg19 is then refused (it has no level 5), and the options keep naming the loaded model.
      const calls = [
        s.setOptions({ model: 'cd16x' }),
        s.setOptions({ levels: [5] }),
        s.setOptions({ model: 'vgg19' }),
        s.setOptions({ alpha: 0.4 }),
      ];
      const results = await Promise.allSettled(calls);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/level 5 is not available in vgg19/);
      expect([s.getOptions().model, loaded(s), s.getOptions().levels, s.getOptions().alpha]).toEqual(['cd16x', 'cd16x', [5], 0.4]);
      // A different model while one loads: the stale load is dropped; the options name what is loaded.
      const stale = s.setOptions({ model: 'vgg19', levels: undefined });
      await new Promise((r) => setTimeout(r, 20));
      await s.setOptions({ model: 'cd16x' });
      await stale.catch(() => undefined);
      expect(s.getOptions().model).toBe(loaded(s));
    } finally {
      s.dispose();
    }
  });

  it('a missing or damaged segmentation model: one clear error, options as they were, stylising goes on', async () => {
    const input = tf.tidy(() => tf.fill<tf.Rank.R3>([64, 64, 3], 0.5));
    const real = fileModelSource(SEGMENTATION_MODEL_DIR);
    const sources: Record<string, ByteSource> = {
      missing: () => Promise.reject(new Error('selfie/manifest.json: cannot read (ENOENT)')),
      damaged: async (rel, signal) => {
        const bytes = await real(rel, signal);
        if (rel === SELFIE_SEGMENTATION.file) bytes[1000] = (bytes[1000] as number) ^ 0xff;
        return bytes;
      },
    };
    for (const [what, source] of Object.entries(sources)) {
      const s = await Stylizer.create({
        backend: 'wasm',
        preset: 'realtime',
        modelSource: (folder) => (folder === SEGMENTATION_MODEL_DIR ? source : fileModelSource(folder)),
      });
      try {
        await s.setStyles([{ image: style }]);
        const error = await s.setOptions({ subject: 'background', alpha: 0.5 }).catch((e: unknown) => e);
        expect(error, what).toBeInstanceOf(SegmentationUnavailableError);
        expect((error as Error).message, what).toMatch(
          what === 'missing' ? /subject "background" needs .*ENOENT/ : /sha256 .* does not match the manifest/,
        );
        expect(s.getOptions().subject).toBe('all');
        expect(s.getOptions().alpha).toBe(1);
        tf.dispose(await s.stylize(input));
      } finally {
        s.dispose();
      }
    }
    input.dispose();
  });
});
