/**
 * The whole coupled Newton–Schulz inverse square root (matrix-sqrt.ts) as one WebGPU dispatch,
 * instead of ~125 (20 iterations x 6 ops, plus the trace and ridge). The matrices are small (C <=
 * 128 channels at relu4_1 in cd16x, 512 in vgg19's relu3_1 would be 256), so one workgroup runs every
 * iteration, separated by storage and workgroup barriers: on a GPU, per-dispatch cost rather than
 * arithmetic bounds this stage (Issue 17's counts: Newton–Schulz was 125 of the realtime frame's 184
 * dispatches). The planes of the output buffer hold the iterates (Y and Z ping-ponged, and T); plane 0
 * ends as the result, which `inverseSqrtNewtonSchulz` slices out.
 * Imported for its side effect by the browser entry and the Node WebGPU start-up; other backends
 * keep the composed ops. `test/webgpu-node.test.ts` checks it against them.
 * ref: Higham, "Functions of Matrices", SIAM 2008, §6.3, eq. (6.35).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { BIND_UNIFORMS_WGSL, SINGLE_WORKGROUP_THREADS, SingleWorkgroupWebGPUProgram } from '../backend/webgpu-program.js';
import { NEWTON_SCHULZ_KERNEL } from './matrix-sqrt.js';

/** Planes of the kernel's output: result, Y ping, Y pong, Z pong, T. */
export const NEWTON_SCHULZ_PLANES = 5;

/** A float literal WGSL reads as f32. */
const lit = (x: number): string => (Number.isInteger(x) ? x.toFixed(1) : x.toExponential());

class NewtonSchulzProgram extends SingleWorkgroupWebGPUProgram {
  variableNames = ['matrix'];
  shaderKey: string;

  constructor(
    private readonly c: number,
    private readonly iterations: number,
    private readonly relativeRidge: number,
  ) {
    super([NEWTON_SCHULZ_PLANES, c, c]);
    this.shaderKey = `livestyleNewtonSchulz_${c}_${iterations}_${relativeRidge}`;
  }

  getUserCode(): string {
    const c = this.c;
    const n = c * c;
    // Planes (offsets into result): 0 = Z ping (and the final result), 1 = Y ping, 2 = Y pong,
    // 3 = Z pong, 4 = T. Even steps read ping and write pong, odd steps the reverse.
    return `
      const C = ${c};
      const N = ${n};
      fn mm(a : i32, b : i32, i : i32, j : i32) -> f32 {
        var s = 0.0;
        for (var k = 0; k < C; k++) {
          s = s + result[a + i * C + k] * result[b + k * C + j];
        }
        return s;
      }
      fn main(index : i32) {
        ${BIND_UNIFORMS_WGSL}
        let t = i32(localIndex);
        // tr(A) / C is the mean eigenvalue; the tiny absolute floor keeps an all-zero matrix finite.
        var tr = 0.0;
        for (var i = 0; i < C; i++) { tr = tr + matrix[i * C + i]; }
        let meanEig = tr / f32(C) + 1e-30;
        let ridge = meanEig * ${lit(this.relativeRidge)};
        let trace = meanEig * f32(C) * (1.0 + ${lit(this.relativeRidge)});
        for (var e = t; e < N; e = e + ${SINGLE_WORKGROUP_THREADS}) {
          let i = e / C;
          let j = e % C;
          let diag = select(0.0, 1.0, i == j);
          result[N + e] = (matrix[e] + diag * ridge) / trace;
          result[e] = diag;
        }
        var yIn = N;
        var zIn = 0;
        var yOut = 2 * N;
        var zOut = 3 * N;
        for (var step = 0; step < ${this.iterations}; step++) {
          storageBarrier();
          workgroupBarrier();
          // T = (3I - Z Y) / 2
          for (var e = t; e < N; e = e + ${SINGLE_WORKGROUP_THREADS}) {
            let i = e / C;
            let j = e % C;
            result[4 * N + e] = 0.5 * (select(0.0, 3.0, i == j) - mm(zIn, yIn, i, j));
          }
          storageBarrier();
          workgroupBarrier();
          // Y <- Y T, Z <- T Z
          for (var e = t; e < N; e = e + ${SINGLE_WORKGROUP_THREADS}) {
            let i = e / C;
            let j = e % C;
            result[yOut + e] = mm(yIn, 4 * N, i, j);
            result[zOut + e] = mm(4 * N, zIn, i, j);
          }
          let y0 = yIn;
          yIn = yOut;
          yOut = y0;
          let z0 = zIn;
          zIn = zOut;
          zOut = z0;
        }
        storageBarrier();
        workgroupBarrier();
        // Z ~ (A / tr)^-1/2 = A^-1/2 sqrt(tr); into plane 0 (reading plane 3 when Z ended there).
        let scale = 1.0 / sqrt(trace);
        for (var e = t; e < N; e = e + ${SINGLE_WORKGROUP_THREADS}) {
          result[e] = result[zIn + e] * scale;
        }
      }`;
  }
}

tf.registerKernel({
  kernelName: NEWTON_SCHULZ_KERNEL,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const matrix = inputs['matrix'];
    if (!matrix || matrix.shape.length !== 2 || matrix.shape[0] !== matrix.shape[1])
      throw new Error(`${NEWTON_SCHULZ_KERNEL}: needs a square matrix input`);
    const iterations = attrs?.['iterations'];
    const relativeRidge = attrs?.['relativeRidge'];
    if (typeof iterations !== 'number' || !Number.isInteger(iterations) || iterations < 0)
      throw new Error(`${NEWTON_SCHULZ_KERNEL}: iterations must be an integer >= 0`);
    if (typeof relativeRidge !== 'number' || !Number.isFinite(relativeRidge))
      throw new Error(`${NEWTON_SCHULZ_KERNEL}: relativeRidge must be finite`);
    const program = new NewtonSchulzProgram(matrix.shape[0] as number, iterations, relativeRidge);
    return (backend as WebGPUBackend).runWebGPUProgram(program, [matrix], 'float32');
  },
});
