// The float64 moments (moments.ts) against a plain two-pass reference: the blocked, register-tiled
// accumulation (issue 32: ~1.5 s of a 64 px CLI run was spent here) only reorders float64 additions,
// so it must agree to float64 round-off, for odd channel counts and for features added in parts.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { MomentAccumulator, featureMoments } from '../../packages/core/src/transforms/moments.js';

/** Mean and unbiased covariance the textbook way: mean first, then centred products, one running sum each. */
function reference(x: Float32Array, n: number, c: number): { mean: Float64Array; covariance: Float64Array } {
  const mean = new Float64Array(c);
  for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) mean[k]! += x[i * c + k]!;
  for (let k = 0; k < c; k++) mean[k]! /= n;
  const covariance = new Float64Array(c * c);
  for (let a = 0; a < c; a++)
    for (let b = 0; b < c; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += (x[i * c + a]! - mean[a]!) * (x[i * c + b]! - mean[b]!);
      covariance[a * c + b] = s / (n - 1);
    }
  return { mean, covariance };
}

/** ReLU-like features: sparse, non-negative, a different offset per channel (as the encoders give). */
function features(h: number, w: number, c: number, seed: number): Float32Array {
  const x = new Float32Array(h * w * c);
  let state = seed;
  for (let i = 0; i < x.length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const v = (state / 2147483648) * 4 - 2 + (i % c) * 0.05;
    x[i] = v > 0 ? v * 10 : 0;
  }
  return x;
}

/** Largest |a - b| relative to the covariance's scale (its largest diagonal entry). */
function relativeError(a: Float64Array, b: Float64Array, c: number): number {
  let scale = 0;
  for (let k = 0; k < c; k++) scale = Math.max(scale, Math.abs(b[k * c + k]!));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst / scale;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('float64 feature moments', () => {
  for (const [h, w, c] of [
    [37, 29, 64],
    [9, 7, 5],
    [3, 1, 1],
    [20, 20, 130],
  ] as const)
    it(`match the two-pass reference to float64 round-off (${h}x${w}x${c})`, async () => {
      const x = features(h, w, c, c + h);
      const t = tf.tensor4d(x, [1, h, w, c]);
      const m = await featureMoments(t, 'float64');
      t.dispose();
      const ref = reference(x, h * w, c);
      expect(m.count).toBe(h * w);
      expect(relativeError(m.covariance, ref.covariance, c)).toBeLessThan(1e-13);
      for (let k = 0; k < c; k++) expect(m.mean[k]).toBeCloseTo(ref.mean[k]!, 10);
      for (let a = 0; a < c; a++) for (let b = 0; b < c; b++) expect(m.covariance[a * c + b]).toBe(m.covariance[b * c + a]);
    });

  it('in parts (tiles) equal the whole', async () => {
    const [h, w, c] = [40, 30, 33];
    const x = features(h, w, c, 7);
    const acc = new MomentAccumulator();
    for (const [from, rows] of [
      [0, 13],
      [13, 1],
      [14, 26],
    ] as const) {
      const part = tf.tensor4d(x.subarray(from * w * c, (from + rows) * w * c), [1, rows, w, c]);
      await acc.add(part);
      part.dispose();
    }
    const ref = reference(x, h * w, c);
    expect(relativeError(acc.moments().covariance, ref.covariance, c)).toBeLessThan(1e-13);
  });
});
