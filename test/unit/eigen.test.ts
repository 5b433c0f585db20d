import { describe, expect, it } from 'vitest';
import { symmetricEigen, spectralFunction, matMul64 } from '../../packages/core/src/transforms/eigen.js';

/** A deterministic pseudo-random covariance X X^T / n with the given rank. */
function covariance(n: number, rank: number, seed = 1): Float64Array {
  let s = seed;
  const rand = (): number => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const x = Array.from({ length: n * rank }, rand);
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) for (let k = 0; k < rank; k++) c[i * n + j] = c[i * n + j]! + x[i * rank + k]! * x[j * rank + k]!;
  return c;
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('symmetric eigendecomposition', () => {
  it('reconstructs A = V diag(e) V^T with orthonormal V (n = 64)', () => {
    const n = 64;
    const a = covariance(n, 80);
    const { values, vectors } = symmetricEigen(a, n);
    const d = new Float64Array(n * n);
    values.forEach((v, i) => (d[i * n + i] = v));
    const vt = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) vt[i * n + j] = vectors[j * n + i]!;
    expect(maxAbs(matMul64(matMul64(vectors, d, n), vt, n), a)).toBeLessThan(1e-10);
    const identity = new Float64Array(n * n);
    for (let i = 0; i < n; i++) identity[i * n + i] = 1;
    expect(maxAbs(matMul64(vt, vectors, n), identity)).toBeLessThan(1e-12);
  });

  it('whitening of a full-rank covariance gives W C W = I', () => {
    const n = 24;
    const c = covariance(n, 50, 7);
    const w = spectralFunction(c, n, (e) => 1 / Math.sqrt(e));
    const identity = new Float64Array(n * n);
    for (let i = 0; i < n; i++) identity[i * n + i] = 1;
    expect(maxAbs(matMul64(matMul64(w, c, n), w, n), identity)).toBeLessThan(1e-9);
  });

  it('rank-deficient covariances (dead channels) give finite matrices, never NaN', () => {
    const n = 32;
    const c = covariance(n, 10, 3); // rank 10: 22 zero eigenvalues
    const w = spectralFunction(c, n, (e) => 1 / Math.sqrt(e));
    expect(w.every(Number.isFinite)).toBe(true);
    // On the covariance's range W C W is a projector: (W C W)^2 = W C W.
    const p = matMul64(matMul64(w, c, n), w, n);
    expect(maxAbs(matMul64(p, p, n), p)).toBeLessThan(1e-8);
  });
});
