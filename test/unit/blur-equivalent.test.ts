import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeWasm } from '../../packages/core/src/backend/node-wasm.js';
import { blurEquivalentSigmaPx, gaussianBlur } from '../../packages/core/src/metrics/blur-equivalent.js';

beforeAll(async () => {
  await initNodeWasm();
});

describe('blurEquivalentSigmaPx', () => {
  // A synthetic loss, monotone in σ like the honest meter's: 1 + σ², so σ = sqrt(target - 1).
  const loss = (sigmaPx: number): Promise<number> => Promise.resolve(1 + sigmaPx * sigmaPx);

  it.each([0.25, 0.5, 1.3, 2.9])('finds σ %f px within the tolerance', async (sigmaPx) => {
    const r = await blurEquivalentSigmaPx(loss, 1 + sigmaPx * sigmaPx, { toleranceSigmaPx: 0.001 });
    expect(r.atBound).toBe(false);
    expect(Math.abs(r.sigmaPx - sigmaPx)).toBeLessThanOrEqual(0.001);
  });

  it('costs two end evaluations and one per halving (0.01 px over [0, 3]: 9)', async () => {
    let calls = 0;
    const counted = (s: number): Promise<number> => {
      calls++;
      return loss(s);
    };
    await blurEquivalentSigmaPx(counted, 1.5);
    expect(calls).toBe(2 + Math.ceil(Math.log2(3 / 0.01)));
  });

  it('clamps a target outside the range to its ends, flagged', async () => {
    expect(await blurEquivalentSigmaPx(loss, 0.5)).toEqual({ sigmaPx: 0, atBound: true });
    expect(await blurEquivalentSigmaPx(loss, 1)).toEqual({ sigmaPx: 0, atBound: true });
    expect(await blurEquivalentSigmaPx(loss, 100, { maxSigmaPx: 2 })).toEqual({ sigmaPx: 2, atBound: true });
  });

  it('refuses a non-finite target and an empty range', async () => {
    await expect(blurEquivalentSigmaPx(loss, NaN)).rejects.toThrow('the target loss must be finite (got NaN)');
    await expect(blurEquivalentSigmaPx(loss, 2, { maxSigmaPx: 0 })).rejects.toThrow('must be > 0');
  });
});

describe('gaussianBlur', () => {
  it('keeps a constant image, spreads an impulse with variance σ² per axis, and copies at σ 0', () => {
    const flat = tf.fill<tf.Rank.R4>([1, 9, 11, 3], 0.4);
    const b = gaussianBlur(flat, 1);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(b, flat))).dataSync()[0])).toBeLessThan(1e-6);
    const impulse = tf.tidy(() =>
      tf.pad(tf.ones<tf.Rank.R4>([1, 1, 1, 1]), [
        [0, 0],
        [15, 15],
        [15, 15],
        [0, 0],
      ]),
    );
    const spread = gaussianBlur(impulse, 1.5);
    const v = spread.dataSync();
    let sum = 0;
    let varianceX = 0;
    for (let y = 0; y < 31; y++)
      for (let x = 0; x < 31; x++) {
        sum += v[y * 31 + x] as number;
        varianceX += (v[y * 31 + x] as number) * (x - 15) ** 2;
      }
    expect(sum).toBeCloseTo(1, 5);
    expect(varianceX).toBeCloseTo(1.5 ** 2, 1);
    const copy = gaussianBlur(impulse, 0);
    expect(copy).not.toBe(impulse);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(copy, impulse))).dataSync()[0])).toBe(0);
    expect(() => gaussianBlur(flat, -1)).toThrow('sigmaPx must be a finite number >= 0 (got -1)');
    expect(() => gaussianBlur(flat, 4)).toThrow('needs a 12 px border, more than the 11x9 image has');
    tf.dispose([flat, b, impulse, spread, copy]);
  });
});
