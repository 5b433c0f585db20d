/**
 * The GPU benchmark (`npm run bench -- --backend webgpu`, and the GPU kit's `run.sh`): per preset,
 * size and mode (image; video with temporal smoothing on and off), what one frame costs the device
 * in calls (dispatches, passes, submits, pipelines, uploads, readbacks: machine-independent, see
 * gpu-counters.ts) and, after warm-up, the median wall time per frame until the GPU is idle.
 * Frames are a pan across a photo (2 px per frame), so the optical flow sees real motion.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Stylizer } from '@livestyle/core/internal/pipeline/stylizer.js';
import { PRESETS, type Preset } from '@livestyle/core/internal/pipeline/presets.js';
import type { PixelsLike } from '@livestyle/core/internal/pipeline/input.js';
import { GpuCounters, GpuPassTimer, type GpuCounts } from '@livestyle/core/internal/backend/gpu-counters.js';
import type { GpuAdapterDescription } from '@livestyle/core/internal/backend/node-webgpu.js';
import type { FrameStage } from '@livestyle/core/internal/backend/stage-marks.js';
import type { NetworkPrecision } from '@livestyle/core/internal/pipeline/options.js';

export type BenchMode = 'image' | 'video' | 'video-no-temporal';
export const BENCH_MODES: readonly BenchMode[] = ['image', 'video', 'video-no-temporal'];

export interface GpuBenchSize {
  readonly width: number;
  readonly height: number;
}

export interface GpuBenchOptions {
  readonly presets: readonly Preset[];
  readonly modes: readonly BenchMode[];
  readonly sizes: readonly GpuBenchSize[];
  /** Encoder/decoder precisions to run (the Stylizer's `precision` option). */
  readonly precisions: readonly NetworkPrecision[];
  /** Timed frames per cell (median reported); 0 = counts only. */
  readonly runs: number;
  /** A photo to pan across (RGB or RGBA bytes), at least as large as the largest size plus the pan. */
  readonly photo: (size: GpuBenchSize, panPx: number) => Promise<PixelsLike>;
  readonly style: PixelsLike;
  readonly onCell?: (row: GpuBenchRow) => void;
}

export interface GpuBenchRow {
  readonly preset: Preset;
  readonly mode: BenchMode;
  readonly size: string;
  readonly precision: NetworkPrecision;
  /** Per frame, after warm-up (identical from frame to frame). */
  readonly counts: GpuCounts;
  /** Median wall time per frame until the device is idle (ms), over `runs` frames; null if runs = 0. */
  readonly frameMs: number | null;
  readonly fps: number | null;
  /** Median GPU busy time per frame (ms; compute passes' timestamps), where the adapter has `timestamp-query`. */
  readonly gpuMs: number | null;
  /**
   * GPU busy time per frame stage (ms; medians over separate frames in which each stage mark ends
   * the open compute pass, see GpuPassTimer), where the adapter has `timestamp-query`.
   */
  readonly stageGpuMs: Partial<Record<FrameStage | 'other', number>> | null;
}

export interface GpuBenchReport {
  readonly adapter: GpuAdapterDescription | null;
  readonly backend: string;
  readonly date: string;
  readonly node: string;
  readonly runs: number;
  readonly rows: GpuBenchRow[];
  readonly temporalStageGpuMs: Array<{ preset: Preset; size: string; gpuMs: number }>;
}

const PAN_PX_PER_FRAME = 2;

/** A `width x height` RGB window of `photo` at horizontal offset `dx`. */
export function panWindow(photo: PixelsLike, size: GpuBenchSize, dx: number): PixelsLike {
  const ch = photo.data.length / (photo.width * photo.height);
  if (photo.width < size.width + dx || photo.height < size.height)
    throw new Error(`pan source ${photo.width}x${photo.height} is smaller than ${size.width + dx}x${size.height}`);
  const data = new Uint8Array(size.width * size.height * 3);
  for (let y = 0; y < size.height; y++) {
    const row = (y * photo.width + dx) * ch;
    for (let x = 0; x < size.width; x++)
      for (let c = 0; c < 3; c++) data[(y * size.width + x) * 3 + c] = photo.data[row + x * ch + c] as number;
  }
  return { width: size.width, height: size.height, data };
}

