// WebGPU in Node (Dawn through the optional `webgpu` package) against multi-threaded WASM, on
// whatever adapter this machine has: Mesa's lavapipe in CI (a software Vulkan driver, slow but the
// same code path a hardware GPU runs). `.ci/run` sets LIVESTYLE_REQUIRE_WEBGPU=1, so there a missing
// adapter fails the run instead of skipping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { Stylizer } from '../../packages/core/src/pipeline/stylizer.js';
import { PRESETS, type Preset } from '../../packages/core/src/pipeline/presets.js';
import { initNodeWasm } from '../../packages/core/src/backend/node-wasm.js';
import {
  probeNodeWebGpu,
  releaseNodeWebGpu,
  isSoftwareAdapter,
  type GpuAdapterDescription,
} from '../../packages/core/src/backend/node-webgpu.js';
import { readImageFile } from '../../packages/core/src/io/node-image.js';
import { inverseSqrtNewtonSchulz } from '../../packages/core/src/transforms/matrix-sqrt.js';
import { maxTensorBytes } from '../../packages/core/src/backend/precision.js';
import { estimateFlow } from '../../packages/core/src/temporal/flow.js';
import { warpCubic } from '../../packages/core/src/temporal/warp.js';
import { warpCubicInto } from '../../packages/core/src/temporal/warp-kernels-cpu.js';
import { toImageBatch, type PixelsLike } from '../../packages/core/src/pipeline/input.js';
import { GpuCounters, type GpuCounts } from '../../packages/core/src/backend/gpu-counters.js';
import { MAX_CACHED_CONSTANTS, cachedConstantCount, constant } from '../../packages/core/src/backend/constants.js';
import { HALF_CONV_KERNEL, PACK_HALF_FILTER_KERNEL } from '../../packages/core/src/nets/network-half.js';
import { hasF16Shaders } from '../../packages/core/src/backend/webgpu-program.js';
import { GpuPassTimer } from '../../packages/core/src/backend/gpu-counters.js';
import { REPO_ROOT, SHARED, countVideoFrames } from '../helpers.js';

const run = promisify(execFile);
const BIN = path.join(REPO_ROOT, 'packages', 'cli', 'bin', 'livestyle.js');
const CONTENT = path.join(SHARED, 'data', 'content', 'golden_gate.jpg');
const STYLE = path.join(SHARED, 'data', 'style', 'starry_night.jpg');

let adapter: GpuAdapterDescription | null = null;
let unavailable = '';
try {
  adapter = await probeNodeWebGpu();
} catch (e) {
  unavailable = (e as Error).message;
}
releaseNodeWebGpu();
if (!adapter) {
  if (process.env.LIVESTYLE_REQUIRE_WEBGPU === '1') throw new Error(`WebGPU in Node is required here but unavailable: ${unavailable}`);
  console.warn(`skipping the Node WebGPU tests: ${unavailable}`);
}

function psnrDb(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  return 10 * Math.log10(1 / Math.max(se / a.length, 1e-20));
}

/** Three frames of a pan: the same photo shifted right by 0, 3 and 6 px. */
function panFrames(photo: PixelsLike, width: number): PixelsLike[] {
  const frames: PixelsLike[] = [];
  const ch = photo.data.length / (photo.width * photo.height);
  for (const dx of [0, 3, 6]) {
    const data = new Uint8Array(width * photo.height * 3);
    for (let y = 0; y < photo.height; y++)
      for (let x = 0; x < width; x++)
        for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = photo.data[(y * photo.width + x + dx) * ch + c]!;
    frames.push({ width, height: photo.height, data });
  }
  return frames;
}

interface Outputs {
  image: Record<string, Float32Array>;
  video: Float32Array[];
}

/** Every preset's image output and a three-frame video (temporal on) on one backend. */
async function outputsOn(backend: 'wasm' | 'webgpu', content: PixelsLike, style: PixelsLike, frames: PixelsLike[]): Promise<Outputs> {
  const image: Record<string, Float32Array> = {};
  for (const preset of PRESETS) {
    const s = await Stylizer.create({ backend, preset });
    try {
      await s.setStyles([{ image: style }]);
      const out = await s.stylize(content);
      image[preset] = (await out.data()) as Float32Array;
      out.dispose();
    } finally {
      s.dispose();
    }
  }
  const video: Float32Array[] = [];
  const s = await Stylizer.create({ backend, preset: 'realtime' });
  try {
    await s.setStyles([{ image: style }]);
    for (let i = 0; i < frames.length; i++) {
      const out = await s.stylizeVideoFrame(frames[i]!, i * 40);
      video.push((await out.data()) as Float32Array);
      out.dispose();
    }
  } finally {
    s.dispose();
  }
  return { image, video };
}

