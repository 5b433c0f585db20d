// Runs in headless Chromium: the same two-level cascade on each backend, results posted to window.
import * as tf from '@tensorflow/tfjs-core';
import { Stylizer, CanvasPresenter, setWasmPaths } from '../../packages/core/src/index.js';
// The subpath entries as a browser bundle gets them: the optimiser with tfjs's gradients, the flow.
import { StyleOptimizer } from '../../packages/core/src/offline.js';
import { estimateFlow, warpBilinear, type FlowOptions } from '../../packages/core/src/temporal.js';
import { warpBilinearOps, hasWarpKernel, warpCubic } from '../../packages/core/src/temporal/warp.js';
import { hasTvl1Kernels } from '../../packages/core/src/temporal/tvl1-step.js';
import { storesHalfFloats } from '../../packages/core/src/backend/precision.js';
import type { BackendResult } from './types.js';

declare global {
  interface Window {
    smokeResults?: BackendResult[];
  }
}

setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');

/** A deterministic 64x64 test pattern (gradients + rings). */
function pattern(seed: number): tf.Tensor3D {
  return tf.tidy(() => {
    const y = tf.reshape(tf.linspace(0, 1, 64), [64, 1, 1]);
    const x = tf.reshape(tf.linspace(0, 1, 64), [1, 64, 1]);
    const r = tf.sin(tf.mul(tf.add(tf.square(tf.sub(x, 0.5)), tf.square(tf.sub(y, 0.5))), 40 + seed * 13));
    const c0 = tf.add(tf.mul(x, 0.5), tf.mul(r, 0.25));
    const c1 = tf.add(tf.mul(y, 0.6), tf.mul(r, 0.2 * seed));
    const c2 = tf.sub(1, tf.mul(tf.add(x, y), 0.4));
    return tf.clipByValue(
      tf.add(tf.concat([tf.broadcastTo(c0, [64, 64, 1]), tf.broadcastTo(c1, [64, 64, 1]), tf.broadcastTo(c2, [64, 64, 1])], 2), 0.1),
      0,
      1,
    ) as tf.Tensor3D;
  });
}

