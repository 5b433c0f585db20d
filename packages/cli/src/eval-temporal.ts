/**
 * `livestyle eval temporal`: the warping error of a stylised clip (Lai et al. 2018; see
 * metrics/warping-error.ts), flow computed on the INPUT frames. Optionally the mean Gram style
 * loss of the output frames against a style image, to check that smoothing keeps the style.
 * `livestyle eval flow`: end-point error of the flow estimator against a ground-truth `.flo`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { readImageFile } from '@livestyle/core/internal/io/node-image.js';
import { toImageBatch, type PixelsLike } from '@livestyle/core/internal/pipeline/input.js';
import { initCliBackend, type BackendReport, type CliBackend } from './backend.js';
import { TemporalMeter, type TemporalMeasure } from '@livestyle/core/internal/metrics/temporal-meter.js';
import { estimateFlow, resizeFlow, type FlowOptions } from '@livestyle/core/internal/temporal/flow.js';
import { endPointError, parseFlo, type FlowField } from '@livestyle/core/internal/temporal/flo.js';
import { FRAME_EXTENSIONS } from './io/video.js';
import { writeJsonFile } from '@livestyle/core/internal/io/atomic-file.js';

export interface EvalTemporalFlags {
  input: string;
  output: string;
  flow?: string;
  style?: string;
  json?: string;
  /** Default 'auto' (a hardware GPU through WebGPU, else wasm). */
  backend?: CliBackend;
  quiet: boolean;
}

