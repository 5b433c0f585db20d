/** `@livestyle/core/temporal` in the browser: the browser entry registers the backends and flow kernels. */
import './index.js';

export * from './temporal-api.js';
