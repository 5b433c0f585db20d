/**
 * The part every one-output-element-per-invocation WebGPU program of this project shares: a flat
 * dispatch over the output, 64 invocations per workgroup, the `size` uniform for the bounds check.
 * Subclasses give the inputs, the shader key and the WGSL.
 */
import { webgpu_util, type WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export abstract class FlatWebGPUProgram implements WebGPUProgram {
  abstract variableNames: string[];
  abstract shaderKey: string;
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;

  constructor(outputShape: number[]) {
    this.outputShape = outputShape;
    this.dispatchLayout = webgpu_util.flatDispatchLayout(this.outputShape);
    this.dispatch = webgpu_util.computeDispatch(this.dispatchLayout, this.outputShape, this.workgroupSize);
  }

  abstract getUserCode(): string;
}