async function runOn(backend: 'wasm' | 'webgl' | 'webgpu'): Promise<BackendResult> {
  try {
    const stylizer = await Stylizer.create({ backend, levels: [3, 2, 1], modelBaseUrl: '/models/' });
    const content = pattern(1);
    const style = pattern(3);
    await stylizer.setStyles([{ image: style }]);
    const out = await stylizer.stylize(content);
    const pixels = Array.from(await out.data());
    const result: BackendResult = { backend: stylizer.backend, ok: true, shape: out.shape, pixels };
    tf.dispose(out);
    stylizer.dispose();
    try {
      // Dense warp: this backend's kernel against the stock-ops reference, including samples
      // outside the image (clamped) and fractional positions.
      const n = 24 * 32;
      const img = tf.tensor4d(
        Float32Array.from({ length: n * 3 }, (_, i) => ((i * 7919) % 1000) / 1000),
        [1, 24, 32, 3],
      );
      const flow = tf.tensor4d(
        Float32Array.from({ length: n * 2 }, (_, i) => (((i * 104729) % 1300) - 650) / 100),
        [1, 24, 32, 2],
      );
      const viaKernel = warpBilinear(img, flow);
      const viaOps = warpBilinearOps(img, flow);
      result.warpHasKernel = hasWarpKernel();
      result.warpPixels = Array.from(await viaKernel.data());
      result.warpOpsPixels = Array.from(await viaOps.data());
      const viaCubic = warpCubic(img, flow);
      result.warpCubicPixels = Array.from(await viaCubic.data());
      viaCubic.dispose();
      // Optical flow of a known shift on this backend: b is a moved by (+3, -2) px.
      const a = tf.expandDims<tf.Tensor4D>(content, 0);
      const shift = tf.broadcastTo<tf.Rank.R4>(tf.tensor4d([-3, 2], [1, 1, 1, 2]), [1, 64, 64, 2]);
      const b = warpBilinearOps(a, shift);
      const est = estimateFlow(a, b, { finestLevel: 0 });
      const inner = tf.slice(est, [0, 8, 8, 0], [1, 48, 48, 2]);
      result.flowMean = Array.from(await tf.mean(inner, [0, 1, 2]).data());
      // The fused TV-L1 passes against the composed ops on this backend, and the kernels each runs.
      result.tvl1HasKernels = hasTvl1Kernels();
      const solve = async (options: Partial<FlowOptions>): Promise<[number, Float32Array]> => {
        let flowOut: tf.Tensor4D | null = null;
        const info = await tf.profile(() => {
          flowOut = estimateFlow(a, b, options);
          return flowOut;
        });
        const values = (await flowOut!.data()) as Float32Array;
        (flowOut as tf.Tensor4D | null)?.dispose();
        return [info.kernels.filter((k) => !k.name.endsWith('__op')).length, values];
      };
      const diffs = (x: Float32Array, y: Float32Array): { max: number; mean: number } => {
        let max = 0;
        let sum = 0;
        for (let i = 0; i < x.length; i++) {
          const d = Math.abs(x[i]! - y[i]!);
          max = Math.max(max, d);
          sum += d;
        }
        return { max, mean: sum / x.length };
      };
      // One linearisation, 8 iterations, one level at full size: the passes alone, no re-warping.
      const step = { finestLevel: 0, coarsestSidePx: 64, warps: 1, iterations: 8 };
      const [, stepFused] = await solve({ ...step, fusedKernels: true });
      const [, stepOps] = await solve({ ...step, fusedKernels: false });
      result.tvl1StepMaxDiffPx = diffs(stepFused, stepOps).max;
      // The whole coarse-to-fine solve: each re-warp resamples at sub-pixel positions and the
      // thresholding is piecewise, so rounding differences grow; compare the mean.
      const [fusedCalls, fusedFlow] = await solve({ finestLevel: 0, fusedKernels: true });
      const [opsCalls, opsFlow] = await solve({ finestLevel: 0, fusedKernels: false });
      result.tvl1SolveMeanDiffPx = diffs(fusedFlow, opsFlow).mean;
      result.flowKernelCalls = { fused: fusedCalls, ops: opsCalls };
      tf.dispose([img, flow, viaKernel, viaOps, a, shift, b, est, inner]);
    } catch (e) {
      result.warpError = String((e as Error).stack ?? e);
    }
    try {
      // The optimiser on the same backend (gradients registered by the browser entry).
      const optimizer = await StyleOptimizer.create({ backend, iterations: 6, modelBaseUrl: '/models/' });
      const small = tf.image.resizeBilinear(content, [32, 32]);
      const r = await optimizer.optimize(small, [{ image: style }]);
      result.optimizerTotals = r.history.map((h) => h.parts.total);
      tf.dispose([small, r.image]);
      optimizer.dispose();
    } catch (e) {
      result.optimizerError = String((e as Error).stack ?? e);
    }
    try {
      await checkNoReadback(backend, style, result);
    } catch (e) {
      result.noReadbackError = `${String((e as Error).stack ?? e)} (at: ${checkPhase})`;
    }
    tf.dispose([content, style]);
    return result;
  } catch (e) {
    return { backend, ok: false, error: String((e as Error).stack ?? e) };
  }
}

/**
 * The per-frame video path reads nothing back: spy on every way tf.js copies data to the CPU while
 * `stylizeVideoFrame` runs (realtime preset, temporal smoothing on). Also counts compiled programs
 * (no per-frame recompilation) and live tensors (no growth).
 */
let checkPhase = '';

