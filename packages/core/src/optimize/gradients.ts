/**
 * Makes sure tfjs-core's gradient functions are registered before anything is differentiated.
 * The browser entry imports `@tensorflow/tfjs-core/dist/register_all_gradients`; tfjs-core's Node
 * bundle lacks them, so Node loads `vendor/tfjs-gradients.js`, built by `npm run build`
 * (scripts/bundle-gradients.js).
 */
import * as tf from '@tensorflow/tfjs-core';

let loading: Promise<void> | null = null;

export function ensureGradients(): Promise<void> {
  if (tf.getGradient('Conv2D') !== undefined) return Promise.resolve();
  loading ??= (async () => {
    // <package>/vendor, from src/optimize/ or dist/optimize/.
    const url = new URL('../../vendor/tfjs-gradients.js', import.meta.url).href;
    try {
      await import(/* @vite-ignore */ url);
    } catch (e) {
      loading = null;
      throw new Error(`tfjs gradients are not registered and ${url} cannot be loaded (run \`npm run build\`): ${(e as Error).message}`);
    }
    if (tf.getGradient('Conv2D') === undefined) throw new Error(`${url} did not register the tfjs gradients`);
  })();
  return loading;
}
