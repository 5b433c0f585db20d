/** What `npm run bench -- --backend webgpu` needs from the Node build (kept apart from the public API). */
// The Node entry, for its defaults: Node backends, models from @livestyle/models.
import '@livestyle/core';

export { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
export { gpuBenchMain, parseGpuBenchArgs, GPU_BENCH_USAGE } from './bench/gpu-bench-main.js';
export { GpuCounters, diffCounts, type GpuCounts } from '@livestyle/core/internal/backend/gpu-counters.js';
export { readImageFile } from '@livestyle/core/internal/io/node-image.js';
export { releaseNodeWebGpu } from '@livestyle/core/internal/backend/node-webgpu.js';
