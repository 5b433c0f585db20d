/** What the benchmark script needs from the Node build (kept apart from the public API). */
export * from './internal.js';
export { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
export { gpuBenchMain, parseGpuBenchArgs, GPU_BENCH_USAGE } from './bench/gpu-bench-main.js';
export { GpuCounters, diffCounts, type GpuCounts } from './backend/gpu-counters.js';
