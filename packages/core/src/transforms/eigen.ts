/**
 * Symmetric eigendecomposition in float64 by the cyclic Jacobi method.
 * ref: Golub & Van Loan, "Matrix Computations", 4th ed., §8.5.2 (cyclic Jacobi), with the
 * Rutishauser rotation formulas (Numerical Recipes §11.1) for numerical stability.
 *
 * The WCT covariance matrices are small (C <= 256) and ill-conditioned (the pruned encoders have
 * dead channels), which Jacobi handles with high relative accuracy.
 */
export interface SymmetricEigen {
  /** Eigenvalues, unsorted. */
  readonly values: Float64Array;
  /** Eigenvectors as columns of an n x n row-major matrix: vectors[i * n + k] is component i of vector k. */
  readonly vectors: Float64Array;
}

export function symmetricEigen(matrix: ArrayLike<number>, n: number, maxSweeps = 60): SymmetricEigen {
  if (matrix.length !== n * n) throw new Error(`symmetricEigen: expected ${n * n} entries, got ${matrix.length}`);
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale = Math.max(scale, Math.abs(a[i] as number));
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += (a[p * n + q] as number) ** 2;
    if (off <= (Number.EPSILON * scale) ** 2 * 1e-4 || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q] as number;
        if (apq === 0) continue;
        const app = a[p * n + p] as number;
        const aqq = a[q * n + q] as number;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        const tau = s / (1 + c);
        a[p * n + p] = app - t * apq;
        a[q * n + q] = aqq + t * apq;
        a[p * n + q] = 0;
        a[q * n + p] = 0;
        for (let r = 0; r < n; r++) {
          if (r !== p && r !== q) {
            const arp = a[r * n + p] as number;
            const arq = a[r * n + q] as number;
            const nrp = arp - s * (arq + tau * arp);
            const nrq = arq + s * (arp - tau * arq);
            a[r * n + p] = nrp;
            a[p * n + r] = nrp;
            a[r * n + q] = nrq;
            a[q * n + r] = nrq;
          }
          const vrp = v[r * n + p] as number;
          const vrq = v[r * n + q] as number;
          v[r * n + p] = vrp - s * (vrq + tau * vrp);
          v[r * n + q] = vrq + s * (vrp - tau * vrq);
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i] as number;
  return { values, vectors: v };
}

/**
 * E diag(f(e)) E^T for a symmetric matrix. Eigenvalues at or below `relativeFloor * max(e)` (and any
 * negative round-off) map to 0: those directions are dead channels, whose inverse square root would
 * otherwise blow up (see ../shared/README.md on the near-zero eigenvalues of the pruned encoders).
 */
export function spectralFunction(
  matrix: ArrayLike<number>,
  n: number,
  f: (eigenvalue: number) => number,
  relativeFloor = 1e-8,
): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, n);
  let max = 0;
  for (const e of values) max = Math.max(max, e);
  const floor = max * relativeFloor;
  const d = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const e = values[k] as number;
    d[k] = e > floor && e > 0 ? f(e) : 0;
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += (vectors[i * n + k] as number) * (d[k] as number) * (vectors[j * n + k] as number);
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

/** Row-major (n x n) · (n x n). */
export function matMul64(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k] as number;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] = (out[i * n + j] as number) + aik * (b[k * n + j] as number);
    }
  return out;
}
