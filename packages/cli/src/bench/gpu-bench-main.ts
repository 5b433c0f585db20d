/**
 * Command-line front of the GPU benchmark, shared by `npm run bench -- --backend webgpu` and the
 * GPU kit: argument parsing, the photo scaled per size, the table, the JSON report.
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { initNodeWebGpu } from '@livestyle/core/internal/backend/node-webgpu.js';
import { PRESETS, isPreset, type Preset } from '@livestyle/core/internal/pipeline/presets.js';
import { FRAME_STAGES } from '@livestyle/core/internal/backend/stage-marks.js';
import type { NetworkPrecision } from '@livestyle/core/internal/pipeline/options.js';
import type { PixelsLike } from '@livestyle/core/internal/pipeline/input.js';
import {
  BENCH_MODES,
  GPU_TABLE_HEADER,
  formatGpuRow,
  runGpuBench,
  temporalStageGpuMs,
  type BenchMode,
  type GpuBenchReport,
  type GpuBenchSize,
} from './gpu-bench.js';

export const GPU_BENCH_USAGE = `options:
  --sizes 256,512,1024,1920x1080   frame sizes (N = N x N)
  --presets realtime,balanced,best
  --modes image,video,video-no-temporal   (video = temporal smoothing on)
  --precisions float32,float16     encoder/decoder precision (the Stylizer's precision option)
  --runs 20                        timed frames per cell after warm-up (median); 0 = counts only
  --quick                          a short subset: 128 px, realtime, image + video, both precisions, 2 runs
  --json FILE                      write the report as JSON
  --require-hardware               fail on a software adapter instead of warning`;

export interface GpuBenchArgs {
  readonly sizes: GpuBenchSize[];
  readonly presets: Preset[];
  readonly modes: BenchMode[];
  readonly precisions: NetworkPrecision[];
  readonly runs: number;
  readonly json: string | undefined;
  readonly requireHardware: boolean;
  readonly historyNote: boolean;
}

export function parseSizes(text: string): GpuBenchSize[] {
  return text.split(',').map((s) => {
    const m = /^\s*(\d+)(?:x(\d+))?\s*$/.exec(s);
    const width = Number(m?.[1]);
    const height = m?.[2] === undefined ? width : Number(m[2]);
    if (!m || !(width >= 32 && width <= 8192 && height >= 32 && height <= 8192))
      throw new Error(`bad size "${s}": expected N or WxH, 32..8192 px`);
    return { width, height };
  });
}

export function parseGpuBenchArgs(argv: readonly string[]): GpuBenchArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      sizes: { type: 'string', default: '256,512,1024,1920x1080' },
      presets: { type: 'string', default: PRESETS.join(',') },
      modes: { type: 'string', default: BENCH_MODES.join(',') },
      precisions: { type: 'string', default: 'float32,float16' },
      runs: { type: 'string', default: '20' },
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
      'require-hardware': { type: 'boolean', default: false },
      backend: { type: 'string', default: 'webgpu' },
      'no-history': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const list = <T extends string>(text: string, allowed: readonly T[], what: string): T[] =>
    text.split(',').map((v) => {
      const t = v.trim();
      if (!(allowed as readonly string[]).includes(t)) throw new Error(`bad ${what} "${t}": one of ${allowed.join(', ')}`);
      return t as T;
    });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 0 || runs > 1000) throw new Error(`--runs "${values.runs}" is not an integer in [0, 1000]`);
  const presets = list(values.presets, PRESETS, 'preset').filter(isPreset);
  const precisions = list<NetworkPrecision>(values.precisions, ['float32', 'float16'], 'precision');
  if (values.quick)
    return {
      sizes: [{ width: 128, height: 128 }],
      presets: ['realtime'],
      modes: ['image', 'video'],
      precisions: ['float32', 'float16'],
      runs: 2,
      json: values.json,
      requireHardware: values['require-hardware'],
      historyNote: !values['no-history'],
    };
  return {
    sizes: parseSizes(values.sizes),
    presets,
    modes: list(values.modes, BENCH_MODES, 'mode'),
    precisions,
    runs,
    json: values.json,
    requireHardware: values['require-hardware'],
    historyNote: !values['no-history'],
  };
}

/** `photo` scaled (bilinear, on the active backend) to cover `size` plus a pan of `panPx`. */
export async function coverSize(photo: PixelsLike, size: GpuBenchSize, panPx: number): Promise<PixelsLike> {
  const needW = size.width + panPx;
  const scale = Math.max(needW / photo.width, size.height / photo.height);
  const w = Math.max(needW, Math.ceil(photo.width * scale));
  const h = Math.max(size.height, Math.ceil(photo.height * scale));
  const ch = photo.data.length / (photo.width * photo.height);
  const resized = tf.tidy(() => {
    const t = tf.tensor3d(Int32Array.from(photo.data), [photo.height, photo.width, ch], 'int32');
    const rgb = ch === 3 ? t : tf.slice(t, [0, 0, 0], [photo.height, photo.width, 3]);
    return tf.cast(tf.clipByValue(tf.round(tf.image.resizeBilinear(tf.cast(rgb, 'float32'), [h, w], false, true)), 0, 255), 'int32');
  });
  const data = Uint8Array.from((await resized.data()) as Int32Array);
  resized.dispose();
  return { width: w, height: h, data };
}