function deviceOf(): GPUDevice {
  return (tf.backend() as unknown as { device: GPUDevice }).device;
}

/** Flushes tfjs's deferred commands and waits until the device has run them. */
async function gpuIdle(): Promise<void> {
  // tfjs keeps these internal; the backend ends the open pass before a submit.
  const backend = tf.backend() as unknown as {
    device: GPUDevice;
    commandEncoder: unknown;
    endComputePassEncoder(): void;
    submitQueue(): void;
  };
  if (backend.commandEncoder) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
  await backend.device.queue.onSubmittedWorkDone();
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Each stage's median over frames (a stage missing from a frame counts as 0 ms there). */
function medianPerStage(
  samples: ReadonlyArray<Partial<Record<FrameStage | 'other', number>>>,
): Partial<Record<FrameStage | 'other', number>> {
  const stages = new Set(samples.flatMap((x) => Object.keys(x) as Array<FrameStage | 'other'>));
  const out: Partial<Record<FrameStage | 'other', number>> = {};
  for (const st of stages) out[st] = median(samples.map((x) => x[st] ?? 0));
  return out;
}

/** Ends tfjs's open compute pass, so the next dispatch begins a new one (tfjs keeps this internal). */
function endComputePass(): void {
  const backend = tf.backend() as unknown as { endComputePassEncoder?: () => void };
  backend.endComputePassEncoder?.();
}

async function benchCell(
  preset: Preset,
  mode: BenchMode,
  size: GpuBenchSize,
  precision: NetworkPrecision,
  runs: number,
  photo: PixelsLike,
  style: PixelsLike,
): Promise<GpuBenchRow> {
  const s = await Stylizer.create({
    backend: 'webgpu',
    preset,
    precision,
    ...(mode === 'video-no-temporal' ? { temporalStrength: 0 } : {}),
  });
  try {
    await s.setStyles([{ image: style }]);
    let frame = 0;
    // The pan's frames are cut before timing: copying 6 MB per 1080p frame in JS is not GPU work.
    const windows = Array.from({ length: 16 }, (_, i) => panWindow(photo, size, i * PAN_PX_PER_FRAME));
    const one = async (): Promise<void> => {
      const input = windows[frame % 16] as PixelsLike;
      const out = mode === 'image' ? await s.stylize(input) : await s.stylizeVideoFrame(input, frame * 40);
      frame++;
      out.dispose();
    };
    // Warm-up: the first video frame has no predecessor; the second compiles the temporal kernels.
    for (let i = 0; i < (mode === 'image' ? 1 : 3); i++) await one();
    await gpuIdle();
    const counters = GpuCounters.install();
    let counts: GpuCounts;
    try {
      await one();
      await gpuIdle();
      counts = counters.snapshot();
    } finally {
      counters.uninstall();
    }
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await one();
      await gpuIdle();
      samples.push(performance.now() - t0);
    }
    // `runs` frames under a timestamp timer (uninstalled after), each read once the GPU is idle.
    const timedFrames = async <T>(timer: GpuPassTimer | null, read: (t: GpuPassTimer) => Promise<T>): Promise<T[]> => {
      const out: T[] = [];
      if (!timer) return out;
      try {
        for (let i = 0; i < runs; i++) {
          await one();
          await gpuIdle();
          out.push(await read(timer));
        }
      } finally {
        timer.uninstall();
      }
      return out;
    };
    // GPU busy time in separate frames: the timestamp writes and their readback cost time of their own.
    const gpuSamples = await timedFrames(runs > 0 ? GpuPassTimer.install(deviceOf()) : null, (t) => t.readMs());
    // Per stage, in frames of their own again: ending a pass at each stage changes the pass count.
    const stageSamples = await timedFrames(
      runs > 0 ? GpuPassTimer.install(deviceOf(), 2048, globalThis, { endPass: endComputePass }) : null,
      (t) => t.readStageMs(),
    );
    const frameMs = runs > 0 ? median(samples) : null;
    return {
      preset,
      mode,
      size: `${size.width}x${size.height}`,
      precision,
      stageGpuMs: stageSamples.length > 0 ? medianPerStage(stageSamples) : null,
      counts,
      frameMs,
      fps: frameMs ? 1000 / frameMs : null,
      gpuMs: gpuSamples.length > 0 ? median(gpuSamples) : null,
    };
  } finally {
    s.dispose();
  }
}