async function checkNoReadback(backend: 'wasm' | 'webgl' | 'webgpu', style: tf.Tensor3D, result: BackendResult): Promise<void> {
  const stylizer = await Stylizer.create({ backend, preset: 'realtime', modelBaseUrl: '/models/' });
  await stylizer.setStyles([{ image: style }]);
  const frames = [0, 1, 2, 3, 4, 5].map((k) =>
    tf.tidy(() => tf.slice(tf.image.resizeBilinear(pattern(2), [64, 96]), [0, 2 * k, 0], [64, 64, 3])),
  );
  const counts: Record<string, number> = {};
  /** Readbacks while the presenter draws (kept apart from the stylizer's). */
  const drawCounts: Record<string, number> = {};
  let drawing = false;
  const restore: Array<() => void> = [];
  /** Wraps `target[name]` to count calls (those `isReadback` accepts) under `label`. */
  const spy = (target: object, name: string, label: string, isReadback: (args: unknown[]) => boolean = () => true): void => {
    const host = target as Record<string, unknown>;
    const original = host[name];
    if (typeof original !== 'function') return;
    host[name] = function (this: unknown, ...args: unknown[]) {
      const bucket = drawing ? drawCounts : counts;
      if (isReadback(args)) bucket[label] = (bucket[label] ?? 0) + 1;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
    restore.push(() => {
      host[name] = original;
    });
  };
  const programCount = (): number | null => {
    const b = tf.backend() as unknown as { binaryCache?: object; pipelineCache?: object };
    const cache = b.binaryCache ?? b.pipelineCache;
    return cache ? Object.keys(cache).length : null;
  };
  let last: tf.Tensor3D | null = null;
  // The frame is drawn as the elements draw it: straight from GPU memory onto a 2D canvas.
  const presenter = new CanvasPresenter();
  const view = document.createElement('canvas');
  result.presentPaths = [];
  try {
    checkPhase = 'warm-up';
    for (let i = 0; i < 3; i++) {
      // Warm-up: weights, shaders, the presenter's program.
      const warm = await stylizer.stylizeVideoFrame(frames[i]!, i * 33);
      await presenter.draw(warm, view);
      warm.dispose();
    }
    result.tensorsAfterFrames = [];
    for (const name of ['dataSync', 'data', 'arraySync', 'array', 'bytes']) spy(tf.Tensor.prototype, name, `Tensor.${name}`);
    // A backend read of data that already sits on the CPU (small constants tf.js keeps there) is
    // no readback: count only reads of GPU-resident data.
    const gpuBackend = tf.backend() as unknown as {
      tensorMap?: Map<object, { values?: unknown }>;
      texData?: Map<object, { values?: unknown }>;
    };
    const onCpu = (dataId: unknown): boolean => {
      const store = gpuBackend.tensorMap ?? gpuBackend.texData;
      return store?.get(dataId as object)?.values != null;
    };
    for (const name of ['read', 'readSync']) spy(tf.backend(), name, `backend.${name}`, (args) => !onCpu(args[0]));
    checkPhase = 'probe';
    const probe = tf.add(tf.ones([64, 64]), 1); // big enough to be computed on, and read from, the GPU
    await probe.data();
    probe.dispose();
    result.spyCalibration = Object.values(counts).reduce((a, b) => a + b, 0);
    for (const k of Object.keys(counts)) delete counts[k];
    const programsBefore = programCount();
    checkPhase = 'frames';
    for (let i = 3; i < 6; i++) {
      last?.dispose();
      last = await stylizer.stylizeVideoFrame(frames[i]!, i * 33);
      drawing = true;
      try {
        result.presentPaths.push(await presenter.draw(last, view));
      } finally {
        drawing = false;
      }
      if (i !== 4) result.tensorsAfterFrames.push(tf.memory().numTensors);
    }
    const programsAfter = programCount();
    result.programsAdded = programsBefore === null || programsAfter === null ? null : programsAfter - programsBefore;
  } finally {
    for (const r of restore) r();
    result.readbacksPerFrame = counts;
    result.readbacksPerDraw = drawCounts;
  }
  checkPhase = 'final read';
  if (last) {
    const values = await last.data();
    result.videoFrameValid = values.every((v) => Number.isFinite(v) && v >= 0 && v <= 1);
    // What the GPU draw put on the canvas against tf.js's own CPU path, byte for byte.
    const reference = document.createElement('canvas');
    await tf.browser.toPixels(last, reference);
    const [h, w] = last.shape;
    const drawn = view.getContext('2d')!.getImageData(0, 0, w, h).data;
    const expected = reference.getContext('2d')!.getImageData(0, 0, w, h).data;
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(drawn[i]! - expected[i]!));
    result.presentMaxDiff = maxDiff;
    result.presentSize = [view.width, view.height];
    result.presentError = presenter.gpuError;
    last.dispose();
    // Images the GPU pass does not take go through toPixels without counting as GPU failures:
    // values still on the CPU, a grey [H, W] image, int32 RGB.
    const odd = [
      tf.tensor3d(new Float32Array(4 * 4 * 3).fill(0.5), [4, 4, 3]),
      tf.fill<tf.Rank.R2>([4, 4], 0.5),
      tf.fill<tf.Rank.R3>([4, 4, 3], 128, 'int32'),
    ];
    result.presentOddPaths = [];
    for (const t of odd) result.presentOddPaths.push(await presenter.draw(t, document.createElement('canvas')));
    result.presentOddError = presenter.gpuError;
    tf.dispose(odd);
  }
  presenter.dispose();
  stylizer.dispose();
  tf.dispose(frames);
}

