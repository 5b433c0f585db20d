/**
 * Browser entry point: registers the GPU backends (WebGPU first, then WebGL) with WASM and CPU
 * fallbacks, and exports the public API. Models are fetched from `options.modelBaseUrl`. The optimiser
 * (with tfjs's gradients) is in `livestyle/offline`, optical flow in `livestyle/temporal`.
 */
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
// The dense-warp kernel for the GPU backends (wasm/cpu register theirs in temporal/warp-kernels-cpu.ts).
import './temporal/warp-kernels-gpu.js';
// The fused TV-L1 iteration (two passes instead of ~16 ops) for the GPU backends.
import './temporal/tvl1-kernels-gpu.js';
// The whole Newton–Schulz whitening in one WebGPU dispatch (instead of ~125).
import './transforms/newton-schulz-gpu.js';
// A whole TV-L1 pyramid level in one WebGPU dispatch (instead of ~120).
import './temporal/tvl1-level-gpu.js';
// Frames uploaded as their bytes, converted to float RGB on the GPU.
import './pipeline/input-gpu.js';
// The half-precision encoder/decoder (the precision: 'float16' option) on WebGPU.
import './nets/network-half-gpu.js';

export * from './api.js';
export { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
export { CanvasPresenter, type PresentPath } from './io/canvas-presenter.js';
