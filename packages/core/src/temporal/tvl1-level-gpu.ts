/**
 * One whole TV-L1 pyramid level (every warp's re-linearisation and every primal–dual iteration) as
 * a single WebGPU dispatch, where the per-iteration passes of `tvl1-kernels-gpu.ts` need two
 * dispatches per iteration plus ~14 stock ops per warp (a 4-warp, 8-iteration level: ~120
 * dispatches). The flow runs at a fixed small size (256 px long side by default, and the finest
 * level solved is half that), so one workgroup can sweep the level: iterations are separated by
 * storage and workgroup barriers, which order memory within a workgroup. Levels larger than
 * {@link TVL1_LEVEL_MAX_PIXELS} keep the per-iteration passes (one workgroup would be too slow there).
 *
 * The arithmetic is that of the composed ops and the two-pass kernels, in the same order:
 * re-linearisation as `flow.ts` (dense bilinear warp of [I1, ∂xI1, ∂yI1] as warp-kernels-gpu.ts,
 * |∇I|² threshold 1e-2), primal step as PRIMAL_WGSL, dual step as DUAL_WGSL.
 * The output `[1, h, w, 10]` holds per pixel u (2), p (4), ∇I₁ (2), 1/|∇I₁|² and ρ's constant;
 * `flow.ts` slices u out. `test/webgpu-node.test.ts` checks it against the two-pass path.
 * ref: Zach, Pock & Bischof, DAGM 2007, eqs. 8–11; Sánchez, Meinhardt-Llopis & Facciolo, IPOL 2013,
 * algorithm 1 (eqs. 19–20).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { BIND_UNIFORMS_WGSL, SINGLE_WORKGROUP_THREADS, SingleWorkgroupWebGPUProgram } from '../backend/webgpu-program.js';
import { TVL1_LEVEL_CHANNELS, TVL1_LEVEL_KERNEL } from './tvl1-step.js';

const lit = (x: number): string => (Number.isInteger(x) ? x.toFixed(1) : String(x));

class Tvl1LevelProgram extends SingleWorkgroupWebGPUProgram {
  variableNames = ['i0', 'i1s', 'u0'];
  shaderKey: string;

  constructor(
    private readonly h: number,
    private readonly w: number,
    private readonly warps: number,
    private readonly iterations: number,
    private readonly lt: number,
    private readonly theta: number,
    private readonly taut: number,
  ) {
    super([1, h, w, TVL1_LEVEL_CHANNELS]);
    this.shaderKey = `livestyleTvl1Level_${h}_${w}_${warps}_${iterations}_${lt}_${theta}_${taut}`;
  }

  getUserCode(): string {
    const S = TVL1_LEVEL_CHANNELS;
    return `
      const H = ${this.h};
      const W = ${this.w};
      const NPX = ${this.h * this.w};
      const S = ${S};
      fn tap(y : i32, x : i32, c : i32) -> f32 { return i1s[(y * W + x) * 3 + c]; }
      fn main(index : i32) {
        ${BIND_UNIFORMS_WGSL}
        let t = i32(localIndex);
        for (var e = t; e < NPX; e = e + ${SINGLE_WORKGROUP_THREADS}) {
          result[e * S] = u0[e * 2];
          result[e * S + 1] = u0[e * 2 + 1];
          for (var j = 2; j < 6; j++) { result[e * S + j] = 0.0; }
        }
        for (var warp = 0; warp < ${this.warps}; warp++) {
          storageBarrier();
          workgroupBarrier();
          // Re-linearise around the current flow: I1, ∂I1 warped bilinearly (clamped to the image).
          for (var e = t; e < NPX; e = e + ${SINGLE_WORKGROUP_THREADS}) {
            let y = e / W;
            let x = e % W;
            let fu0 = result[e * S];
            let fu1 = result[e * S + 1];
            let sx = clamp(f32(x) + fu0, 0.0, f32(W - 1));
            let sy = clamp(f32(y) + fu1, 0.0, f32(H - 1));
            let x0 = i32(floor(sx));
            let y0 = i32(floor(sy));
            let x1 = min(x0 + 1, W - 1);
            let y1 = min(y0 + 1, H - 1);
            let ax = sx - f32(x0);
            let ay = sy - f32(y0);
            var warped = array<f32, 3>(0.0, 0.0, 0.0);
            for (var c = 0; c < 3; c++) {
              let top = mix(tap(y0, x0, c), tap(y0, x1, c), ax);
              let bottom = mix(tap(y1, x0, c), tap(y1, x1, c), ax);
              warped[c] = mix(top, bottom, ay);
            }
            let g0 = warped[1];
            let g1 = warped[2];
            let g2 = g0 * g0 + g1 * g1;
            result[e * S + 6] = g0;
            result[e * S + 7] = g1;
            result[e * S + 8] = select(0.0, 1.0 / max(g2, 0.01), g2 > 0.01);
            result[e * S + 9] = (warped[0] - (g0 * fu0 + g1 * fu1)) - i0[e];
          }
          for (var it = 0; it < ${this.iterations}; it++) {
            storageBarrier();
            workgroupBarrier();
            // Primal: v = u - clip(rho / |∇I|², ±λθ) ∇I, u' = v + θ div p (in place: reads only its own u).
            for (var e = t; e < NPX; e = e + ${SINGLE_WORKGROUP_THREADS}) {
              let y = e / W;
              let x = e % W;
              let pu0 = result[e * S];
              let pu1 = result[e * S + 1];
              let g0 = result[e * S + 6];
              let g1 = result[e * S + 7];
              let rho = result[e * S + 9] + (g0 * pu0 + g1 * pu1);
              let stepSize = clamp(rho * result[e * S + 8], -${lit(this.lt)}, ${lit(this.lt)});
              let left = (y * W + max(x - 1, 0)) * S;
              let up = (max(y - 1, 0) * W + x) * S;
              for (var k = 0; k < 2; k++) {
                let v = select(pu1, pu0, k == 0) - stepSize * select(g1, g0, k == 0);
                let pxLeft = select(0.0, result[left + 2 + 2 * k], x > 0);
                let pyUp = select(0.0, result[up + 3 + 2 * k], y > 0);
                result[e * S + k] = v + ${lit(this.theta)} * ((result[e * S + 2 + 2 * k] - pxLeft) + (result[e * S + 3 + 2 * k] - pyUp));
              }
            }
            storageBarrier();
            workgroupBarrier();
            // Dual: forward differences of u' (zero on the far borders), p' = (p + g) / (1 + |g|).
            for (var e = t; e < NPX; e = e + ${SINGLE_WORKGROUP_THREADS}) {
              let y = e / W;
              let x = e % W;
              let right = (y * W + min(x + 1, W - 1)) * S;
              let down = (min(y + 1, H - 1) * W + x) * S;
              for (var k = 0; k < 2; k++) {
                let uHere = result[e * S + k];
                let gx = select(0.0, ${lit(this.taut)} * (result[right + k] - uHere), x < W - 1);
                let gy = select(0.0, ${lit(this.taut)} * (result[down + k] - uHere), y < H - 1);
                let norm = sqrt(gx * gx + gy * gy);
                result[e * S + 2 + 2 * k] = (result[e * S + 2 + 2 * k] + gx) / (norm + 1.0);
                result[e * S + 3 + 2 * k] = (result[e * S + 3 + 2 * k] + gy) / (norm + 1.0);
              }
            }
          }
        }
      }`;
  }
}

function need(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`${TVL1_LEVEL_KERNEL}: needs input ${name}`);
  return t;
}

function num(attrs: tf.NamedAttrMap | undefined, name: string): number {
  const v = attrs?.[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${TVL1_LEVEL_KERNEL}: needs a finite number attribute ${name}`);
  return v;
}

tf.registerKernel({
  kernelName: TVL1_LEVEL_KERNEL,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const i0 = need(inputs, 'i0');
    const i1s = need(inputs, 'i1s');
    const u0 = need(inputs, 'u0');
    const [, h = 0, w = 0] = i0.shape;
    if (i1s.shape[1] !== h || i1s.shape[2] !== w || i1s.shape[3] !== 3 || u0.shape[1] !== h || u0.shape[2] !== w || u0.shape[3] !== 2)
      throw new Error(`${TVL1_LEVEL_KERNEL}: inputs must be i0 [1,h,w,1], i1s [1,h,w,3], u0 [1,h,w,2]`);
    const program = new Tvl1LevelProgram(
      h,
      w,
      num(attrs, 'warps'),
      num(attrs, 'iterations'),
      num(attrs, 'lambdaTheta'),
      num(attrs, 'theta'),
      num(attrs, 'tauOverTheta'),
    );
    return (backend as WebGPUBackend).runWebGPUProgram(program, [i0, i1s, u0], 'float32');
  },
});
