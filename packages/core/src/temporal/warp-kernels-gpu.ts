/**
 * The dense-warp kernel as one shader pass on webgl (GLSL) and webgpu (WGSL): per output element,
 * four taps of the image at `(x + flow_x, y + flow_y)` clamped to the image, blended bilinearly.
 * Imported for its side effect by the browser entry; `test/browser.test.ts` checks both against
 * the wasm kernel and the tf-ops reference.
 * ref: Jaderberg et al., "Spatial Transformer Networks", NeurIPS 2015, eq. 5 (bilinear sampling).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GPGPUProgram, MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { FlatWebGPUProgram } from '../backend/webgpu-program.js';
import { DENSE_WARP_KERNEL } from './warp-kernels-cpu.js';

function imageAndFlow(inputs: tf.NamedTensorInfoMap): [tf.TensorInfo, tf.TensorInfo] {
  const image = inputs['image'];
  const flow = inputs['flow'];
  if (!image || !flow) throw new Error(`${DENSE_WARP_KERNEL}: needs inputs image and flow`);
  return [image, flow];
}

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
        ivec4 coords = getOutputCoords();
        int b = coords[0];
        int y = coords[1];
        int x = coords[2];
        int c = coords[3];
        float sx = clamp(float(x) + getFlow(b, y, x, 0), 0.0, ${w - 1}.0);
        float sy = clamp(float(y) + getFlow(b, y, x, 1), 0.0, ${h - 1}.0);
        int x0 = int(floor(sx));
        int y0 = int(floor(sy));
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
          let coords = getCoordsFromIndex(index);
          let b = coords[0];
          let y = coords[1];
          let x = coords[2];
          let c = coords[3];
          let h = uniforms.imageShape[1];
          let w = uniforms.imageShape[2];
          let sx = clamp(f32(x) + getFlow(b, y, x, 0), 0.0, f32(w - 1));
          let sy = clamp(f32(y) + getFlow(b, y, x, 1), 0.0, f32(h - 1));
          let x0 = i32(floor(sx));
          let y0 = i32(floor(sy));
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
