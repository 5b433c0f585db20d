/**
 * The TV-L1 primal–dual iteration as two shader passes on webgl (GLSL) and webgpu (WGSL), instead
 * of the ~16 stock ops `flow.ts` composes per iteration (thresholding, divergence, forward
 * gradient, norm, projection). On a GPU each op is a dispatch; the flow of one video frame runs
 * thousands of them (`npm run profile` counts ~3,700 elementwise and ~800 conv calls per realtime
 * frame, nearly all in the flow), so per-dispatch overhead, not arithmetic, bounds it there.
 * Imported for its side effect by the browser entry; wasm/cpu keep the composed ops (their per-op
 * cost is small). `test/browser.test.ts` checks the passes against the ops on each GPU backend.
 * ref: Zach, Pock & Bischof, DAGM 2007, eqs. 8–11; Sánchez, Meinhardt-Llopis & Facciolo, IPOL 2013,
 * algorithm 1 (eqs. 19–20).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GPGPUProgram, MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { FlatWebGPUProgram } from '../backend/webgpu-program.js';
import { TVL1_DUAL_KERNEL, TVL1_PRIMAL_KERNEL } from './tvl1-step.js';

/** A float literal both GLSL and WGSL read as float. */
const lit = (x: number): string => (Number.isInteger(x) ? x.toFixed(1) : String(x));

function input(inputs: tf.NamedTensorInfoMap, name: string, kernel: string): tf.TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`${kernel}: needs input ${name}`);
  return t;
}

function attr(attrs: tf.NamedAttrMap | undefined, name: string, kernel: string): number {
  const v = attrs?.[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${kernel}: needs a finite number attribute ${name}`);
  return v;
}

// Primal step, per output (y, x, k): v = u − clip(rho/|∇I|², ±λθ) ∇I, then u' = v + θ div p, with
// the backward-difference divergence zero-padded at the top/left border (as conv2d 'same' is).
const PRIMAL_GLSL = (lt: string, theta: string): string => `
  float u0 = getU(0, y, x, 0);
  float u1 = getU(0, y, x, 1);
  float g0 = getGrad(0, y, x, 0);
  float g1 = getGrad(0, y, x, 1);
  float rho = getRhoC(0, y, x, 0) + (g0 * u0 + g1 * u1);
  float stepSize = clamp(rho * getInvGrad(0, y, x, 0), -${lt}, ${lt});
  float v = (k == 0 ? u0 : u1) - stepSize * (k == 0 ? g0 : g1);
  float pxLeft = x > 0 ? getP(0, y, x - 1, 2 * k) : 0.0;
  float pyUp = y > 0 ? getP(0, y - 1, x, 2 * k + 1) : 0.0;
  float result = v + ${theta} * ((getP(0, y, x, 2 * k) - pxLeft) + (getP(0, y, x, 2 * k + 1) - pyUp));`;

// WGSL's select() evaluates both sides: neighbour reads are clamped into the image first.
const PRIMAL_WGSL = (lt: string, theta: string): string => `
  let u0 = getU(0, y, x, 0);
  let u1 = getU(0, y, x, 1);
  let g0 = getGrad(0, y, x, 0);
  let g1 = getGrad(0, y, x, 1);
  let rho = getRhoC(0, y, x, 0) + (g0 * u0 + g1 * u1);
  let stepSize = clamp(rho * getInvGrad(0, y, x, 0), -${lt}, ${lt});
  let v = select(u1, u0, k == 0) - stepSize * select(g1, g0, k == 0);
  let pxLeft = select(0.0, getP(0, y, max(x - 1, 0), 2 * k), x > 0);
  let pyUp = select(0.0, getP(0, max(y - 1, 0), x, 2 * k + 1), y > 0);
  let result = v + ${theta} * ((getP(0, y, x, 2 * k) - pxLeft) + (getP(0, y, x, 2 * k + 1) - pyUp));`;

// Dual step, per output (y, x, j) with k = j / 2: forward differences of u'_k scaled by τ/θ (zero
// on the last column/row), then p' = (p + g) / (1 + |g|) over the pair (p_kx, p_ky).
const DUAL_GLSL = (taut: string): string => `
  int k = j / 2;
  float uHere = getU(0, y, x, k);
  float gx = x < w - 1 ? ${taut} * (getU(0, y, x + 1, k) - uHere) : 0.0;
  float gy = y < h - 1 ? ${taut} * (getU(0, y + 1, x, k) - uHere) : 0.0;
  float norm = sqrt(gx * gx + gy * gy);
  float result = (getP(0, y, x, j) + (j == 2 * k ? gx : gy)) / (norm + 1.0);`;

const DUAL_WGSL = (taut: string): string => `
  let k = j / 2;
  let uHere = getU(0, y, x, k);
  let gx = select(0.0, ${taut} * (getU(0, y, min(x + 1, w - 1), k) - uHere), x < w - 1);
  let gy = select(0.0, ${taut} * (getU(0, min(y + 1, h - 1), x, k) - uHere), y < h - 1);
  let norm = sqrt(gx * gx + gy * gy);
  let result = (getP(0, y, x, j) + select(gy, gx, j == 2 * k)) / (norm + 1.0);`;

class PrimalWebGL implements GPGPUProgram {
  variableNames = ['U', 'P', 'Grad', 'InvGrad', 'RhoC'];
  outputShape: number[];
  userCode: string;
  constructor(shape: number[], lt: number, theta: number) {
    this.outputShape = shape;
    this.userCode = `
      void main() {
        ivec4 c = getOutputCoords();
        int y = c[1];
        int x = c[2];
        int k = c[3];
        ${PRIMAL_GLSL(lit(lt), lit(theta))}
        setOutput(result);
      }`;
  }
}

class DualWebGL implements GPGPUProgram {
  variableNames = ['U', 'P'];
  outputShape: number[];
  userCode: string;
  constructor(shape: number[], taut: number) {
    this.outputShape = shape;
    const h = shape[1] as number;
    const w = shape[2] as number;
    this.userCode = `
      void main() {
        ivec4 c = getOutputCoords();
        int y = c[1];
        int x = c[2];
        int j = c[3];
        int h = ${h};
        int w = ${w};
        ${DUAL_GLSL(lit(taut))}
        setOutput(result);
      }`;
  }
}

abstract class Tvl1WebGPU extends FlatWebGPUProgram {
  protected wrap(channel: string, body: string): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let coords = getCoordsFromIndex(index);
          let y = coords[1];
          let x = coords[2];
          let ${channel} = coords[3];
          let h = uniforms.outShape[1];
          let w = uniforms.outShape[2];
          ${body}
          setOutputAtIndex(index, result);
        }
      }`;
  }
}

