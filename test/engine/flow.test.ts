// Optical flow, dense warping and the .flo format, on Node's WASM backend, against the shared
// Sintel pairs with ground truth.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeWasm } from '../../packages/core/src/backend/node-wasm.js';
import { readImageFile } from '../../packages/core/src/io/node-image.js';
import { toImageBatch } from '../../packages/core/src/pipeline/input.js';
import {
  estimateFlow,
  estimateFlowBothWays,
  consistencyMask,
  FlowOptionsError,
  resolveFlowOptions,
} from '../../packages/core/src/temporal/flow.js';
import { warpBilinear, warpBilinearOps, hasWarpKernel, warpCubic } from '../../packages/core/src/temporal/warp.js';
import { parseFlo, encodeFlo, endPointError, FloFormatError, type FlowField } from '../../packages/core/src/temporal/flo.js';
import { SHARED } from '../helpers.js';

const FLOW = path.join(SHARED, 'data', 'flow');

beforeAll(async () => {
  await initNodeWasm();
});

async function mask(file: string): Promise<Uint8Array> {
  const { data } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** EPE of our flow on a shared Sintel pair (frame_0002 → frame_0003), and of zero motion. */
async function sintelEpe(seq: string, pass: 'clean' | 'final'): Promise<{ epe: number; noc: number; zero: number }> {
  const dir = path.join(FLOW, seq);
  const a = toImageBatch(await readImageFile(path.join(dir, pass, 'frame_0002.png')));
  const b = toImageBatch(await readImageFile(path.join(dir, pass, 'frame_0003.png')));
  const truth = parseFlo(new Uint8Array(readFileSync(path.join(dir, 'flow', 'frame_0002.flo'))));
  const occ = await mask(path.join(dir, 'occlusions', 'frame_0002.png'));
  const inv = await mask(path.join(dir, 'invalid', 'frame_0002.png'));
  const flow = estimateFlow(a, b);
  const est: FlowField = { width: truth.width, height: truth.height, data: (await flow.data()) as Float32Array };
  tf.dispose([a, b, flow]);
  const e = endPointError(est, truth, occ, inv);
  const zero = endPointError({ ...est, data: new Float32Array(est.data.length) }, truth, occ, inv);
  return { epe: e.all, noc: e.nonOccluded, zero: zero.all };
}

describe('optical flow accuracy on the shared Sintel pairs (clean pass, EPE over valid pixels)', () => {
  it('alley_1: at most 0.6 px (zero motion 2.98)', async () => {
    const r = await sintelEpe('sintel_alley_1_f0002', 'clean');
    expect(r.zero).toBeCloseTo(2.98, 1);
    expect(r.epe).toBeLessThanOrEqual(0.6);
  });

  it('cave_2: at most 2.5 px (zero motion 15.1)', async () => {
    const r = await sintelEpe('sintel_cave_2_f0002', 'clean');
    expect(r.zero).toBeCloseTo(15.1, 0);
    expect(r.epe).toBeLessThanOrEqual(2.5);
  });

  it('market_5: a regression bound only; the 12 px target is NOT met (see README, "Optical flow")', async () => {
    // Measured 22.2 px: the dark, fast-moving ground at the bottom of the frame is lost by the
    // coarse-to-fine pyramid (even a ground-truth start at 1/16 scale refines to ~13 px).
    const r = await sintelEpe('sintel_market_5_f0002', 'clean');
    expect(r.zero).toBeCloseTo(32.0, 0);
    expect(r.epe).toBeLessThanOrEqual(24);
  });
});

describe('dense warping', () => {
  const image = (): tf.Tensor4D =>
    tf.tensor4d(
      Float32Array.from({ length: 20 * 30 * 3 }, (_, i) => ((i * 7919) % 997) / 997),
      [1, 20, 30, 3],
    );

  it('the wasm kernel is registered and equals the stock-ops reference, including clamped samples', () => {
    expect(hasWarpKernel('wasm')).toBe(true);
    expect(hasWarpKernel('cpu')).toBe(true);
    const img = image();
    const flow = tf.tensor4d(
      Float32Array.from({ length: 20 * 30 * 2 }, (_, i) => (((i * 104729) % 1700) - 850) / 100),
      [1, 20, 30, 2],
    );
    const a = warpBilinear(img, flow);
    const b = warpBilinearOps(img, flow);
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([img, flow, a, b]);
  });

  it('the Catmull-Rom warp: exact on integer shifts and linear ramps, and keeps a fine texture that bilinear blurs', () => {
    const img = image();
    const shift = tf.broadcastTo<tf.Rank.R4>(tf.tensor4d([2, 1], [1, 1, 1, 2]), [1, 20, 30, 2]);
    const out = warpCubic(img, shift);
    const expected = tf.slice(img, [0, 1, 2, 0], [1, 19, 28, 3]);
    expect(tf.max(tf.abs(tf.sub(tf.slice(out, [0, 0, 0, 0], [1, 19, 28, 3]), expected))).dataSync()[0]).toBeLessThan(1e-6);
    // A linear ramp is reproduced exactly away from the border (Catmull-Rom reproduces degree 1).
    const ramp = tf.tidy(() => tf.tile<tf.Tensor4D>(tf.reshape(tf.range(0, 30, 1, 'float32'), [1, 1, 30, 1]), [1, 20, 1, 3]));
    const half = tf.fill<tf.Rank.R4>([1, 20, 30, 2], 0.37);
    const rampOut = warpCubic(ramp, half);
    const inner = tf.slice(rampOut, [0, 2, 2, 0], [1, 16, 26, 1]);
    const truth = tf.tidy(() => tf.add(tf.slice(ramp, [0, 2, 2, 0], [1, 16, 26, 1]), 0.37));
    expect(tf.max(tf.abs(tf.sub(inner, truth))).dataSync()[0]).toBeLessThan(1e-4);
    // A fine sine (period 4 px) moved half a pixel back and forth 8 times: bilinear flattens it, cubic keeps most of it.
    const sine = tf.tidy(() =>
      tf.tile<tf.Tensor4D>(tf.reshape(tf.sin(tf.mul(tf.range(0, 30, 1, 'float32'), Math.PI / 2)), [1, 1, 30, 1]), [1, 20, 1, 3]),
    );
    const amplitude = (warp: (a: tf.Tensor4D, f: tf.Tensor4D) => tf.Tensor4D): number => {
      const fwd = tf.fill<tf.Rank.R4>([1, 20, 30, 2], 0.5);
      const back = tf.fill<tf.Rank.R4>([1, 20, 30, 2], -0.5);
      let x: tf.Tensor4D = tf.clone(sine);
      for (let i = 0; i < 8; i++) {
        const next = warp(x, i % 2 === 0 ? fwd : back);
        x.dispose();
        x = next;
      }
      const a = tf.tidy(() => tf.sqrt(tf.mean(tf.square(tf.slice(x, [0, 0, 8, 0], [1, 20, 14, 3])))).dataSync()[0] as number);
      tf.dispose([x, fwd, back]);
      return a;
    };
    const bilinear = amplitude(warpBilinear);
    const cubic = amplitude(warpCubic);
    // RMS of the sine is 0.707: each bilinear half-pixel step halves its amplitude (cos(π/4)² ≈ 0.5 per pair).
    expect(bilinear).toBeLessThan(0.1);
    expect(cubic).toBeGreaterThan(3 * bilinear);
    tf.dispose([img, shift, out, expected, ramp, half, rampOut, inner, truth, sine]);
  });

  it('an integer shift moves pixels exactly; zero flow is the identity', () => {
    const img = image();
    const shift = tf.broadcastTo<tf.Rank.R4>(tf.tensor4d([2, 1], [1, 1, 1, 2]), [1, 20, 30, 2]);
    const out = warpBilinear(img, shift);
    const expected = tf.slice(img, [0, 1, 2, 0], [1, 19, 28, 3]);
    expect(tf.max(tf.abs(tf.sub(tf.slice(out, [0, 0, 0, 0], [1, 19, 28, 3]), expected))).dataSync()[0]).toBe(0);
    const zero = tf.zeros<tf.Rank.R4>([1, 20, 30, 2]);
    const same = warpBilinear(img, zero);
    expect(tf.max(tf.abs(tf.sub(same, img))).dataSync()[0]).toBe(0);
    tf.dispose([img, shift, out, expected, zero, same]);
  });

  it('rejects mismatched shapes', () => {
    const img = image();
    const flow = tf.zeros<tf.Rank.R4>([1, 10, 30, 2]);
    expect(() => warpBilinear(img, flow)).toThrow(/do not match/);
    tf.dispose([img, flow]);
  });
});

describe('forward-backward consistency', () => {
  it('marks pixels that leave the frame and keeps a consistent interior', () => {
    const fwd = tf.broadcastTo<tf.Rank.R4>(tf.tensor4d([3, 0], [1, 1, 1, 2]), [1, 16, 20, 2]);
    const bwd = tf.broadcastTo<tf.Rank.R4>(tf.tensor4d([-3, 0], [1, 1, 1, 2]), [1, 16, 20, 2]);
    const m = consistencyMask(fwd, bwd);
    const cols = tf.mean(m, [0, 1, 3]).arraySync() as number[];
    expect(cols.slice(0, 17).every((v) => v === 1)).toBe(true); // x + 3 <= 19.5
    expect(cols.slice(17).every((v) => v === 0)).toBe(true);
    // An inconsistent backward flow (pointing the same way) is rejected everywhere.
    const wrong = consistencyMask(fwd, fwd);
    expect(tf.max(wrong).dataSync()[0]).toBe(0);
    tf.dispose([fwd, bwd, m, wrong]);
  });
});

describe('flow API hygiene', () => {
  it('leaves no tensors behind', () => {
    const a = tf.randomUniform<tf.Rank.R4>([1, 40, 56, 3], 0, 1, 'float32', 1);
    const b = tf.randomUniform<tf.Rank.R4>([1, 40, 56, 3], 0, 1, 'float32', 2);
    const before = tf.memory().numTensors;
    const f = estimateFlow(a, b);
    const g = estimateFlow(b, a, { finestLevel: 0 });
    const m = consistencyMask(f, g);
    const w = warpBilinear(a, f);
    tf.dispose([f, g, m, w]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });

  it('both directions from one pair of pyramids equal two separate estimates, and leak nothing', () => {
    const a = tf.randomUniform<tf.Rank.R4>([1, 40, 56, 3], 0, 1, 'float32', 3);
    const b = tf.randomUniform<tf.Rank.R4>([1, 40, 56, 3], 0, 1, 'float32', 4);
    const fwd = estimateFlow(a, b);
    const bwd = estimateFlow(b, a);
    const before = tf.memory().numTensors;
    const [f2, b2] = estimateFlowBothWays(a, b);
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(tf.max(tf.abs(tf.sub(fwd, f2))).dataSync()[0]).toBe(0);
    expect(tf.max(tf.abs(tf.sub(bwd, b2))).dataSync()[0]).toBe(0);
    tf.dispose([a, b, fwd, bwd, f2, b2]);
  });

  it('validates options and frame sizes with clear messages', () => {
    expect(() => resolveFlowOptions({ tau: 0.5 })).toThrow(/tau must be in \(0, 0.25\]/);
    expect(() => resolveFlowOptions({ warps: 0 })).toThrow(FlowOptionsError);
    expect(() => resolveFlowOptions({ bogus: 1 } as never)).toThrow(/unknown flow option "bogus"/);
    expect(() => resolveFlowOptions({ fusedKernels: 1 } as never)).toThrow(/fusedKernels must be a boolean \(got 1\)/);
    const a = tf.zeros<tf.Rank.R4>([1, 32, 32, 3]);
    const b = tf.zeros<tf.Rank.R4>([1, 32, 40, 3]);
    expect(() => estimateFlow(a, b)).toThrow(/frames differ in size/);
    tf.dispose([a, b]);
  });
});

describe('.flo files', () => {
  it('round-trips and reads the shared ground truth', () => {
    const f: FlowField = { width: 3, height: 2, data: Float32Array.from([1, 2, 3, 4, 5, 6, -1, -2, 0.5, 0.25, 1e3, -1e3]) };
    const back = parseFlo(encodeFlo(f));
    expect(back.width).toBe(3);
    expect(Array.from(back.data)).toEqual(Array.from(f.data));
    const gt = parseFlo(new Uint8Array(readFileSync(path.join(FLOW, 'sintel_alley_1_f0002', 'flow', 'frame_0002.flo'))));
    expect([gt.width, gt.height]).toEqual([1024, 436]);
  });

  it('refuses bad files with the reason', () => {
    expect(() => parseFlo(new Uint8Array(4))).toThrow(/too short/);
    const bad = encodeFlo({ width: 2, height: 2, data: new Float32Array(8) });
    new DataView(bad.buffer).setFloat32(0, 1, true);
    expect(() => parseFlo(bad)).toThrow(/not a \.flo file/);
    const short = encodeFlo({ width: 2, height: 2, data: new Float32Array(8) }).slice(0, 30);
    expect(() => parseFlo(short)).toThrow(FloFormatError);
  });

  it('end-point error excludes occluded and invalid pixels', () => {
    const truth: FlowField = { width: 2, height: 1, data: Float32Array.from([0, 0, 3, 4]) };
    const est: FlowField = { width: 2, height: 1, data: new Float32Array(4) };
    expect(endPointError(est, truth).all).toBe(2.5);
    expect(endPointError(est, truth, Uint8Array.from([0, 255])).nonOccluded).toBe(0);
    expect(endPointError(est, truth, undefined, Uint8Array.from([0, 255])).all).toBe(0);
  });
});
