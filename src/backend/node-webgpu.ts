/**
 * Node-only: tfjs's WebGPU backend on Dawn, through the optional npm package `webgpu` (Dawn's Node
 * bindings; prebuilt binaries inside the package).
 *
 * We request the adapter and device ourselves (instead of letting tfjs-backend-webgpu find
 * `navigator.gpu` at import time) so that (a) the adapter can be inspected before it is used: a
 * software adapter (lavapipe, SwiftShader) is refused by `auto` and only warned about when asked
 * for by name; (b) a lost device is noticed and reported; (c) the device can be destroyed and Dawn
 * released on dispose, because a live Dawn instance keeps Node's event loop alive.
 */
import * as tf from '@tensorflow/tfjs-core';

/** What the chosen WebGPU adapter says of itself. */
export interface GpuAdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** A CPU implementation (lavapipe, SwiftShader, a fallback adapter): expect CPU speed. */
  readonly software: boolean;
  /** Optional features the device was created with (`timestamp-query`, `shader-f16`). */
  readonly features: readonly string[];
}

/** The `webgpu` package is not installed, no adapter exists, or it could not be initialised. */
export class WebGpuUnavailableError extends Error {
  override name = 'WebGpuUnavailableError';
}

interface DawnAdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter?: boolean;
}

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

interface NodeWebGpuState {
  readonly adapter: GpuAdapterDescription;
  readonly device: GPUDevice;
  /** Why the device was lost, once it is (null while it is live). */
  lostReason: string | null;
  gpu: GPU | null;
}

let state: NodeWebGpuState | null = null;
let starting: Promise<NodeWebGpuState> | null = null;

/** Dawn flags: `$LIVESTYLE_DAWN_FLAGS`, comma-separated (e.g. `backend=vulkan`), else none. */
function dawnFlags(): string[] {
  const env = process.env.LIVESTYLE_DAWN_FLAGS;
  return env
    ? env
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

/** The Dawn bindings to load: `$LIVESTYLE_DAWN_MODULE` (another build of them), else the package `webgpu`. */
function dawnModuleName(): string {
  return process.env.LIVESTYLE_DAWN_MODULE || 'webgpu';
}

async function loadDawn(): Promise<DawnModule> {
  // A variable specifier keeps tsc and bundlers from requiring the optional package.
  const name = dawnModuleName();
  try {
    return (await import(name)) as DawnModule;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw new WebGpuUnavailableError(
        `WebGPU in Node needs the optional package 'webgpu' (Dawn's Node bindings), which is not installed${
          name === 'webgpu' ? '' : ` (looked for ${name} from $LIVESTYLE_DAWN_MODULE)`
        }: npm install webgpu`,
      );
    throw new WebGpuUnavailableError(`the 'webgpu' package failed to load: ${(e as Error).message}`);
  }
}

/** Whether an adapter is a CPU implementation, from what Dawn reports. */
export function isSoftwareAdapter(info: {
  isFallbackAdapter?: boolean;
  architecture?: string;
  description?: string;
  device?: string;
  vendor?: string;
}): boolean {
  if (info.isFallbackAdapter) return true;
  const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.device ?? ''} ${info.description ?? ''}`;
  return /\b(software|llvmpipe|lavapipe|swiftshader|cpu)\b/i.test(text);
}

function exposeNavigatorGpu(gpu: GPU | null): void {
  const g = globalThis as { navigator?: object };
  if (gpu === null) {
    if (g.navigator && Object.getOwnPropertyDescriptor(g.navigator, 'gpu')?.configurable) delete (g.navigator as { gpu?: GPU }).gpu;
    return;
  }
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
}

async function start(): Promise<NodeWebGpuState> {
  const dawn = await loadDawn();
  // Dawn's classes and enums (GPUBufferUsage, GPUMapMode, ...) that tfjs-backend-webgpu uses as globals.
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  let gpu: GPU;
  try {
    gpu = dawn.create(dawnFlags());
  } catch (e) {
    throw new WebGpuUnavailableError(`Dawn could not start: ${(e as Error).message}`);
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter)
    throw new WebGpuUnavailableError(
      'no WebGPU adapter found (Dawn found no usable Vulkan driver; on NVIDIA, VK_DRIVER_FILES may need to name nvidia_icd.json)',
    );
  // `info` is newer than the @webgpu/types tfjs pins.
  const info = (adapter as unknown as { info: DawnAdapterInfo }).info;
  const optional: GPUFeatureName[] = ['timestamp-query', 'shader-f16'];
  const features = optional.filter((f) => adapter.features.has(f));
  const limits = adapter.limits;
  // The same limits tfjs-backend-webgpu asks for (its own factory does this).
  const device = await adapter.requestDevice({
    requiredFeatures: features,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  const description: GpuAdapterDescription = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    software: isSoftwareAdapter(info),
    features,
  };
  const s: NodeWebGpuState = { adapter: description, device, lostReason: null, gpu };
  void device.lost.then((lost) => {
    // A destroy() of our own (release) is not a loss to report.
    if (state === s && lost.reason !== 'destroyed') s.lostReason = lost.message || 'unknown reason';
  });
  // WebGPUBackend's constructor checks navigator.gpu (Node 20 has no navigator; 21+ has one without gpu).
  exposeNavigatorGpu(gpu);
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  // The project's own WGSL kernels (dense warp, fused TV-L1) register for the 'webgpu' backend.
  await import('../temporal/warp-kernels-gpu.js');
  await import('../temporal/tvl1-kernels-gpu.js');
  await import('../transforms/newton-schulz-gpu.js');
  await import('../temporal/tvl1-level-gpu.js');
  await import('../pipeline/input-gpu.js');
  if (tf.findBackend('webgpu') || tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, info as unknown as GPUAdapterInfo), 3);
  return s;
}

/**
 * Starts Dawn once per process and describes its adapter, without switching tfjs's backend.
 * Throws {@link WebGpuUnavailableError} when the package, a driver or an adapter is missing.
 */
export async function probeNodeWebGpu(): Promise<GpuAdapterDescription> {
  if (state) return state.adapter;
  starting ??= start().finally(() => {
    starting = null;
  });
  state = await starting;
  return state.adapter;
}

/** Sets tfjs's backend to WebGPU on Dawn; returns the adapter. */
export async function initNodeWebGpu(): Promise<GpuAdapterDescription> {
  const adapter = await probeNodeWebGpu();
  if (tf.getBackend() !== 'webgpu') {
    const ok = await tf.setBackend('webgpu');
    if (!ok) throw new WebGpuUnavailableError('tfjs could not start its WebGPU backend on the Dawn device');
    await tf.ready();
  }
  return adapter;
}

/** The adapter in use, or null before {@link probeNodeWebGpu}. */
export function nodeWebGpuAdapter(): GpuAdapterDescription | null {
  return state?.adapter ?? null;
}

/** Why the Dawn device was lost (a driver reset, a hang, out of memory), or null while it is live. */
export function nodeWebGpuLostReason(): string | null {
  return state?.lostReason ?? null;
}

/**
 * Frees the WebGPU backend, destroys the device and drops Dawn, so the process can exit. tfjs falls
 * back to no backend; call {@link initNodeWebGpu} again to start afresh. Idempotent.
 */
export function releaseNodeWebGpu(): void {
  const s = state;
  if (!s) return;
  state = null;
  if (tf.findBackend('webgpu') || tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  s.device.destroy();
  s.gpu = null;
  exposeNavigatorGpu(null);
}
