import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeWasm } from '../../packages/core/src/backend/node-wasm.js';
import { Stylizer, AbortError } from '../../packages/core/src/pipeline/stylizer.js';
import { OptionsError, resolveOptions } from '../../packages/core/src/pipeline/options.js';
import { InputError } from '../../packages/core/src/pipeline/input.js';
import { readTorchCheckpoint } from '../../packages/core/src/weights/torch-checkpoint.js';
import { RAW_MODELS, fixtureBatch } from '../helpers.js';
import { writeTorchZip } from '../torch-zip.js';

let content: tf.Tensor3D;
let styleA: tf.Tensor3D;
let styleB: tf.Tensor3D;

beforeAll(async () => {
  await initNodeWasm();
  const c = fixtureBatch('content_96x128');
  const s = fixtureBatch('style_96x128');
  content = tf.squeeze<tf.Tensor3D>(c, [0]);
  styleA = tf.squeeze<tf.Tensor3D>(s, [0]);
  // A second style: the content photo upside down, a clearly different set of statistics.
  styleB = tf.reverse(content, 0);
  tf.dispose([c, s]);
});
afterAll(() => tf.dispose([content, styleA, styleB]));

const mse = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.mean(tf.squaredDifference(a, b)).dataSync()[0] ?? NaN);

async function styled(options: Parameters<typeof Stylizer.create>[0], styles: Parameters<Stylizer['setStyles']>[0]): Promise<tf.Tensor3D> {
  const s = await Stylizer.create({ backend: 'wasm', ...options });
  await s.setStyles(styles);
  const out = await s.stylize(content);
  s.dispose();
  return out;
}

