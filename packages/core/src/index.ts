/**
 * Browser entry point: registers the GPU backends (WebGPU first, then WebGL) with WASM and CPU
 * fallbacks, and exports the public API. Models are fetched from `options.modelBaseUrl`. The optimiser
 * (with tfjs's gradients) is in `@livestyle/core/offline`, optical flow in `@livestyle/core/temporal`.
 */
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
// The project's GPU kernels (the one registry, shared with the Node entry).
import './kernels.js';

export * from './api.js';
export { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
export { CanvasPresenter, type PresentPath } from './io/canvas-presenter.js';
