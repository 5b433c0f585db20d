/**
 * The dense-warp kernels as one shader pass on webgl (GLSL) and webgpu (WGSL): per output element,
 * four taps of the image at `(x + flow_x, y + flow_y)` clamped to the image, blended bilinearly; or
 * sixteen taps blended with Catmull-Rom weights (the cubic kernel, as warpCubicInto on wasm/cpu).
 * Imported for its side effect by the browser entry; `test/browser.test.ts` checks both against
 * the wasm kernel and the tf-ops reference.
 * ref: Jaderberg et al., "Spatial Transformer Networks", NeurIPS 2015, eq. 5 (bilinear sampling).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GPGPUProgram, MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { FlatWebGPUProgram } from '../backend/webgpu-program.js';
import { DENSE_WARP_CUBIC_KERNEL, DENSE_WARP_KERNEL } from './warp-kernels-cpu.js';

function imageAndFlow(inputs: tf.NamedTensorInfoMap): [tf.TensorInfo, tf.TensorInfo] {
  const image = inputs['image'];
  const flow = inputs['flow'];
  if (!image || !flow) throw new Error(`${DENSE_WARP_KERNEL}: needs inputs image and flow`);
  return [image, flow];
}

/**
 * Both GLSL programs' start: the output element (b, y, x, c) and its source point (sx, sy), clamped to the
 * `h x w` image (NaN flow lands on the low side), with its top-left pixel (x0, y0).
 */
const glslSourcePoint = (h: number, w: number): string => `ivec4 coords = getOutputCoords();
        int b = coords[0];
        int y = coords[1];
        int x = coords[2];
        int c = coords[3];
        float sx = clamp(float(x) + getFlow(b, y, x, 0), 0.0, ${w - 1}.0);
        float sy = clamp(float(y) + getFlow(b, y, x, 1), 0.0, ${h - 1}.0);
        int x0 = int(floor(sx));
        int y0 = int(floor(sy));`;

/** The same for both WGSL programs (the image's size from the uniforms, as h and w). */
const WGSL_SOURCE_POINT = `let coords = getCoordsFromIndex(index);
          let b = coords[0];
          let y = coords[1];
          let x = coords[2];
          let c = coords[3];
          let h = uniforms.imageShape[1];
          let w = uniforms.imageShape[2];
          let sx = clamp(f32(x) + getFlow(b, y, x, 0), 0.0, f32(w - 1));
          let sy = clamp(f32(y) + getFlow(b, y, x, 1), 0.0, f32(h - 1));
          let x0 = i32(floor(sx));
          let y0 = i32(floor(sy));`;

class WarpProgramWebGL implements GPGPUProgram {
  variableNames = ['Image', 'Flow'];
  outputShape: number[];
  userCode: string;

  constructor(shape: number[]) {
    this.outputShape = shape;
    const h = shape[1] as number;
    const w = shape[2] as number;
    this.userCode = `
      void main() {
        ${glslSourcePoint(h, w)}
        int x1 = min(x0 + 1, ${w - 1});
        int y1 = min(y0 + 1, ${h - 1});
        float ax = sx - float(x0);
        float ay = sy - float(y0);
        float top = mix(getImage(b, y0, x0, c), getImage(b, y0, x1, c), ax);
        float bottom = mix(getImage(b, y1, x0, c), getImage(b, y1, x1, c), ax);
        setOutput(mix(top, bottom, ay));
      }
    `;
  }
}