/**
 * Each preset's output for the test pattern on WebGL, and whether three smoothed video frames
 * stay finite. The `?float16` page runs it on half-float textures (what tf.js picks where a device
 * cannot render float32, as on many phones); the test compares with the float32 page.
 */
async function runPresetsOnWebgl(name: string): Promise<BackendResult> {
  const result: BackendResult = { backend: name, ok: false, presetPixels: {} };
  try {
    const content = pattern(1);
    const style = pattern(3);
    for (const preset of ['realtime', 'balanced', 'best'] as const) {
      const stylizer = await Stylizer.create({ backend: 'webgl', preset, modelBaseUrl: '/models/' });
      await stylizer.setStyles([{ image: style }]);
      const out = await stylizer.stylize(content);
      result.presetPixels![preset] = Array.from(await out.data());
      out.dispose();
      stylizer.dispose();
    }
    const stylizer = await Stylizer.create({ backend: 'webgl', preset: 'realtime', modelBaseUrl: '/models/' });
    await stylizer.setStyles([{ image: style }]);
    let frame: tf.Tensor3D | null = null;
    for (let i = 0; i < 3; i++) {
      frame?.dispose();
      frame = await stylizer.stylizeVideoFrame(content, i * 40);
    }
    const values = await frame!.data();
    result.videoFrameValid = values.every((v) => Number.isFinite(v) && v >= 0 && v <= 1);
    result.storesHalfFloats = storesHalfFloats();
    frame!.dispose();
    stylizer.dispose();
    tf.dispose([content, style]);
    result.ok = true;
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
  }
  return result;
}

const results: BackendResult[] = [];
if (new URLSearchParams(location.search).has('float16')) {
  // Before any WebGL texture exists: the flag holds for the page's lifetime, as on such a device.
  tf.env().set('WEBGL_RENDER_FLOAT32_ENABLED', false);
  await tf.setBackend('webgl');
  results.push(await runPresetsOnWebgl('webgl-float16'));
} else {
  // WebGL before WebGPU: the software WebGPU adapter here loses the page's WebGL context.
  for (const b of ['wasm', 'webgl'] as const) results.push(await runOn(b));
  results.push(await runPresetsOnWebgl('webgl-presets'));
  results.push(await runOn('webgpu'));
}
window.smokeResults = results;