describe.skipIf(!adapter)('WebGPU in Node (Dawn)', () => {
  let wasm: Outputs;
  let gpu: Outputs;
  let content: PixelsLike;
  let style: PixelsLike;
  let frames: PixelsLike[];

  beforeAll(async () => {
    content = await readImageFile(CONTENT, 64); // 64 x 85 → cropped to 64 x 80 by the 5-level cascade
    style = await readImageFile(STYLE, 64);
    frames = panFrames(await readImageFile(CONTENT, 64), 72);
    await initNodeWasm();
    wasm = await outputsOn('wasm', content, style, frames);
    gpu = await outputsOn('webgpu', content, style, frames);
  }, 600_000);
  afterAll(() => releaseNodeWebGpu());

  it('describes its adapter; lavapipe and SwiftShader count as software', () => {
    expect(adapter!.description.length + adapter!.device.length).toBeGreaterThan(0);
    expect(isSoftwareAdapter({ isFallbackAdapter: false, description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)' })).toBe(true);
    expect(isSoftwareAdapter({ architecture: 'swiftshader', description: 'SwiftShader device' })).toBe(true);
    expect(isSoftwareAdapter({ isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' })).toBe(false);
  });

  it.each([...PRESETS])('image mode, preset %s: webgpu matches wasm at >= 40 dB PSNR', (preset: Preset) => {
    const a = wasm.image[preset]!;
    const b = gpu.image[preset]!;
    expect(a.length).toBeGreaterThan(64 * 64 * 3 - 1);
    expect(b.every(Number.isFinite)).toBe(true);
    expect(psnrDb(a, b)).toBeGreaterThanOrEqual(40);
  });

  it('video mode with temporal smoothing: every frame matches wasm at >= 40 dB PSNR', () => {
    expect(gpu.video).toHaveLength(3);
    for (let i = 0; i < 3; i++) expect(psnrDb(wasm.video[i]!, gpu.video[i]!)).toBeGreaterThanOrEqual(40);
    // The frames really differ (the pan moved), so the comparison is not of three copies of one frame.
    expect(psnrDb(gpu.video[0]!, gpu.video[2]!)).toBeLessThan(30);
  });

  it('the one-dispatch Newton–Schulz kernel equals the composed ops on webgpu (dead channels included)', async () => {
    await Stylizer.create({ backend: 'webgpu', preset: 'realtime' }).then((s) => s.dispose());
    for (const c of [37, 128]) {
      // (dataSync needs OffscreenCanvas on webgpu: read back asynchronously.)
      const [f, o] = tf.tidy(() => {
        // A covariance with 10 dead channels, as the pruned encoders have.
        const x = tf.mul(tf.randomNormal([300, c], 0, 1, 'float32', c), tf.concat([tf.ones([1, c - 10]), tf.zeros([1, 10])], 1));
        const a = tf.div<tf.Tensor2D>(tf.matMul(x, x, true, false), 299);
        return [inverseSqrtNewtonSchulz(a), inverseSqrtNewtonSchulz(a, { fusedKernel: false })];
      });
      const fused = await f.data();
      const composed = await o.data();
      tf.dispose([f, o]);
      let scale = 0;
      for (const v of composed) scale = Math.max(scale, Math.abs(v));
      let maxDiff = 0;
      for (let i = 0; i < fused.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fused[i]! - composed[i]!));
      expect(maxDiff / scale).toBeLessThan(1e-5);
    }
  });

  it('frames uploaded as packed bytes become the same float RGB (RGB and RGBA, odd sizes)', async () => {
    for (const channels of [3, 4]) {
      const width = 7;
      const height = 5;
      const data = Uint8Array.from({ length: width * height * channels }, (_, i) => (i * 37 + 11) % 256);
      const t = toImageBatch({ width, height, data });
      expect(t.shape).toEqual([1, height, width, 3]);
      const got = await t.data();
      t.dispose();
      for (let p = 0; p < width * height; p++)
        for (let c = 0; c < 3; c++) expect(got[p * 3 + c]).toBeCloseTo(data[p * channels + c]! / 255, 7);
    }
  });

  it('the Catmull-Rom warp kernel on webgpu equals the reference loop (clamped samples included)', async () => {
    await Stylizer.create({ backend: 'webgpu', preset: 'realtime' }).then((s) => s.dispose());
    const [h, w, c] = [24, 32, 3];
    const pixels = Float32Array.from({ length: h * w * c }, (_, i) => ((i * 7919) % 1000) / 1000);
    const offsets = Float32Array.from({ length: h * w * 2 }, (_, i) => (((i * 104729) % 1300) - 650) / 100);
    const expected = new Float32Array(h * w * c);
    warpCubicInto(pixels, offsets, h, w, c, expected);
    const img = tf.tensor4d(pixels, [1, h, w, c]);
    const flow = tf.tensor4d(offsets, [1, h, w, 2]);
    const out = warpCubic(img, flow);
    const got = await out.data();
    tf.dispose([img, flow, out]);
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it('the one-dispatch TV-L1 level equals the composed ops on webgpu', async () => {
    const [a, b] = await Promise.all(
      ['frame_0002.png', 'frame_0003.png'].map((f) =>
        readImageFile(path.join(SHARED, 'data', 'flow', 'sintel_alley_1_f0002', 'clean', f), 48),
      ),
    );
    const ta = toImageBatch(a!);
    const tb = toImageBatch(b!);
    const fused = estimateFlow(ta, tb, { finestLevel: 0 });
    const composed = estimateFlow(ta, tb, { finestLevel: 0, fusedKernels: false });
    const f = await fused.data();
    const c = await composed.data();
    tf.dispose([ta, tb, fused, composed]);
    let maxDiff = 0;
    let sumDiff = 0;
    let maxFlow = 0;
    for (let i = 0; i < f.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(f[i]! - c[i]!));
      sumDiff += Math.abs(f[i]! - c[i]!);
      maxFlow = Math.max(maxFlow, Math.abs(c[i]!));
    }
    expect(maxFlow).toBeGreaterThan(0.5); // a real flow, not two zero fields
    expect(sumDiff / f.length).toBeLessThan(1e-4); // px
    expect(maxDiff).toBeLessThan(0.05); // px
  });

  it('per-frame GPU calls at 128 px stay within the dispatch budget (counted, machine-independent)', async () => {
    const counted = async (preset: Preset, video: boolean): Promise<GpuCounts> => {
      const s = await Stylizer.create({ backend: 'webgpu', preset });
      try {
        await s.setStyles([{ image: style }]);
        const one = async (i: number): Promise<void> =>
          (video ? await s.stylizeVideoFrame(frames[i % 3]!, i * 40) : await s.stylize(content)).dispose();
        for (let i = 0; i < 3; i++) await one(i); // warm-up: pipelines compiled, temporal state started
        const counters = GpuCounters.install();
        try {
          await one(3);
          return counters.snapshot();
        } finally {
          counters.uninstall();
        }
      } finally {
        s.dispose();
      }
    };
    const realtimeImage = await counted('realtime', false);
    const balancedImage = await counted('balanced', false);
    const realtimeVideo = await counted('realtime', true);
    // Issue 17's budget (set at 512 px; the counts barely depend on size): was 184, 649 and 1,300.
    expect(realtimeImage.dispatches).toBeLessThanOrEqual(80);
    expect(balancedImage.dispatches).toBeLessThanOrEqual(250);
    expect(realtimeVideo.dispatches).toBeLessThanOrEqual(400);
    for (const c of [realtimeImage, balancedImage, realtimeVideo]) {
      expect(c.pipelinesCreated).toBe(0);
      expect(c.readbacks).toBe(0);
      // No per-frame constants uploaded (each ended a compute pass): only the frame's own bytes.
      expect(c.uploads).toBe(1);
      expect(c.uploadBytes).toBeLessThanOrEqual(Math.ceil((Math.max(content.width * content.height, 72 * 64) * 3) / 4) * 4);
      expect(c.computePasses).toBeLessThanOrEqual(20);
      expect(c.dispatches).toBeGreaterThan(20); // counting works at all
    }
  });

  it('the fused half-precision conv equals mirror pad + conv + bias + ReLU (and the pool or upsample before it) within float16 rounding', async () => {
    await Stylizer.create({ backend: 'webgpu' }).then((s) => s.dispose()); // webgpu active
    expect(adapter!.features).toContain('shader-f16'); // Mesa 25 lavapipe has it: both arithmetic paths run here
    expect(hasF16Shaders((tf.backend() as unknown as { device: GPUDevice }).device)).toBe(true);
    const before = tf.memory().numTensors;
    const cases = [
      { kernel: 3, resample: 'none', cin: 8, cout: 16, relu: true },
      { kernel: 3, resample: 'pool', cin: 16, cout: 12, relu: true },
      { kernel: 3, resample: 'upsample', cin: 12, cout: 8, relu: true },
      { kernel: 3, resample: 'none', cin: 3, cout: 16, relu: true }, // float32 input of odd width
      { kernel: 3, resample: 'none', cin: 16, cout: 3, relu: false }, // float32 output of 3 channels
      { kernel: 1, resample: 'none', cin: 3, cout: 3, relu: false },
    ] as const;
    for (const f16Arithmetic of [true, false])
      for (const c of cases) {
        const measured = tf.tidy(() => {
          const [h, w] = [11, 14]; // odd sizes: the pool floors, the reflection reaches both edges
          const x = tf.randomUniform([1, h, w, c.cin], -2, 2, 'float32', 7);
          const filter = tf.randomNormal([c.kernel, c.kernel, c.cin, c.cout], 0, 0.3, 'float32', 8);
          const bias = tf.randomNormal([c.cout], 0, 0.5, 'float32', 9);
          // Inputs rounded to half floats first, so the reference sees what the kernel stores.
          const half = (t: tf.Tensor): tf.Tensor => tf.engine().runKernel<tf.Tensor>(PACK_HALF_FILTER_KERNEL, { filter: t }, {});
          expect(half(filter).dtype).toBe('int32');
          const resampled =
            c.resample === 'pool'
              ? tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')
              : c.resample === 'upsample'
                ? tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [2 * h, 2 * w])
                : x;
          const padded =
            c.kernel === 3
              ? tf.mirrorPad(
                  resampled,
                  [
                    [0, 0],
                    [1, 1],
                    [1, 1],
                    [0, 0],
                  ],
                  'reflect',
                )
              : resampled;
          const want = tf.fused.conv2d({
            x: padded as tf.Tensor4D,
            filter: filter as tf.Tensor4D,
            bias,
            strides: 1,
            pad: 'valid',
            activation: c.relu ? 'relu' : 'linear',
          });
          const got = tf.engine().runKernel<tf.Tensor>(
            HALF_CONV_KERNEL,
            { x, w: half(filter), b: bias },
            {
              kernel: c.kernel,
              relu: c.relu,
              resample: c.resample,
              inHalf: false,
              outHalf: false,
              inChannels: c.cin,
              outChannels: c.cout,
              f16Arithmetic,
            },
          );
          expect(got.shape).toEqual(want.shape);
          return tf.stack([tf.max(tf.abs(tf.sub(got, want))), tf.max(tf.abs(want))]);
        });
        const [worst, scale] = (await measured.data()) as Float32Array as unknown as [number, number];
        measured.dispose();
        // float16 keeps 11 significant bits (relative rounding 2^-11 ≈ 4.9e-4) of weights and
        // sums; the error against float32 stays a few of those of the output's range.
        expect(worst / scale, `${JSON.stringify(c)} f16 arithmetic ${f16Arithmetic}`).toBeLessThan(4e-3);
        expect(scale).toBeGreaterThan(0.5);
      }
    // A packed-half chain (conv → packed → pool+conv → float32) equals the float32 chain likewise.
    const chain = tf.tidy(() => {
      const x = tf.randomUniform([1, 12, 10, 3], 0, 1, 'float32', 3);
      const f1 = tf.randomNormal([3, 3, 3, 8], 0, 0.3, 'float32', 4);
      const f2 = tf.randomNormal([3, 3, 8, 4], 0, 0.3, 'float32', 5);
      const b1 = tf.zeros([8]);
      const b2 = tf.zeros([4]);
      const pack = (t: tf.Tensor): tf.Tensor => tf.engine().runKernel<tf.Tensor>(PACK_HALF_FILTER_KERNEL, { filter: t }, {});
      const r = [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ] as Array<[number, number]>;
      const a1 = tf.relu<tf.Tensor4D>(tf.conv2d(tf.mirrorPad(x as tf.Tensor4D, r, 'reflect'), f1 as tf.Tensor4D, 1, 'valid'));
      const want = tf.relu(tf.conv2d(tf.mirrorPad(tf.maxPool(a1, 2, 2, 'valid'), r, 'reflect'), f2 as tf.Tensor4D, 1, 'valid'));
      const h1 = tf
        .engine()
        .runKernel<tf.Tensor>(
          HALF_CONV_KERNEL,
          { x, w: pack(f1), b: b1 },
          { kernel: 3, relu: true, resample: 'none', inHalf: false, outHalf: true, inChannels: 3, outChannels: 8 },
        );
      expect(h1.dtype).toBe('int32');
      expect(h1.shape).toEqual([1, 12, 10, 4]);
      const got = tf
        .engine()
        .runKernel<tf.Tensor>(
          HALF_CONV_KERNEL,
          { x: h1, w: pack(f2), b: b2 },
          { kernel: 3, relu: true, resample: 'pool', inHalf: true, outHalf: false, inChannels: 8, outChannels: 4 },
        );
      return tf.div(tf.max(tf.abs(tf.sub(got, want))), tf.max(tf.abs(want)));
    });
    expect((await chain.data())[0]).toBeLessThan(4e-3);
    chain.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("precision 'float16': every preset within 40 dB of float32 at 128 px on webgpu, in fewer dispatches, video too, no tensor left", async () => {
    // 128 px, not the 64 px of the other tests: at 64 px the deepest level has 4x4 features, whose
    // covariance whitening magnifies any rounding (float16 'best' reaches 37 dB there; 44 dB here).
    const content128 = await readImageFile(CONTENT, 128);
    const frames128 = panFrames(content128, 120);
    const before = tf.memory().numTensors;
    const run = async (
      precision: 'float32' | 'float16',
      preset: Preset,
    ): Promise<{ image: Float32Array; video: Float32Array[]; dispatches: number }> => {
      const s = await Stylizer.create({ backend: 'webgpu', preset, precision });
      try {
        await s.setStyles([{ image: style }]);
        const out = await s.stylize(content128);
        const image = (await out.data()) as Float32Array;
        out.dispose();
        const counters = GpuCounters.install();
        let dispatches: number;
        try {
          (await s.stylize(content128)).dispose();
          dispatches = counters.snapshot().dispatches;
        } finally {
          counters.uninstall();
        }
        const video: Float32Array[] = [];
        for (let i = 0; i < (preset === 'realtime' ? frames128.length : 0); i++) {
          const v = await s.stylizeVideoFrame(frames128[i]!, i * 40);
          video.push((await v.data()) as Float32Array);
          v.dispose();
        }
        return { image, video, dispatches };
      } finally {
        s.dispose();
      }
    };
    for (const preset of PRESETS) {
      const full = await run('float32', preset);
      const half = await run('float16', preset);
      expect(half.image.every(Number.isFinite)).toBe(true);
      expect(psnrDb(full.image, half.image), preset).toBeGreaterThanOrEqual(40);
      expect(half.video).toHaveLength(preset === 'realtime' ? 3 : 0);
      for (let i = 0; i < half.video.length; i++)
        expect(psnrDb(full.video[i]!, half.video[i]!), `${preset} frame ${i}`).toBeGreaterThanOrEqual(40);
      // One dispatch per conv instead of pad + conv (+ pool/upsample).
      expect(half.dispatches, preset).toBeLessThan(full.dispatches);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('GPU time splits by frame stage: each mark ends the pass, every stage of a video frame is timed', async () => {
    const s = await Stylizer.create({ backend: 'webgpu', preset: 'realtime' });
    try {
      await s.setStyles([{ image: style }]);
      for (let i = 0; i < 2; i++) (await s.stylizeVideoFrame(frames[i]!, i * 40)).dispose();
      const backend = tf.backend() as unknown as { device: GPUDevice; endComputePassEncoder(): void; submitQueue(): void };
      const timer = GpuPassTimer.install(backend.device, 2048, globalThis, { endPass: () => backend.endComputePassEncoder() })!;
      expect(timer).not.toBeNull(); // lavapipe has timestamp-query
      let stages: Awaited<ReturnType<GpuPassTimer['readStageMs']>>;
      try {
        const out = await s.stylizeVideoFrame(frames[2]!, 80);
        await out.data(); // flushes and waits for the frame's work
        out.dispose();
        stages = await timer.readStageMs();
      } finally {
        timer.uninstall();
      }
      for (const stage of ['encode', 'transform', 'decode', 'temporal'] as const) expect(stages[stage], stage).toBeGreaterThan(0);
      expect(stages.style).toBeUndefined(); // style statistics were made on the first frame, not this one
    } finally {
      s.dispose();
    }
  });

  it('syncStageTimings: each stage time spans its GPU time (timestamp queries), so the figures are completed work', async () => {
    const s = await Stylizer.create({ backend: 'webgpu', preset: 'realtime' });
    try {
      await s.setStyles([{ image: style }]);
      (await s.stylize(frames[0]!)).dispose(); // compiles the pipelines
      const backend = tf.backend() as unknown as { device: GPUDevice; endComputePassEncoder(): void };
      const timer = GpuPassTimer.install(backend.device, 2048, globalThis, { endPass: () => backend.endComputePassEncoder() })!;
      let gpuMs: Awaited<ReturnType<GpuPassTimer['readStageMs']>>;
      s.syncStageTimings = true;
      try {
        const out = await s.stylize(frames[1]!);
        await out.data();
        out.dispose();
        gpuMs = await timer.readStageMs();
      } finally {
        timer.uninstall();
      }
      // A stage's work is issued after its start is stamped and has run before its end is: its
      // passes' GPU time fits in it. Times stamped when the work is issued are far shorter.
      const t = s.lastTimings!;
      expect(t.encodeMs).toBeGreaterThanOrEqual(gpuMs.encode!);
      expect(t.transformMs).toBeGreaterThanOrEqual(gpuMs.transform!);
      expect(t.decodeMs).toBeGreaterThanOrEqual(gpuMs.decode!);
      expect(t.encodeMs + t.transformMs + t.decodeMs).toBeLessThanOrEqual(t.totalMs);
      expect(t.completed).toBe(true);
      // Off (the default), the figures are issue times, and say so.
      s.syncStageTimings = false;
      (await s.stylize(frames[1]!)).dispose();
      expect(s.lastTimings!.completed).toBe(false);
    } finally {
      s.dispose();
    }
  });

  it("a frame too large for one of the device's buffers is refused with the size and the --tile hint, not garbage", async () => {
    const s = await Stylizer.create({ backend: 'webgpu', preset: 'realtime' });
    try {
      await s.setStyles([{ image: style }]);
      const limit = maxTensorBytes()!;
      expect(limit).toBeGreaterThan(0);
      // The first 3x3 conv's padded input has 16 channels at full size: make that exceed the limit.
      const side = Math.ceil(Math.sqrt(limit / (16 * 4))) + 64;
      const big: PixelsLike = { width: side, height: side, data: new Uint8Array(side * side * 3).fill(128) };
      const before = tf.memory().numTensors;
      await expect(s.stylize(big)).rejects.toThrow(
        new RegExp(`content ${side}x${side} needs a \\d+ MiB GPU buffer at level 4, over this device's \\d+ MiB per buffer: .*--tile`),
      );
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      s.dispose();
    }
  });

  it('the GPU constant cache is bounded, freed with the last stylizer, and released by a failed create', async () => {
    const s = await Stylizer.create({ backend: 'webgpu', preset: 'realtime' });
    const before = tf.memory().numTensors;
    for (let i = 0; i < MAX_CACHED_CONSTANTS + 50; i++) expect(constant(i + 0.5)).toBeInstanceOf(tf.Tensor);
    expect(cachedConstantCount()).toBe(MAX_CACHED_CONSTANTS);
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(MAX_CACHED_CONSTANTS);
    s.dispose();
    expect(cachedConstantCount()).toBe(0);
    expect(constant(2)).toBe(2); // no stylizer: plain numbers, nothing cached
    const broken = Stylizer.create({
      backend: 'webgpu',
      modelSource: () => () => Promise.reject(new Error('no such model')),
    });
    await expect(broken).rejects.toThrow();
    expect(constant(3)).toBe(3); // the failed create holds no reference to the cache
  });

  it('stylize, stylizeVideoFrame, reset and dispose leave no tensor behind on webgpu', async () => {
    const s0 = await Stylizer.create({ backend: 'webgpu', preset: 'realtime' });
    expect(s0.backend).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    const before = tf.memory().numTensors;
    await s0.setStyles([{ image: style }]);
    for (let i = 0; i < 3; i++) (await s0.stylizeVideoFrame(frames[i]!, i * 40)).dispose();
    s0.reset();
    (await s0.stylize(content)).dispose();
    s0.dispose();
    s0.dispose(); // idempotent
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe.skipIf(!adapter)('livestyle --backend (Node WebGPU)', () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync(path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'main.js')))
      throw new Error('dist/ is missing: run `npm run build` first');
    dir = mkdtempSync(path.join(os.tmpdir(), 'livestyle-webgpu-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
    try {
      // The timeout catches a process that Dawn keeps alive after its work is done.
      const r = await run('node', [BIN, ...args], { env: { ...process.env, ...env }, timeout: 240_000 });
      return { code: 0, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number | null; killed?: boolean; stderr: string };
      if (err.killed) throw new Error(`livestyle ${args.join(' ')} did not exit within 240 s`);
      return { code: err.code ?? -1, stderr: err.stderr };
    }
  }
  const stylizeArgs = (out: string, backend: string): string[] => [
    'stylize',
    CONTENT,
    '--style',
    STYLE,
    '--size',
    '48',
    '--preset',
    'realtime',
    '--backend',
    backend,
    '--out',
    path.join(dir, out),
  ];

  it('--backend webgpu stylises on the GPU adapter, says which, warns about a software one, and exits', async () => {
    const r = await cli(stylizeArgs('gpu.png', 'webgpu'));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('livestyle: backend webgpu (');
    expect(r.stderr.includes('software adapter, expect CPU speed')).toBe(adapter!.software);
    expect(existsSync(path.join(dir, 'gpu.png'))).toBe(true);
  });

  it('--backend auto takes WebGPU only on a hardware adapter', async () => {
    const r = await cli(stylizeArgs('auto.png', 'auto'));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`livestyle: backend ${adapter!.software ? 'wasm' : 'webgpu'}`);
  });

  it('a GPU device lost mid-clip: the video keeps the frames done, says why, exits 1, leaves no temporary file', async () => {
    const out = path.join(dir, 'lost.mp4');
    const clip = path.join(SHARED, 'data', 'video', 'sintel_raft_demo');
    const args = ['--import', path.join(REPO_ROOT, 'test', 'support', 'lose-webgpu-device.js'), BIN, 'video', clip, '--style', STYLE];
    args.push('--size', '48', '--preset', 'realtime', '--backend', 'webgpu', '--out', out, '-q');
    let code = 0;
    let stderr = '';
    try {
      // The device is destroyed at the 110th queue submit: after a few of the 10 frames.
      await run('node', args, { env: { ...process.env, LOSE_DEVICE_AFTER_SUBMITS: '110' }, timeout: 240_000 });
    } catch (e) {
      code = (e as { code: number }).code;
      stderr = (e as { stderr: string }).stderr;
    }
    expect(code).toBe(1);
    const m = /the GPU device was lost after (\d+) frames \(([^)]*)\); wrote those \d+ frames to /.exec(stderr);
    expect(m, stderr).not.toBeNull();
    const frames = Number(m![1]);
    expect(frames).toBeGreaterThan(0);
    expect(frames).toBeLessThan(10);
    expect(countVideoFrames(out)).toBe(frames);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('names the optional package when Dawn is missing, and the driver when no adapter exists', async () => {
    const missing = await cli(stylizeArgs('missing.png', 'webgpu'), { LIVESTYLE_DAWN_MODULE: 'livestyle-no-such-dawn' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/needs the optional package 'webgpu'.*npm install webgpu/);
    const noDriver = await cli(stylizeArgs('nodriver.png', 'webgpu'), {
      VK_DRIVER_FILES: path.join(dir, 'none.json'),
      VK_ICD_FILENAMES: path.join(dir, 'none.json'),
    });
    expect(noDriver.code).toBe(1);
    expect(noDriver.stderr).toContain('no WebGPU adapter found');
    // auto falls back to wasm in both cases
    const fallback = await cli(stylizeArgs('fallback.png', 'auto'), { LIVESTYLE_DAWN_MODULE: 'livestyle-no-such-dawn' });
    expect(fallback.code).toBe(0);
    expect(fallback.stderr).toContain('livestyle: backend wasm');
    for (const f of ['missing.png', 'nodriver.png']) expect(existsSync(path.join(dir, f))).toBe(false);
  });
});
