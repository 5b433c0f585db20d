/**
 * Node entry point: everything in the browser entry, plus the WASM backend with threads, model
 * files read from disk, image files, the checkpoint converter and the npy reader.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initNodeWasm } from './backend/node-wasm.js';
import { initNodeWebGpu, probeNodeWebGpu, releaseNodeWebGpu } from './backend/node-webgpu.js';
import { setDefaultEnvironment } from './pipeline/stylizer.js';
import { OptionsError } from './pipeline/options.js';
import type { ByteSource } from './weights/model-loader.js';
import type { ModelId } from './weights/architectures.js';

export * from './api.js';
export { convertModel, ConvertError, type ConvertOptions } from './weights/convert.js';
export { readImageFile, writePngFile, ImageFileError, MAX_IMAGE_SIDE_PX } from './io/node-image.js';
export { readNpy, type NpyArray } from './io/npy.js';
export { initNodeWasm } from './backend/node-wasm.js';
export {
  initNodeWebGpu,
  probeNodeWebGpu,
  releaseNodeWebGpu,
  nodeWebGpuAdapter,
  nodeWebGpuLostReason,
  waitForNodeWebGpuLoss,
  isSoftwareAdapter,
  WebGpuUnavailableError,
  type GpuAdapterDescription,
} from './backend/node-webgpu.js';

/** The package root (holds `models/`), from this file's location in `src/` or `dist/`. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where converted models are read from: `$LIVESTYLE_MODELS_DIR`, else `<package>/models`. */
export function modelsDir(): string {
  return process.env.LIVESTYLE_MODELS_DIR ?? path.join(PACKAGE_ROOT, 'models');
}

/** Reads model files from `<dir>/<model>/`. */
export function fileModelSource(model: ModelId, dir = modelsDir()): ByteSource {
  return async (rel) => {
    const file = path.join(dir, model, rel);
    try {
      return new Uint8Array(await readFile(file));
    } catch (e) {
      throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
}

setDefaultEnvironment({
  async initBackend(preference) {
    if (preference === 'webgl') throw new OptionsError('backend webgl is not available in Node; use webgpu, wasm or cpu');
    if (preference === 'cpu') {
      await tf.setBackend('cpu');
      await tf.ready();
      return 'cpu';
    }
    if (preference === 'webgpu') {
      await initNodeWebGpu();
      return 'webgpu';
    }
    if (preference === 'auto') {
      // 'auto' in Node: WebGPU only on a hardware adapter; a software one (lavapipe) is slower than
      // WASM. Any failure to start it (no package, no driver, a device request refused) falls back.
      try {
        const adapter = await probeNodeWebGpu();
        if (!adapter.software) {
          await initNodeWebGpu();
          return 'webgpu';
        }
      } catch {
        releaseNodeWebGpu();
      }
    }
    await initNodeWasm();
    return 'wasm';
  },
  defaultModelSource: (model) => fileModelSource(model),
});
