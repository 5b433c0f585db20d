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
import { dropConstants } from './constants.js';
import { enableF16Shaders } from './webgpu-program.js';

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

/** Dawn's instance and adapter: made once per process and kept (dropping them gains nothing). */
interface Probe {
  readonly gpu: GPU;
  readonly adapter: GPUAdapter;
  readonly info: DawnAdapterInfo;
  readonly description: GpuAdapterDescription;
}

/** The device tfjs runs on, between {@link initNodeWebGpu} and {@link releaseNodeWebGpu}. */
interface DeviceState {
  readonly device: GPUDevice;
  /** Why the device was lost, once it is (null while it is live). */
  lostReason: string | null;
  released: boolean;
}

let probe: Promise<Probe> | null = null;
let probed: Probe | null = null;
let current: DeviceState | null = null;
let starting: Promise<DeviceState> | null = null;

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

async function probeOnce(): Promise<Probe> {
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
  const description: GpuAdapterDescription = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    software: isSoftwareAdapter(info),
    features: optional.filter((f) => adapter.features.has(f)),
  };
  return { gpu, adapter, info, description };
}

/**
 * Starts Dawn once per process and describes its adapter, without creating a device or switching
 * tfjs's backend. Throws {@link WebGpuUnavailableError} when the package, a driver or an adapter is missing.
 */
export async function probeNodeWebGpu(): Promise<GpuAdapterDescription> {
  probe ??= probeOnce();
  try {
    probed = await probe;
  } catch (e) {
    probe = null;
    throw e;
  }
  return probed.description;
}

async function startDevice(): Promise<DeviceState> {
  await probeNodeWebGpu();
  const p = probed as Probe;
  const limits = p.adapter.limits;
  // The same limits tfjs-backend-webgpu's own factory asks for.
  const device = await p.adapter.requestDevice({
    requiredFeatures: [...p.description.features] as GPUFeatureName[],
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  // Shaders that ask for it get `enable f16;` (the half-precision networks' arithmetic).
  enableF16Shaders(device);
  const s: DeviceState = { device, lostReason: null, released: false };
  void device.lost.then((lost) => {
    // Our own release is not a loss to report; anything else is (a driver reset, a hang, a destroy()).
    if (!s.released) s.lostReason = `${lost.reason}${lost.message ? `: ${lost.message}` : ''}`;
  });
  // Imported before navigator.gpu exists, so tfjs registers no factory of its own (it would make a
  // second device); WebGPUBackend's constructor checks navigator.gpu, so it is set before ours runs.
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  exposeNavigatorGpu(p.gpu);
  // The project's own WGSL kernels register for the 'webgpu' backend (kernels.ts, handed in by the entry).
  await loadKernels();
  // (findBackend would initialise a registered factory: ask for the factory only.)
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, p.info as unknown as GPUAdapterInfo), 3);
  return s;
}

let loadKernels: () => Promise<unknown> = () => Promise.resolve();

/**
 * How the project's GPU kernels are loaded once the device exists: the Node entry hands in its import of
 * `kernels.ts`, which lives above backend/ (the kernels use the nets, transforms and temporal code).
 */
export function setWebGpuKernelLoader(load: () => Promise<unknown>): void {
  loadKernels = load;
}

/** Sets tfjs's backend to WebGPU on a Dawn device (made once until released); returns the adapter. */
export async function initNodeWebGpu(): Promise<GpuAdapterDescription> {
  if (!current) {
    starting ??= startDevice().finally(() => {
      starting = null;
    });
    current = await starting;
  }
  if (tf.getBackend() !== 'webgpu') {
    const ok = await tf.setBackend('webgpu');
    if (!ok) throw new WebGpuUnavailableError('tfjs could not start its WebGPU backend on the Dawn device');
    await tf.ready();
  }
  return (probed as Probe).description;
}

/** The adapter in use, or null before {@link probeNodeWebGpu}. */
export function nodeWebGpuAdapter(): GpuAdapterDescription | null {
  return probed?.description ?? null;
}

/** Why the Dawn device was lost (a driver reset, a hang, out of memory), or null while it is live. */
export function nodeWebGpuLostReason(): string | null {
  return current?.lostReason ?? null;
}

/**
 * Whether the device is lost, after a failed GPU call: its `lost` promise may not have settled yet
 * (Dawn reports it asynchronously, or only on later events), so a one-word buffer is mapped as a
 * probe: a lost device rejects that at once. Returns the reason, or null if the device is live.
 */
export async function waitForNodeWebGpuLoss(timeoutMs = 2000): Promise<string | null> {
  const s = current;
  if (!s) return null;
  if (s.lostReason !== null) return s.lostReason;
  const usage = (globalThis as unknown as { GPUBufferUsage: { MAP_READ: number; COPY_DST: number } }).GPUBufferUsage;
  const mapRead = (globalThis as unknown as { GPUMapMode: { READ: number } }).GPUMapMode.READ;
  let probeError: string | null = null;
  try {
    const buffer = s.device.createBuffer({ size: 4, usage: usage.MAP_READ | usage.COPY_DST });
    try {
      await Promise.race([buffer.mapAsync(mapRead), new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    } finally {
      buffer.destroy();
    }
  } catch (e) {
    probeError = (e as Error).name || (e as Error).message || 'error';
  }
  if (s.lostReason !== null) return s.lostReason;
  if (probeError !== null) s.lostReason = `the device no longer answers (${probeError})`;
  return s.lostReason;
}

/**
 * Frees the WebGPU backend and destroys the device, so nothing of it keeps the process alive. tfjs
 * is left without that backend; {@link initNodeWebGpu} starts a fresh device. Idempotent.
 */
export function releaseNodeWebGpu(): void {
  const s = current;
  if (!s) return;
  current = null;
  s.released = true;
  dropConstants('webgpu');
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  s.device.destroy();
  exposeNavigatorGpu(null);
}