async function listFrames(dir: string, what: string): Promise<string[]> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${what} ${dir} is not a folder`);
  const files = (await readdir(dir))
    .filter((f) => !f.startsWith('.') && FRAME_EXTENSIONS.includes(path.extname(f).toLowerCase()))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (files.length < 2) throw new Error(`${what} ${dir} needs at least 2 frames (found ${files.length})`);
  return files.map((f) => path.join(dir, f));
}

/** `[1,h,w,3]` of an image file, resized to `h x w` if it differs. Caller owns. */
async function frameAt(file: string, h: number, w: number): Promise<tf.Tensor4D> {
  const px: PixelsLike = await readImageFile(file);
  const t = toImageBatch(px, file);
  if (px.height === h && px.width === w) return t;
  const r = tf.image.resizeBilinear(t, [h, w], false, true);
  t.dispose();
  return r;
}

function flowTensor(f: FlowField): tf.Tensor4D {
  return tf.tensor4d(f.data, [1, f.height, f.width, 2]);
}

export interface TemporalReport {
  readonly warpingError: number;
  readonly pairs: Array<{ from: string; to: string; error: number; maskedFraction: number }>;
  readonly styleLoss?: number;
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  readonly backend: BackendReport;
}

export async function evalTemporal(flags: EvalTemporalFlags, log: (m: string) => void = () => undefined): Promise<TemporalReport> {
  const inputs = await listFrames(flags.input, '--input');
  const backend = await initCliBackend(flags.backend ?? 'auto', flags.quiet);
  const outputs = await listFrames(flags.output, '--output');
  if (inputs.length !== outputs.length)
    throw new Error(`--input has ${inputs.length} frames but --output has ${outputs.length}; they must pair up`);
  let flows: string[] | null = null;
  if (flags.flow) {
    if (!existsSync(flags.flow) || !statSync(flags.flow).isDirectory()) throw new Error(`--flow ${flags.flow} is not a folder`);
    flows = (await readdir(flags.flow)).filter((f) => f.endsWith('.flo')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    if (flows.length !== inputs.length - 1)
      throw new Error(
        `--flow has ${flows.length} .flo files; ${inputs.length} frames need ${inputs.length - 1} (one per consecutive pair)`,
      );
    flows = flows.map((f) => path.join(flags.flow as string, f));
  }
  const meta = await sharp(outputs[0]).metadata();
  const h = meta.height ?? 0;
  const w = meta.width ?? 0;
  const pairs: Array<{ from: string; to: string; error: number; maskedFraction: number }> = [];
  const meter = await TemporalMeter.create({
    ...(flags.style ? { style: await readImageFile(flags.style) } : {}),
    backend: backend.name as CliBackend,
  });
  let measure: TemporalMeasure;
  try {
    for (let i = 0; i < inputs.length; i++) {
      const input = await frameAt(inputs[i] as string, h, w);
      const output = await frameAt(outputs[i] as string, h, w);
      let given: tf.Tensor4D | undefined;
      try {
        if (flows && i > 0) {
          const f = parseFlo(new Uint8Array(await readFile(flows[i - 1] as string)), flows[i - 1]);
          const raw = flowTensor(f);
          given = resizeFlow(raw, h, w);
          raw.dispose();
        }
        const r = await meter.add(input, output, given);
        if (r) {
          pairs.push({ from: path.basename(outputs[i - 1] as string), to: path.basename(outputs[i] as string), ...r });
          log(`${path.basename(outputs[i - 1] as string)} -> ${path.basename(outputs[i] as string)}: ${r.error.toExponential(4)}`);
        }
      } finally {
        tf.dispose([input, output, ...(given ? [given] : [])]);
      }
    }
    measure = meter.result();
  } finally {
    meter.dispose();
  }
  const warpingError = measure.warpingError;
  return {
    warpingError,
    pairs,
    ...(measure.styleLoss !== undefined ? { styleLoss: measure.styleLoss } : {}),
    frames: inputs.length,
    width: w,
    height: h,
    backend,
  };
}

export async function evalTemporalCommand(flags: EvalTemporalFlags): Promise<void> {
  const report = await evalTemporal(flags, (m) => {
    if (!flags.quiet) process.stderr.write(`${m}\n`);
  });
  if (flags.json) await writeJsonFile(flags.json, report);
  process.stdout.write(`${report.warpingError}\n${JSON.stringify(report, null, 2)}\n`);
}

export interface EvalFlowFlags {
  frames: string[];
  gt: string;
  occlusions?: string;
  invalid?: string;
  finestLevel?: number;
  json?: string;
  /** Default 'auto'. */
  backend?: CliBackend;
}

async function maskFile(file: string | undefined): Promise<Uint8Array | undefined> {
  if (!file) return undefined;
  if (!existsSync(file)) throw new Error(`${file}: no such mask`);
  const { data } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Sintel layout: `<seq>/flow/frame_0002.flo` has `<seq>/occlusions/frame_0002.png` and `<seq>/invalid/...`. */
function sintelMask(gt: string, kind: 'occlusions' | 'invalid'): string | undefined {
  const candidate = path.join(path.dirname(path.dirname(gt)), kind, `${path.basename(gt, '.flo')}.png`);
  return existsSync(candidate) ? candidate : undefined;
}

export interface FlowReport {
  readonly epeAll: number;
  readonly epeNonOccluded: number;
  readonly zeroMotionEpe: number;
  readonly flowMs: number;
  readonly width: number;
  readonly height: number;
  readonly backend: BackendReport;
}

export async function evalFlow(flags: EvalFlowFlags): Promise<FlowReport> {
  if (flags.frames.length !== 2) throw new Error(`--frames needs exactly two images (got ${flags.frames.length})`);
  const backend = await initCliBackend(flags.backend ?? 'auto', true);
  const truth = parseFlo(
    new Uint8Array(
      await readFile(flags.gt).catch(() => {
        throw new Error(`${flags.gt}: cannot read`);
      }),
    ),
    flags.gt,
  );
  const [a, b] = await Promise.all(flags.frames.map((f) => readImageFile(f)));
  if (!a || !b) throw new Error('--frames needs two images');
  if (a.width !== b.width || a.height !== b.height)
    throw new Error(`frames differ in size (${a.width}x${a.height} vs ${b.width}x${b.height})`);
  if (a.width !== truth.width || a.height !== truth.height)
    throw new Error(`frames are ${a.width}x${a.height} but the ground truth is ${truth.width}x${truth.height}`);
  const occ = await maskFile(flags.occlusions ?? sintelMask(flags.gt, 'occlusions'));
  const inv = await maskFile(flags.invalid ?? sintelMask(flags.gt, 'invalid'));
  const ta = toImageBatch(a, flags.frames[0]);
  const tb = toImageBatch(b, flags.frames[1]);
  const options: Partial<FlowOptions> = flags.finestLevel !== undefined ? { finestLevel: flags.finestLevel } : {};
  try {
    estimateFlow(ta, tb, options).dispose(); // warm-up (kernel compilation, allocations)
    const t0 = performance.now();
    const flow = estimateFlow(ta, tb, options);
    const data = (await flow.data()) as Float32Array;
    const flowMs = performance.now() - t0;
    flow.dispose();
    const est: FlowField = { width: truth.width, height: truth.height, data };
    const e = endPointError(est, truth, occ, inv);
    const zero = endPointError({ ...est, data: new Float32Array(data.length) }, truth, occ, inv);
    return {
      epeAll: e.all,
      epeNonOccluded: e.nonOccluded,
      zeroMotionEpe: zero.all,
      flowMs,
      width: truth.width,
      height: truth.height,
      backend,
    };
  } finally {
    tf.dispose([ta, tb]);
  }
}

export async function evalFlowCommand(flags: EvalFlowFlags): Promise<void> {
  const report = await evalFlow(flags);
  if (flags.json) await writeJsonFile(flags.json, report);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}
