/**
 * `livestyle eval temporal`: the warping error of a stylised clip (Lai et al. 2018; see
 * metrics/warping-error.ts), flow computed on the INPUT frames. Optionally the mean Gram style
 * loss of the output frames against a style image at the scale the stylizer used it (`--style-size`),
 * to check that smoothing keeps the style, and with the per-frame output of the same clip, that loss
 * as a blur equivalent (the σ in px whose Gaussian blur of the per-frame output scores the same).
 * `livestyle eval flow`: end-point error of the flow estimator against a ground-truth `.flo`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { readImageFile } from '@livestyle/core/internal/io/node-image.js';
import { InputError, toImageBatch, type PixelsLike } from '@livestyle/core/internal/pipeline/input.js';
import { DEFAULT_OPTIONS } from '@livestyle/core/internal/pipeline/options.js';
import { MODEL_FAMILIES } from '@livestyle/core/internal/weights/architectures.js';
import { initCliBackend, type BackendReport, type CliBackend } from './backend.js';
import { TemporalMeter, type StyleReferenceSize, type TemporalMeasure } from '@livestyle/core/internal/metrics/temporal-meter.js';
import { blurEquivalentSigmaPx, type BlurEquivalent } from '@livestyle/core/internal/metrics/blur-equivalent.js';
import { readStyleFile } from './io/style-file.js';
import { estimateFlow, resizeFlow, type FlowOptions } from '@livestyle/core/internal/temporal/flow.js';
import { endPointError, parseFlo, type FlowField } from '@livestyle/core/internal/temporal/flo.js';
import { FRAME_EXTENSIONS } from './io/video.js';
import { writeJsonFile } from '@livestyle/core/internal/io/atomic-file.js';

export interface EvalTemporalFlags {
  input: string;
  output: string;
  flow?: string;
  style?: string;
  /**
   * `--style-size`: the longest side the style was read at for the run being measured (0 = native),
   * as `livestyle video --style-size`; default the stylizer's. The style loss is measured against the
   * style at exactly that scale.
   */
  styleSize?: number;
  /** The same clip stylised frame by frame (temporal smoothing off): reports the output's blur equivalent. */
  perFrame?: string;
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

/**
 * How far the stylizer may crop a side below the scaled input: to a multiple of 2^(deepest level - 1),
 * at most 15 px for the deepest cascade (cd16x, level 5), plus 1 px for rounding the scale.
 */
const CROP_SLACK_PX = 2 ** (Math.max(...Object.values(MODEL_FAMILIES).flatMap((f) => f.defaultLevels)) - 1);

/**
 * Whether an output frame `outW x outH` can be the input frame `inW x inH` scaled by one factor and
 * cropped as the stylizer crops: some s with outW <= s·inW < outW + slack, and the same for the height.
 */
function outputFitsInput(inW: number, inH: number, outW: number, outH: number): boolean {
  const low = Math.max((outW - 1) / inW, (outH - 1) / inH);
  const high = Math.min((outW + CROP_SLACK_PX) / inW, (outH + CROP_SLACK_PX) / inH);
  return low < high;
}

/** One frame's pixels, refused unless it is `w x h` (the first frame's size of its folder). */
async function readFrameOfSize(file: string, flag: string, first: string, w: number, h: number): Promise<PixelsLike> {
  const px = await readImageFile(file);
  if (px.width !== w || px.height !== h)
    throw new Error(`${flag} ${file} is ${px.width}x${px.height} but ${flag} ${first} is ${w}x${h}: a clip's frames must share one size`);
  return px;
}

/** `[1,h,w,3]` of decoded pixels, resized to `h x w` if they differ. Caller owns. */
function frameAt(px: PixelsLike, file: string, h: number, w: number): tf.Tensor4D {
  const t = toImageBatch(px, file);
  if (px.height === h && px.width === w) return t;
  const r = tf.image.resizeBilinear(t, [h, w], false, true);
  t.dispose();
  return r;
}

function flowTensor(f: FlowField): tf.Tensor4D {
  return tf.tensor4d(f.data, [1, f.height, f.width, 2]);
}

/** The blur equivalent of the output's style loss (see metrics/blur-equivalent.ts). */
export interface BlurEquivalentReport extends BlurEquivalent {
  /** The mean style loss of the per-frame frames (`--per-frame`), unblurred. */
  readonly perFrameStyleLoss: number;
}

export interface TemporalReport {
  readonly warpingError: number;
  readonly pairs: Array<{ from: string; to: string; error: number; maskedFraction: number }>;
  readonly styleLoss?: number;
  /** The style as the loss measured it: its size at `--style-size` (the stylizer's scale). */
  readonly styleReference?: StyleReferenceSize;
  /** With `--per-frame`: the Gaussian blur of the per-frame output that scores the output's style loss. */
  readonly blurEquivalent?: BlurEquivalentReport;
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  readonly backend: BackendReport;
}

/** The frames of `--input`, `--output` (and `--per-frame`), refused unless they pair up one to one. */
async function pairedFrames(flags: EvalTemporalFlags): Promise<{ inputs: string[]; outputs: string[]; perFrame: string[] | null }> {
  const inputs = await listFrames(flags.input, '--input');
  const outputs = await listFrames(flags.output, '--output');
  if (inputs.length !== outputs.length)
    throw new Error(
      `--input ${flags.input} has ${inputs.length} frames but --output ${flags.output} has ${outputs.length}; they must pair up`,
    );
  if (flags.perFrame === undefined) return { inputs, outputs, perFrame: null };
  if (!flags.style) throw new Error('--per-frame needs --style: the blur equivalent is one of the style loss');
  const perFrame = await listFrames(flags.perFrame, '--per-frame');
  if (perFrame.length !== outputs.length)
    throw new Error(
      `--per-frame ${flags.perFrame} has ${perFrame.length} frames but --output ${flags.output} has ${outputs.length}; they must pair up`,
    );
  return { inputs, outputs, perFrame };
}

