/** `@livestyle/core/offline` in the browser: the browser entry, plus tfjs's gradients for the optimiser. */
import './index.js';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';

export * from './offline-api.js';