/** Runs the GPU benchmark on WebGPU (Dawn) and prints the table; returns the report. */
export async function gpuBenchMain(
  args: GpuBenchArgs,
  photo: PixelsLike,
  style: PixelsLike,
  log: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<GpuBenchReport> {
  const adapter = await initNodeWebGpu();
  log(
    `adapter: ${adapter.description || adapter.device} (vendor ${adapter.vendor}, architecture ${adapter.architecture}; features: ${adapter.features.join(', ') || 'none'})`,
  );
  if (adapter.software) {
    const msg = 'no hardware GPU adapter found: this is a software adapter, so the times below are CPU times (the counts still hold)';
    if (args.requireHardware) throw new Error(msg);
    log(`WARNING: ${msg}`);
  }
  log(`${args.runs} timed frames per cell after warm-up (median); counts are per frame after warm-up`);
  log(GPU_TABLE_HEADER);
  const rows = await runGpuBench({
    presets: args.presets,
    modes: args.modes,
    sizes: args.sizes,
    precisions: args.precisions,
    runs: args.runs,
    photo: (size, pan) => coverSize(photo, size, pan),
    style,
    onCell: (r) => log(formatGpuRow(r)),
  });
  const staged = rows.filter((r) => r.stageGpuMs !== null);
  if (staged.length > 0) {
    const stages = [...FRAME_STAGES, 'other'] as const;
    log(`GPU ms per frame by stage (timestamp queries; a pass ends at each stage):`);
    log(
      `${'preset'.padEnd(9)} ${'mode'.padEnd(18)} ${'size'.padEnd(10)} ${'prec.'.padEnd(8)} ${stages.map((x) => x.padStart(9)).join(' ')}`,
    );
    for (const r of staged)
      log(
        `${r.preset.padEnd(9)} ${r.mode.padEnd(18)} ${r.size.padEnd(10)} ${r.precision.padEnd(8)} ${stages
          .map((x) => (r.stageGpuMs?.[x] === undefined ? '-' : r.stageGpuMs[x].toFixed(2)).padStart(9))
          .join(' ')}`,
      );
  }
  const temporal = temporalStageGpuMs(rows);
  if (temporal.length > 0) {
    log('temporal stage (flow both ways, warps, blend), GPU ms per frame: video minus video without it');
    for (const t of temporal) log(`   ${t.preset.padEnd(9)} ${t.size.padEnd(10)} ${t.gpuMs.toFixed(2)} ms`);
  }
  const report: GpuBenchReport = {
    adapter,
    backend: tf.getBackend(),
    date: new Date().toISOString(),
    node: process.version,
    runs: args.runs,
    rows,
    temporalStageGpuMs: temporal,
  };
  if (args.json) writeFileSync(args.json, `${JSON.stringify(report, null, 1)}\n`);
  return report;
}