describe('Stylizer API', () => {
  it('create → setStyles → stylize → dispose leaves no tensor behind', async () => {
    await Stylizer.create({ backend: 'wasm' }).then((s) => s.dispose()); // backend warm-up
    const before = tf.memory().numTensors;
    const s = await Stylizer.create({ backend: 'wasm', levels: [3, 1] });
    expect(s.backend).toBe('wasm');
    await s.setStyles([{ image: styleA }]);
    await s.setStyles([{ image: styleA, weight: 2 }, { image: styleB }]); // replaces: frees the old style images
    const out = await s.stylize(content);
    expect(out.shape).toEqual([96, 128, 3]);
    const min = tf.tidy(() => tf.min(out).dataSync()[0]!);
    const max = tf.tidy(() => tf.max(out).dataSync()[0]!);
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThanOrEqual(1);
    out.dispose();
    await s.setOptions({ method: 'adain', alpha: 0.5, preserveColor: true, levels: [2] });
    (await s.stylizeVideoFrame(content, 0)).dispose();
    (await s.stylizeVideoFrame(content, 33)).dispose();
    await s.setOptions({ preset: 'realtime', processingMaxSidePx: 64 });
    (await s.stylizeVideoFrame(content, 66)).dispose();
    (await s.stylizeVideoFrame(content, 99)).dispose();
    expect(await s.videoFrameInfo()).toMatchObject({ sceneCut: false });
    s.reset();
    s.dispose();
    s.dispose(); // idempotent
    expect(tf.memory().numTensors).toBe(before);
    expect(content.isDisposed).toBe(false); // never disposes the caller's input
  });

  it('blend weights: [1, 0] equals the first style alone, and setStyleWeights needs no re-encoding', async () => {
    const only = await styled({ levels: [4, 2] }, [{ image: styleA }]);
    const s = await Stylizer.create({ backend: 'wasm', levels: [4, 2] });
    await s.setStyles([
      { image: styleA, weight: 1 },
      { image: styleB, weight: 0 },
    ]);
    const blended = await s.stylize(content);
    expect(mse(only, blended)).toBeLessThan(1e-10);
    const before = tf.memory().numTensors;
    s.setStyleWeights([0.5, 0.5]);
    const half = await s.stylize(content);
    expect(mse(half, only)).toBeGreaterThan(1e-4);
    half.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([only, blended]);
    s.dispose();
  });

  it('alpha 0 keeps the content far closer than alpha 1', async () => {
    const a0 = await styled({ levels: [3], alpha: 0 }, [{ image: styleA }]);
    const a1 = await styled({ levels: [3], alpha: 1 }, [{ image: styleA }]);
    expect(mse(a0, content)).toBeLessThan(mse(a1, content) / 4);
    tf.dispose([a0, a1]);
  });

  it("preserveColor keeps the content's chrominance (YIQ I and Q)", async () => {
    const plain = await styled({ levels: [3, 1] }, [{ image: styleA }]);
    const kept = await styled({ levels: [3, 1], preserveColor: true }, [{ image: styleA }]);
    const iq = (x: tf.Tensor3D): tf.Tensor =>
      tf.matMul(
        tf.reshape(x, [-1, 3]),
        tf.tensor2d([
          [0.595716, -0.274453, -0.321263],
          [0.211456, -0.522591, 0.311135],
        ]),
        false,
        true,
      );
    const ePlain = tf.tidy(() => mse(iq(plain), iq(content)));
    const eKept = tf.tidy(() => mse(iq(kept), iq(content)));
    expect(eKept).toBeLessThan(1e-3);
    expect(eKept).toBeLessThan(ePlain / 5);
    tf.dispose([plain, kept]);
  });

  it("wctWhitening 'newton-schulz' (no readback) stays close to the exact cascade", async () => {
    const exact = await styled({}, [{ image: styleA }, { image: styleB, weight: 0.5 }]);
    const iterative = await styled({ wctWhitening: 'newton-schulz' }, [{ image: styleA }, { image: styleB, weight: 0.5 }]);
    const e = mse(exact, iterative);
    console.log(`newton-schulz vs eigen, five-level cascade, 96x128: mse ${e.toExponential(2)}`);
    expect(e).toBeLessThan(1e-5);
    tf.dispose([exact, iterative]);
  });

  it('processingMaxSidePx stylises a scaled-down copy and returns the input size', async () => {
    const full = await styled({ levels: [3, 2, 1] }, [{ image: styleA }]);
    const reduced = await styled({ levels: [3, 2, 1], processingMaxSidePx: 64 }, [{ image: styleA }]);
    expect(reduced.shape).toEqual([96, 128, 3]);
    const s = await Stylizer.create({ backend: 'wasm', levels: [3, 2, 1], processingMaxSidePx: 64 });
    await s.setStyles([{ image: styleA }]);
    (await s.stylize(content)).dispose();
    expect(s.lastTimings?.perLevel).toHaveLength(3);
    // wasm runs each kernel when it is called: the timings are completed work, the stages within the total.
    const t = s.lastTimings!;
    expect(t.completed).toBe(true);
    expect(t.encodeMs + t.transformMs + t.decodeMs).toBeLessThanOrEqual(t.totalMs);
    s.dispose();
    const e = mse(full, reduced);
    expect(e).toBeGreaterThan(1e-5); // really ran at another resolution
    expect(e).toBeLessThan(mse(full, content)); // and is still the same stylisation, only softer
    tf.dispose([full, reduced]);
  });

  it('video resets happen in frame order: frames issued without awaiting equal frames awaited one by one', async () => {
    const before = tf.memory().numTensors;
    const s = await Stylizer.create({ backend: 'wasm', preset: 'realtime' });
    await s.setStyles([{ image: styleA }]);
    const moved = tf.tidy(() => tf.concat([tf.slice(content, [0, 4, 0], [-1, -1, -1]), tf.slice(content, [0, 0, 0], [-1, 4, -1])], 1));
    // Issue 19's repro: a 5 s gap before the third frame must start afresh however the calls are issued.
    const timeline: Array<[tf.Tensor3D, number]> = [
      [content, 0],
      [moved, 33],
      [content, 5033],
    ];
    const oneByOne: Float32Array[] = [];
    for (const [f, t] of timeline) {
      const out = await s.stylizeVideoFrame(f, t);
      oneByOne.push((await out.data()) as Float32Array);
      out.dispose();
    }
    const infoOneByOne = await s.videoFrameInfo();
    expect(infoOneByOne).toMatchObject({ sceneCut: true });
    s.reset();
    const outs = await Promise.all(timeline.map(([f, t]) => s.stylizeVideoFrame(f, t)));
    expect(await s.videoFrameInfo()).toEqual(infoOneByOne);
    for (let i = 0; i < outs.length; i++) expect(await outs[i]!.data()).toEqual(oneByOne[i]);
    tf.dispose(outs);
    // A reset() while a frame is in flight (between tracking and blending) lets it finish, and the
    // next frame starts afresh: the same output as the very first frame of the clip.
    const inFlight = s.stylizeVideoFrame(moved, 100);
    s.reset();
    const next = s.stylizeVideoFrame(content, 133);
    (await inFlight).dispose();
    const fresh = await next;
    expect(await fresh.data()).toEqual(oneByOne[0]);
    fresh.dispose();
    s.dispose();
    moved.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('targetFps (adaptive mode) lowers the internal resolution of video frames, never the output size', async () => {
    // A fake clock, so the test does not depend on this machine's speed: every reading is 10 ms
    // after the last, so a frame "takes" >= 10 ms (over 240 fps's 4.2 ms budget) and far below 1 fps's 1 s.
    let fakeMs = 0;
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => (fakeMs += 10));
    onTestFinished(() => clock.mockRestore());
    const s = await Stylizer.create({ backend: 'wasm', levels: [2, 1], targetFps: 240 });
    await s.setStyles([{ image: styleA }]);
    expect(s.adaptiveScale).toBe(1);
    for (let i = 0; i < 40; i++) {
      const out = await s.stylizeVideoFrame(content, i * 33);
      expect(out.shape).toEqual([96, 128, 3]);
      out.dispose();
    }
    expect(s.adaptiveScale).toBeLessThanOrEqual(0.5);
    await s.setOptions({ targetFps: 1 }); // a second per frame: all the room it needs
    for (let i = 40; i < 60; i++) (await s.stylizeVideoFrame(content, i * 33)).dispose();
    expect(s.adaptiveScale).toBe(1);
    await s.setOptions({ targetFps: 0 });
    expect(s.adaptiveScale).toBe(1);
    s.dispose();
    expect(() => resolveOptions({ targetFps: -1 })).toThrow('targetFps must be 0 (off) or a number in (0, 240] (got -1)');
  });

  it("statisticsPrecision 'float32' (backend statistics) stays close to the exact float64 path", async () => {
    const exact = await styled({ levels: [3, 2, 1] }, [{ image: styleA }]);
    const fast = await styled({ levels: [3, 2, 1], statisticsPrecision: 'float32' }, [{ image: styleA }]);
    expect(mse(exact, fast)).toBeLessThan(1e-5);
    tf.dispose([exact, fast]);
  });

  it('runs AdaIN and the vgg19 model', async () => {
    const a = await styled({ method: 'adain', levels: [5, 4, 3, 2, 1] }, [{ image: styleA }]);
    const v = await styled({ model: 'vgg19' }, [{ image: styleA }]);
    expect(a.shape).toEqual([96, 128, 3]);
    expect(v.shape).toEqual([96, 128, 3]);
    expect(mse(a, content)).toBeGreaterThan(1e-3);
    expect(mse(v, content)).toBeGreaterThan(1e-3);
    tf.dispose([a, v]);
  });

  it('latest setStyles call wins; the superseded one rejects and frees its tensors', async () => {
    const s = await Stylizer.create({ backend: 'wasm', levels: [2, 1] });
    await s.setStyles([{ image: styleB }]);
    const before = tf.memory().numTensors;
    const first = s.setStyles([{ image: styleB }, { image: styleB }]);
    const second = s.setStyles([{ image: styleA }]);
    await expect(first).rejects.toBeInstanceOf(AbortError);
    await second;
    expect(tf.memory().numTensors).toBe(before); // one style image, as before
    const out = await s.stylize(content);
    const expected = await styled({ levels: [2, 1] }, [{ image: styleA }]);
    expect(mse(out, expected)).toBeLessThan(1e-10);
    tf.dispose([out, expected]);
    s.dispose();
  });

  it('a user decoder checkpoint (zip format) replaces the decoder of the level it fits', async () => {
    const legacy = readTorchCheckpoint(new Uint8Array(readFileSync(path.join(RAW_MODELS, 'cd16x', '2SD.pth'))));
    const builtIn = await styled({ levels: [2] }, [{ image: styleA }]);
    const same = await styled({ levels: [2], decoderCheckpoints: [writeTorchZip(legacy)] }, [{ image: styleA }]);
    expect(mse(builtIn, same)).toBeLessThan(1e-12);
    // A decoder whose weights are halved must change the output: the override really is used.
    const halved = new Map([...legacy].map(([k, v]) => [k, { shape: v.shape, data: v.data.map((x) => x / 2) }]));
    const other = await styled({ levels: [2], decoderCheckpoints: [writeTorchZip(halved)] }, [{ image: styleA }]);
    expect(mse(builtIn, other)).toBeGreaterThan(1e-4);
    tf.dispose([builtIn, same, other]);
    await expect(Stylizer.create({ backend: 'wasm', decoderCheckpoints: [new Uint8Array([1, 2, 3, 4, 5])] })).rejects.toThrow(
      /decoder checkpoint 1: not a PyTorch checkpoint/,
    );
  });
});

describe('Stylizer errors', () => {
  it('validates options with messages naming the option', () => {
    expect(() => resolveOptions({ alpha: 1.5 })).toThrow('alpha must be a number in [0, 1] (got 1.5)');
    expect(() => resolveOptions({ method: 'gram' as 'wct' })).toThrow('method must be "wct" or "adain"');
    expect(() => resolveOptions({ model: 'vgg19', levels: [4] })).toThrow('level 4 is not available in vgg19 (levels 1, 2, 3)');
    expect(() => resolveOptions({ levels: [2, 2] })).toThrow('level 2 is listed twice');
    expect(() => resolveOptions({ colour: true } as never)).toThrow('unknown option "colour"');
    expect(() => resolveOptions({ preset: 'fast' as 'best' })).toThrow('preset must be one of realtime, balanced, best (got "fast")');
    expect(() => resolveOptions({ wctWhitening: 'svd' as 'eigen' })).toThrow('wctWhitening must be "eigen" or "newton-schulz" (got "svd")');
    expect(() => resolveOptions({ processingMaxSidePx: 16 })).toThrow('processingMaxSidePx must be 0 or an integer in [32, 8192] (got 16)');
  });

  it('presets set method, levels and whitening; fields given in the same call win; vgg19 stops at level 3', () => {
    expect(resolveOptions({ preset: 'realtime' })).toMatchObject({
      preset: 'realtime',
      method: 'wct',
      levels: [4],
      wctWhitening: 'newton-schulz',
    });
    expect(resolveOptions({ preset: 'balanced' })).toMatchObject({ levels: [4, 3, 2, 1], wctWhitening: 'newton-schulz' });
    expect(resolveOptions({ preset: 'best' })).toMatchObject({ levels: null, wctWhitening: 'eigen', statisticsPrecision: 'float64' });
    expect(resolveOptions({ preset: 'realtime', levels: [3] })).toMatchObject({ levels: [3], wctWhitening: 'newton-schulz' });
    expect(resolveOptions({ preset: 'realtime', model: 'vgg19' })).toMatchObject({ levels: [3] });
    expect(resolveOptions({ preset: 'balanced', model: 'vgg19' })).toMatchObject({ levels: [3, 2, 1] });
    // A later preset replaces the earlier one's fields; other options stay.
    const realtime = resolveOptions({ preset: 'realtime', alpha: 0.5 });
    expect(resolveOptions({ preset: 'best' }, realtime)).toMatchObject({ levels: null, wctWhitening: 'eigen', alpha: 0.5 });
  });

  it('presets and explicit options combine predictably (issue 19 traps)', () => {
    // The preset stays in force across a model change: its levels are re-derived for the new model.
    const realtime = resolveOptions({ preset: 'realtime' });
    expect(resolveOptions({ model: 'vgg19' }, realtime)).toMatchObject({ model: 'vgg19', preset: 'realtime', levels: [3] });
    expect(resolveOptions({ model: 'cd16x' }, resolveOptions({ model: 'vgg19' }, realtime))).toMatchObject({ levels: [4] });
    // ... but a level chosen explicitly is the user's and stays (and is refused where it cannot be).
    const chosen = resolveOptions({ levels: [2] }, realtime);
    expect(resolveOptions({ model: 'vgg19' }, chosen)).toMatchObject({ levels: [2], wctWhitening: 'newton-schulz' });
    expect(() => resolveOptions({ model: 'vgg19' }, resolveOptions({ levels: [5] }, realtime))).toThrow(
      'level 5 is not available in vgg19',
    );
    // A later preset keeps what the user chose explicitly, before or after the first preset.
    const sized = resolveOptions({ preset: 'realtime', processingMaxSidePx: 512 });
    expect(resolveOptions({ preset: 'balanced' }, sized)).toMatchObject({ processingMaxSidePx: 512, levels: [4, 3, 2, 1] });
    const sizedFirst = resolveOptions({ processingMaxSidePx: 384 });
    expect(resolveOptions({ preset: 'best' }, sizedFirst)).toMatchObject({ processingMaxSidePx: 384, levels: null });
    expect(resolveOptions({ preset: 'best', processingMaxSidePx: 0 }, sized)).toMatchObject({ processingMaxSidePx: 0 });
    // undefined restores the default: the option's own, or the active preset's for a preset field.
    const custom = resolveOptions({ alpha: 0.3, levels: [2], processingMaxSidePx: 256 }, realtime);
    expect(resolveOptions({ alpha: undefined }, custom).alpha).toBe(1);
    expect(resolveOptions({ levels: undefined, processingMaxSidePx: undefined }, custom)).toMatchObject({
      levels: [4],
      processingMaxSidePx: 0,
    });
    expect(resolveOptions({ levels: undefined }, resolveOptions({ levels: [2] }))).toMatchObject({ levels: null });
    expect(resolveOptions({ preset: undefined }, realtime)).toMatchObject({ preset: null, levels: null });
    expect(resolveOptions({ alpha: undefined, preset: 'best' }, custom)).toMatchObject({ alpha: 1, levels: [2] });
    // Clearing the preset returns its untouched fields to the defaults: a later preset then applies whole,
    // and a model switch keeps no level of the old preset.
    const cleared = resolveOptions({ preset: null }, realtime);
    expect(cleared).toMatchObject({ preset: null, levels: null, wctWhitening: 'eigen' });
    expect(resolveOptions({ preset: 'best' }, cleared)).toMatchObject({ levels: null, wctWhitening: 'eigen' });
    expect(resolveOptions({ preset: null, model: 'vgg19' }, realtime)).toMatchObject({ model: 'vgg19', levels: null });
    expect(resolveOptions({ preset: null }, custom)).toMatchObject({ levels: [2], processingMaxSidePx: 256 }); // the user's stay
  });

  it('refuses bad calls with clear messages', async () => {
    const s = await Stylizer.create({ backend: 'wasm' });
    await expect(s.stylize(content)).rejects.toThrow('no styles set: call setStyles() first');
    await expect(s.setStyles([])).rejects.toThrow('setStyles needs at least one style');
    await expect(s.setStyles([{ image: styleA, weight: -1 }])).rejects.toThrow('style 1: weight must be a finite number >= 0');
    await expect(s.setStyles([{ image: styleA, weight: 0 }])).rejects.toThrow('style weights must not all be zero');
    await expect(s.setStyles([{ image: tf.zeros([4, 4]) as never }])).rejects.toThrow(InputError);
    await expect(s.setStyles([null as never])).rejects.toThrow('style 1: expected { image, weight? } (got null)');
    await expect(s.setStyles([{ image: styleA, weight: '0.5' as never }])).rejects.toThrow(
      'style 1: weight must be a number (got the string "0.5")',
    );
    const tinyStyle = tf.zeros<tf.Rank.R3>([16, 16, 3]);
    await expect(s.setStyles([{ image: styleA }, { image: tinyStyle }])).rejects.toThrow(
      'style 2 is 16x16: level 5 needs at least 32x32 pixels',
    );
    tinyStyle.dispose();
    await s.setStyles([{ image: styleA }]);
    const tiny = tf.zeros<tf.Rank.R3>([16, 64, 3]);
    await expect(s.stylize(tiny)).rejects.toThrow('content is 64x16: level 5 needs at least 32x32 pixels');
    tiny.dispose();
    await expect(s.stylizeVideoFrame(content, Number.NaN)).rejects.toThrow('timestampMs must be a finite number');
    await expect(s.setOptions({ backend: 'cpu' })).rejects.toThrow(OptionsError);
    s.dispose();
    expect(() => s.stylize(content)).toThrow('Stylizer is disposed');
  });

  it('dispose() lets video frames issued before it finish, then frees everything (issue 21 item 16)', async () => {
    const start = tf.memory().numTensors;
    const s = await Stylizer.create({ backend: 'wasm', preset: 'realtime' });
    await s.setStyles([{ image: styleA }]);
    const frames = [0, 40, 80].map((t) => s.stylizeVideoFrame(content, t)); // queued, not awaited
    s.dispose();
    const outs = await Promise.all(frames);
    expect(outs.map((o) => o.shape)).toEqual([
      [96, 128, 3],
      [96, 128, 3],
      [96, 128, 3],
    ]);
    tf.dispose(outs);
    await new Promise((r) => setTimeout(r, 0)); // dispose's deferred free runs after the calls settle
    expect(tf.memory().numTensors).toBe(start);
    expect(() => s.stylizeVideoFrame(content, 120)).toThrow('Stylizer is disposed');
  });

  it('a NaN frame does not poison the video state: it is read as zeros (issue 21 item 13)', async () => {
    const run = async (bad: tf.Tensor3D): Promise<number[]> => {
      const s = await Stylizer.create({ backend: 'wasm', preset: 'realtime' });
      await s.setStyles([{ image: styleA }]);
      const means: number[] = [];
      for (const [i, frame] of [content, bad, content, content].entries()) {
        const out = await s.stylizeVideoFrame(frame, i * 40);
        means.push(tf.tidy(() => tf.mean(out).dataSync()[0] ?? NaN));
        out.dispose();
      }
      s.dispose();
      return means;
    };
    const nan = tf.fill<tf.Rank.R3>([96, 128, 3], Number.NaN);
    const zeros = tf.zeros<tf.Rank.R3>([96, 128, 3]);
    const withNan = await run(nan);
    const withZeros = await run(zeros);
    tf.dispose([nan, zeros]);
    expect(withNan.every(Number.isFinite)).toBe(true);
    expect(withNan).toEqual(withZeros);
    expect(withNan[2]!).toBeGreaterThan(0.5 * withNan[0]!); // the frames after it are not black
    expect(withNan[3]!).toBeGreaterThan(0.5 * withNan[0]!);
  });

  it('accepts RGBA ImageData-like pixels and int32 tensors', async () => {
    const s = await Stylizer.create({ backend: 'wasm', levels: [1] });
    await s.setStyles([{ image: styleA }]);
    const rgba = tf.tidy(() => tf.concat([tf.mul(content, 255), tf.fill([96, 128, 1], 255)], 2));
    const data = Uint8ClampedArray.from(rgba.dataSync().map(Math.round));
    const fromPixels = await s.stylize({ width: 128, height: 96, data });
    const asInt = tf.tidy(() => tf.cast(tf.round(tf.mul(content, 255)), 'int32')) as tf.Tensor3D;
    const fromInt = await s.stylize(asInt);
    expect(mse(fromPixels, fromInt)).toBeLessThan(1e-12);
    tf.dispose([rgba, fromPixels, asInt, fromInt]);
    s.dispose();
  });
});