class WarpProgramWebGPU extends FlatWebGPUProgram {
  variableNames = ['image', 'flow'];
  shaderKey = 'livestyleDenseWarp';

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${WGSL_SOURCE_POINT}
          let x1 = min(x0 + 1, w - 1);
          let y1 = min(y0 + 1, h - 1);
          let ax = sx - f32(x0);
          let ay = sy - f32(y0);
          let top = mix(getImage(b, y0, x0, c), getImage(b, y0, x1, c), ax);
          let bottom = mix(getImage(b, y1, x0, c), getImage(b, y1, x1, c), ax);
          setOutputAtIndex(index, mix(top, bottom, ay));
        }
      }
    `;
  }
}

/** GLSL/WGSL-neutral body: Catmull-Rom weights of the taps at -1..2 for a fraction t. */
const CATMULL_ROM = (t: string): string =>
  `(-${t}*${t}*${t} + 2.0*${t}*${t} - ${t}) * 0.5, (3.0*${t}*${t}*${t} - 5.0*${t}*${t} + 2.0) * 0.5, ` +
  `(-3.0*${t}*${t}*${t} + 4.0*${t}*${t} + ${t}) * 0.5, (${t}*${t}*${t} - ${t}*${t}) * 0.5`;

/** The 16 taps, unrolled: GLSL ES may not index a vector by a loop variable on every driver. */
const GLSL_CUBIC_TAPS = [0, 1, 2, 3]
  .map((j) => {
    const lane = 'xyzw'[j] as string;
    const row = [0, 1, 2, 3].map((i) => `getImage(b, yt${j}, xt${i}, c) * wx.${'xyzw'[i] as string}`).join(' + ');
    return `v += (${row}) * wy.${lane};`;
  })
  .join('\n        ');
const GLSL_CUBIC_COORDS = (h: number, w: number): string =>
  [0, 1, 2, 3]
    .map((k) => `int xt${k} = clamp(x0 + ${k - 1}, 0, ${w - 1}); int yt${k} = clamp(y0 + ${k - 1}, 0, ${h - 1});`)
    .join('\n        ');

class WarpCubicProgramWebGL implements GPGPUProgram {
  variableNames = ['Image', 'Flow'];
  outputShape: number[];
  userCode: string;

  constructor(shape: number[]) {
    this.outputShape = shape;
    const h = shape[1] as number;
    const w = shape[2] as number;
    this.userCode = `
      void main() {
        ${glslSourcePoint(h, w)}
        float tx = sx - float(x0);
        float ty = sy - float(y0);
        vec4 wx = vec4(${CATMULL_ROM('tx')});
        vec4 wy = vec4(${CATMULL_ROM('ty')});
        ${GLSL_CUBIC_COORDS(h, w)}
        float v = 0.0;
        ${GLSL_CUBIC_TAPS}
        setOutput(v);
      }
    `;
  }
}

class WarpCubicProgramWebGPU extends FlatWebGPUProgram {
  variableNames = ['image', 'flow'];
  shaderKey = 'livestyleDenseWarpCubic';

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${WGSL_SOURCE_POINT}
          let tx = sx - f32(x0);
          let ty = sy - f32(y0);
          var wx = vec4<f32>(${CATMULL_ROM('tx')});
          var wy = vec4<f32>(${CATMULL_ROM('ty')});
          var v = 0.0;
          for (var j = 0; j < 4; j++) {
            let yj = clamp(y0 + j - 1, 0, h - 1);
            var r = 0.0;
            for (var i = 0; i < 4; i++) {
              let xi = clamp(x0 + i - 1, 0, w - 1);
              r = r + getImage(b, yj, xi, c) * wx[i];
            }
            v = v + r * wy[j];
          }
          setOutputAtIndex(index, v);
        }
      }
    `;
  }
}

tf.registerKernel({
  kernelName: DENSE_WARP_KERNEL,
  backendName: 'webgl',
  kernelFunc: ({ inputs, backend }) => {
    const [image, flow] = imageAndFlow(inputs);
    return (backend as MathBackendWebGL).runWebGLProgram(new WarpProgramWebGL(image.shape), [image, flow], 'float32');
  },
});

tf.registerKernel({
  kernelName: DENSE_WARP_KERNEL,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend }) => {
    const [image, flow] = imageAndFlow(inputs);
    return (backend as WebGPUBackend).runWebGPUProgram(new WarpProgramWebGPU(image.shape), [image, flow], 'float32');
  },
});

tf.registerKernel({
  kernelName: DENSE_WARP_CUBIC_KERNEL,
  backendName: 'webgl',
  kernelFunc: ({ inputs, backend }) => {
    const [image, flow] = imageAndFlow(inputs);
    return (backend as MathBackendWebGL).runWebGLProgram(new WarpCubicProgramWebGL(image.shape), [image, flow], 'float32');
  },
});

tf.registerKernel({
  kernelName: DENSE_WARP_CUBIC_KERNEL,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend }) => {
    const [image, flow] = imageAndFlow(inputs);
    return (backend as WebGPUBackend).runWebGPUProgram(new WarpCubicProgramWebGPU(image.shape), [image, flow], 'float32');
  },
});
