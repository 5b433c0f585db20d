import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeWasm } from '../../packages/core/src/backend/node-wasm.js';
import { ssimLuminance } from '../../packages/core/src/metrics/ssim.js';

beforeAll(async () => {
  await initNodeWasm();
});

/** SSIM of two luma images by direct loops over every 11x11 window (Wang et al. 2004), float64. */
function ssimLoops(a: Float64Array, b: Float64Array, h: number, w: number): number {
  const win: number[] = [];
  let s = 0;
  for (let i = 0; i < 11; i++)
    for (let j = 0; j < 11; j++) s += win[i * 11 + j] = Math.exp(-((i - 5) ** 2 + (j - 5) ** 2) / (2 * 1.5 ** 2));
  const g = win.map((v) => v / s);
  let total = 0;
  let n = 0;
  for (let y = 0; y + 11 <= h; y++)
    for (let x = 0; x + 11 <= w; x++) {
      let ma = 0, mb = 0, aa = 0, bb = 0, ab = 0; // prettier-ignore
      for (let i = 0; i < 11; i++)
        for (let j = 0; j < 11; j++) {
          const k = (y + i) * w + x + j;
          const wt = g[i * 11 + j] as number;
          const va = a[k] as number;
          const vb = b[k] as number;
          ma += wt * va;
          mb += wt * vb;
          aa += wt * va * va;
          bb += wt * vb * vb;
          ab += wt * va * vb;
        }
      const c1 = 1e-4;
      const c2 = 9e-4;
      total += ((2 * ma * mb + c1) * (2 * (ab - ma * mb) + c2)) / ((ma * ma + mb * mb + c1) * (aa - ma * ma + bb - mb * mb + c2));
      n++;
    }
  return total / n;
}

describe('ssimLuminance', () => {
  it('is 1 for identical images and matches a direct float64 implementation', async () => {
    const a = tf.randomUniform<tf.Rank.R3>([20, 24, 3], 0, 1, 'float32', 1);
    const b = tf.tidy(() => tf.clipByValue(tf.add<tf.Tensor3D>(a, tf.randomUniform([20, 24, 3], -0.2, 0.2, 'float32', 2)), 0, 1));
    expect(await ssimLuminance(a, a)).toBeCloseTo(1, 5);
    const luma = (t: tf.Tensor3D): Float64Array => {
      const d = t.dataSync();
      const out = new Float64Array(20 * 24);
      for (let i = 0; i < out.length; i++) out[i] = 0.299 * d[3 * i]! + 0.587 * d[3 * i + 1]! + 0.114 * d[3 * i + 2]!;
      return out;
    };
    const expected = ssimLoops(luma(a), luma(b), 20, 24);
    expect(expected).toBeLessThan(0.95);
    expect(await ssimLuminance(a, b)).toBeCloseTo(expected, 4);
    await expect(ssimLuminance(a, tf.zeros<tf.Rank.R3>([20, 23, 3]))).rejects.toThrow('shapes differ');
    tf.dispose([a, b]);
  });
});