/** Runs every preset x mode x size cell on the active WebGPU backend. */
export async function runGpuBench(o: GpuBenchOptions): Promise<GpuBenchRow[]> {
  const rows: GpuBenchRow[] = [];
  for (const size of o.sizes) {
    const photo = await o.photo(size, 16 * PAN_PX_PER_FRAME);
    for (const mode of o.modes)
      for (const preset of o.presets)
        for (const precision of o.precisions) {
          const row = await benchCell(preset, mode, size, precision, o.runs, photo, o.style);
          rows.push(row);
          o.onCell?.(row);
        }
  }
  return rows;
}

/** One table line of a row. */
export function formatGpuRow(r: GpuBenchRow): string {
  const c = r.counts;
  const kb = (b: number): string => `${(b / 1024).toFixed(b < 10240 ? 1 : 0)} KiB`;
  return [
    r.preset.padEnd(9),
    r.mode.padEnd(18),
    r.size.padEnd(10),
    r.precision.padEnd(8),
    String(c.dispatches).padStart(6),
    String(c.computePasses).padStart(7),
    String(c.submits).padStart(8),
    String(c.pipelinesCreated).padStart(10),
    `${c.uploads} (${kb(c.uploadBytes)})`.padStart(18),
    `${c.readbacks} (${kb(c.readbackBytes)})`.padStart(18),
    (r.frameMs === null ? '-' : r.frameMs.toFixed(1)).padStart(9),
    (r.fps === null ? '-' : r.fps.toFixed(1)).padStart(7),
    (r.gpuMs === null ? '-' : r.gpuMs.toFixed(2)).padStart(8),
  ].join(' ');
}

export const GPU_TABLE_HEADER = [
  'preset'.padEnd(9),
  'mode'.padEnd(18),
  'size'.padEnd(10),
  'prec.'.padEnd(8),
  'disp.'.padStart(6),
  'passes'.padStart(7),
  'submits'.padStart(8),
  'pipelines'.padStart(10),
  'uploads'.padStart(18),
  'readbacks'.padStart(18),
  'frame ms'.padStart(9),
  'fps'.padStart(7),
  'GPU ms'.padStart(8),
].join(' ');

/**
 * The temporal stage's GPU time per preset and size: video mode minus video mode without it
 * (same frames, same run), where both were measured with timestamps.
 */
export function temporalStageGpuMs(rows: readonly GpuBenchRow[]): Array<{ preset: Preset; size: string; gpuMs: number }> {
  const out: Array<{ preset: Preset; size: string; gpuMs: number }> = [];
  for (const r of rows) {
    if (r.mode !== 'video' || r.gpuMs === null) continue;
    const off = rows.find(
      (x) => x.mode === 'video-no-temporal' && x.preset === r.preset && x.size === r.size && x.precision === r.precision,
    );
    if (off?.gpuMs != null) out.push({ preset: r.preset, size: r.size, gpuMs: r.gpuMs - off.gpuMs });
  }
  return out;
}

export { PRESETS };
