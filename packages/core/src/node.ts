/**
 * Node entry point: the platform-neutral API, plus image files, converted models read from disk, the
 * checkpoint converter and the WebGPU (Dawn) device calls. `backend: 'auto'` picks WebGPU on a
 * hardware adapter, else multi-threaded WASM.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeWasm } from './backend/node-wasm.js';
import { initNodeWebGpu, probeNodeWebGpu, releaseNodeWebGpu, setWebGpuKernelLoader } from './backend/node-webgpu.js';
import { setDefaultEnvironment } from './pipeline/stylizer.js';
import { OptionsError } from './pipeline/options.js';
import { fileModelSource } from './io/model-files.js';

export * from './api.js';
export { convertModel, ConvertError, type ConvertOptions } from './weights/convert.js';
export {
  readImageFile,
  writePngFile,
  ImageFileError,
  MAX_IMAGE_SIDE_PX,
  MAX_IMAGE_PIXELS,
  type ReadImageOptions,
} from './io/node-image.js';
export { fileModelSource, modelsDir } from './io/model-files.js';
export { FileStyleStatsCache, type FileStyleStatsCacheOptions } from './io/style-stats-files.js';
export {
  initNodeWebGpu,
  probeNodeWebGpu,
  releaseNodeWebGpu,
  WebGpuUnavailableError,
  type GpuAdapterDescription,
} from './backend/node-webgpu.js';

// The GPU kernels load with the Dawn device, not before (tfjs-backend-webgpu must not see navigator.gpu early).
setWebGpuKernelLoader(() => import('./kernels.js'));

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
