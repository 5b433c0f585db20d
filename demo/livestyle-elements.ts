/**
 * The standalone bundle of the web components (`livestyle-elements.js` in the site build): the
 * elements plus the tf.js WASM binaries, so one `<script type="module">` is all a page needs.
 */
/// <reference types="vite/client" />
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { setWasmPaths } from '../packages/core/src/index.js';

// The WASM backend is the fallback where neither WebGPU nor WebGL works.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
});

export * from '../packages/elements/src/elements.js';
