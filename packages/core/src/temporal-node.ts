/** `@livestyle/core/temporal` in Node: the Node entry registers the backends and flow kernels. */
import './node.js';

export * from './temporal-api.js';
