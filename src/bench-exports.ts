/** What the benchmark script needs from the Node build (kept apart from the public API). */
export * from './node.js';
export { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