async function givenFlows(flags: EvalTemporalFlags, frameCount: number): Promise<string[] | null> {
  if (!flags.flow) return null;
  if (!existsSync(flags.flow) || !statSync(flags.flow).isDirectory()) throw new Error(`--flow ${flags.flow} is not a folder`);
  const flows = (await readdir(flags.flow)).filter((f) => f.endsWith('.flo')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (flows.length !== frameCount - 1)
    throw new Error(`--flow has ${flows.length} .flo files; ${frameCount} frames need ${frameCount - 1} (one per consecutive pair)`);
  return flows.map((f) => path.join(flags.flow as string, f));
}

/** The meter, its style read as `livestyle video --style-size` reads it; a style too small for any run refused in one line. */
async function createMeter(flags: EvalTemporalFlags, backend: CliBackend): Promise<TemporalMeter> {
  if (!flags.style) return TemporalMeter.create({ backend });
  const styleSizePx = flags.styleSize ?? DEFAULT_OPTIONS.styleMaxSizePx;
  const style = await readStyleFile(flags.style, styleSizePx);
  try {
    return await TemporalMeter.create({ style, styleMaxSizePx: styleSizePx, backend });
  } catch (e) {
    if (e instanceof InputError)
      throw new InputError(
        `--style ${flags.style}: ${e.message.replace('styleMaxSizePx', '--style-size')}; no run stylised with it at this scale`,
      );
    throw e;
  }
}

/** The first input and output frames' sizes, refused (naming both files) unless the output can be the input scaled and cropped. */
async function frameSizes(inputs: string[], outputs: string[]): Promise<{ inW: number; inH: number; w: number; h: number }> {
  const [inMeta, outMeta] = await Promise.all([readImageFile(inputs[0] as string), readImageFile(outputs[0] as string)]);
  const [inW, inH, w, h] = [inMeta.width, inMeta.height, outMeta.width, outMeta.height];
  if (!outputFitsInput(inW, inH, w, h))
    throw new Error(
      `--output ${outputs[0]} is ${w}x${h} but --input ${inputs[0]} is ${inW}x${inH}: not the same frame scaled (and cropped by under ${CROP_SLACK_PX} px)`,
    );
  return { inW, inH, w, h };
}

/**
 * The σ whose blur of the per-frame frames scores `targetLoss`; the unblurred loss is computed once
 * (the bisection asks for it again).
 */
async function blurEquivalentOf(
  meter: TemporalMeter,
  files: string[],
  w: number,
  h: number,
  targetLoss: number,
): Promise<BlurEquivalentReport> {
  const frames: tf.Tensor4D[] = [];
  try {
    for (const f of files) frames.push(frameAt(await readFrameOfSize(f, '--per-frame', files[0] as string, w, h), f, h, w));
    const perFrameStyleLoss = await meter.blurredStyleLoss(frames, 0);
    const loss = (sigmaPx: number): Promise<number> =>
      sigmaPx === 0 ? Promise.resolve(perFrameStyleLoss) : meter.blurredStyleLoss(frames, sigmaPx);
    return { ...(await blurEquivalentSigmaPx(loss, targetLoss)), perFrameStyleLoss };
  } finally {
    tf.dispose(frames);
  }
}

export async function evalTemporal(flags: EvalTemporalFlags, log: (m: string) => void = () => undefined): Promise<TemporalReport> {
  const { inputs, outputs, perFrame } = await pairedFrames(flags);
  const backend = await initCliBackend(flags.backend ?? 'auto', flags.quiet);
  const flows = await givenFlows(flags, inputs.length);
  const { inW, inH, w, h } = await frameSizes(inputs, outputs);
  const pairs: Array<{ from: string; to: string; error: number; maskedFraction: number }> = [];
  const meter = await createMeter(flags, backend.name as CliBackend);
  let measure: TemporalMeasure;
  let blurEquivalent: BlurEquivalentReport | undefined;
  try {
    const reference = meter.result().styleReference;
    if (reference)
      log(`style loss against ${flags.style} at ${reference.widthPx}x${reference.heightPx} (--style-size ${reference.styleMaxSizePx})`);
    for (let i = 0; i < inputs.length; i++) {
      const input = frameAt(
        await readFrameOfSize(inputs[i] as string, '--input', inputs[0] as string, inW, inH),
        inputs[i] as string,
        h,
        w,
      );
      const output = frameAt(
        await readFrameOfSize(outputs[i] as string, '--output', outputs[0] as string, w, h),
        outputs[i] as string,
        h,
        w,
      );
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
    if (perFrame && measure.styleLoss !== undefined) blurEquivalent = await blurEquivalentOf(meter, perFrame, w, h, measure.styleLoss);
  } finally {
    meter.dispose();
  }
  return {
    warpingError: measure.warpingError,
    pairs,
    ...(measure.styleLoss !== undefined ? { styleLoss: measure.styleLoss, styleReference: measure.styleReference } : {}),
    ...(blurEquivalent ? { blurEquivalent } : {}),
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
