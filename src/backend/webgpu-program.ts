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

/** Invocations of a {@link SingleWorkgroupWebGPUProgram}'s one workgroup (WebGPU's guaranteed minimum). */
export const SINGLE_WORKGROUP_THREADS = 256;

/**
 * A program one workgroup runs whole: its iterations are separated by `storageBarrier()` and
 * `workgroupBarrier()`, which order memory within a workgroup (not across workgroups), so a loop
 * of many dependent passes costs one dispatch. The output buffer doubles as scratch space. For
 * small problems where per-dispatch cost, not arithmetic, bounds the time.
 */
export abstract class SingleWorkgroupWebGPUProgram implements WebGPUProgram {
  abstract variableNames: string[];
  abstract shaderKey: string;
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number] = [1, 1, 1];
  workgroupSize: [number, number, number] = [SINGLE_WORKGROUP_THREADS, 1, 1];

  constructor(outputShape: number[]) {
    this.outputShape = outputShape;
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
  }

  /** The WGSL body of `main`, which must start with {@link BIND_UNIFORMS_WGSL}. */
  abstract getUserCode(): string;
}

/**
 * tfjs binds its uniforms to every program, and WebGPU derives the layout from what the shader
 * uses: a shader that never reads them fails to bind. This statement reads them.
 */
export const BIND_UNIFORMS_WGSL = '_ = uniforms.outShape;';