class PrimalWebGPU extends Tvl1WebGPU {
  variableNames = ['u', 'p', 'grad', 'invGrad', 'rhoC'];
  shaderKey: string;
  constructor(
    shape: number[],
    private readonly lt: number,
    private readonly theta: number,
  ) {
    super(shape);
    this.shaderKey = `livestyleTvl1Primal_${lt}_${theta}`;
  }
  getUserCode(): string {
    return this.wrap('k', PRIMAL_WGSL(lit(this.lt), lit(this.theta)));
  }
}

class DualWebGPU extends Tvl1WebGPU {
  variableNames = ['u', 'p'];
  shaderKey: string;
  constructor(
    shape: number[],
    private readonly taut: number,
  ) {
    super(shape);
    this.shaderKey = `livestyleTvl1Dual_${taut}`;
  }
  getUserCode(): string {
    return this.wrap('j', DUAL_WGSL(lit(this.taut)));
  }
}

/** A fused kernel on both GPU backends: its named inputs, and a program per backend. */
interface FusedKernel {
  readonly name: string;
  readonly inputs: readonly string[];
  /** The input whose shape the output has. */
  readonly outputLike: string;
  readonly webgl: (shape: number[], attr: (name: string) => number) => GPGPUProgram;
  readonly webgpu: (shape: number[], attr: (name: string) => number) => WebGPUProgram;
}

function registerOnGpus(k: FusedKernel): void {
  const read = (inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap | undefined) => ({
    ins: k.inputs.map((n) => input(inputs, n, k.name)),
    shape: input(inputs, k.outputLike, k.name).shape,
    attr: (name: string) => attr(attrs, name, k.name),
  });
  tf.registerKernel({
    kernelName: k.name,
    backendName: 'webgl',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const r = read(inputs, attrs);
      return (backend as MathBackendWebGL).runWebGLProgram(k.webgl(r.shape, r.attr), r.ins, 'float32');
    },
  });
  tf.registerKernel({
    kernelName: k.name,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const r = read(inputs, attrs);
      return (backend as WebGPUBackend).runWebGPUProgram(k.webgpu(r.shape, r.attr), r.ins, 'float32');
    },
  });
}

registerOnGpus({
  name: TVL1_PRIMAL_KERNEL,
  inputs: ['u', 'p', 'grad', 'invGrad', 'rhoC'],
  outputLike: 'u',
  webgl: (shape, a) => new PrimalWebGL(shape, a('lambdaTheta'), a('theta')),
  webgpu: (shape, a) => new PrimalWebGPU(shape, a('lambdaTheta'), a('theta')),
});

registerOnGpus({
  name: TVL1_DUAL_KERNEL,
  inputs: ['u', 'p'],
  outputLike: 'p',
  webgl: (shape, a) => new DualWebGL(shape, a('tauOverTheta')),
  webgpu: (shape, a) => new DualWebGPU(shape, a('tauOverTheta')),
});
