/**
 * The project's own GPU kernels, registered for tfjs's 'webgpu' and 'webgl' backends: the one list both
 * entries use (the browser imports it at load; Node after it has made its Dawn device, through
 * `setWebGpuKernelLoader`, so backend/ never imports the layers above it).
 */
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
