/** `@livestyle/core/offline` in Node: the Node entry; gradients load on first use (optimize/gradients.ts). */
import './node.js';

export * from './offline-api.js';
