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

/**
 * A comment a shader carries to have `enable f16;` put before it: WGSL wants the directive ahead of
 * every declaration, and tfjs writes its own declarations first. Only a device made by
 * {@link enableF16Shaders} does that (Node's, which this project creates with `shader-f16`).
 */
export const F16_SHADER_MARKER = '// livestyle:enable-f16';

const F16_ENABLED = Symbol.for('livestyle.f16Shaders');

/**
 * Makes `device` compile shaders that carry {@link F16_SHADER_MARKER} with `enable f16;` first.
 * Only where the device was created with the `shader-f16` feature; elsewhere nothing changes.
 */
export function enableF16Shaders(device: GPUDevice): void {
  if (!device.features.has('shader-f16')) return;
  const create = device.createShaderModule.bind(device);
  device.createShaderModule = (d: GPUShaderModuleDescriptor): GPUShaderModule =>
    create(d.code.includes(F16_SHADER_MARKER) ? { ...d, code: `enable f16;\n${d.code}` } : d);
  (device as unknown as Record<symbol, boolean>)[F16_ENABLED] = true;
}

/** Whether shaders on `device` may use `f16` arithmetic (see {@link enableF16Shaders}). */
export function hasF16Shaders(device: GPUDevice): boolean {
  return (device as unknown as Record<symbol, boolean | undefined>)[F16_ENABLED] === true;
}
