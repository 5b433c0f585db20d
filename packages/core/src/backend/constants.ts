/**
 * Constants kept on the GPU while a stylizer lives. On tfjs's WebGPU backend every number passed
 * to an op (`tf.mul(x, 255)`) becomes a new scalar tensor that is uploaded when used: a buffer
 * mapped, copied and, worse, the open compute pass ended (Issue 17 counted ~45 such uploads per
 * video frame, each ending a pass). Here each constant is made once per backend and reused, so
 * the per-frame path uploads only the frame itself.
 *
 * The cache is reference-counted by the stylizers using it ({@link acquireConstants}): the last
 * release disposes every constant, so a disposed stylizer leaves no tensor behind. With no user,
 * or on another backend, {@link constant} returns the plain number and ops behave as before.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Backends where constants are cached: the ones where an upload costs a pass (see above). */
const CACHING_BACKENDS = new Set(['webgpu']);

let users = 0;
/** Insertion order is recency (a hit moves its entry to the end): the oldest is evicted first. */
const cache = new Map<string, tf.Tensor>();
/**
 * Entries kept at most. Some keys depend on the frame size (pixel grids, 1/√(n−1)), so sizes that
 * change (adaptive resolution, stills of many sizes) would otherwise grow the cache without bound.
 * A frame uses ~45 entries, far below this, so nothing a frame holds is evicted while it runs.
 */
export const MAX_CACHED_CONSTANTS = 256;

function caching(): boolean {
  return users > 0 && CACHING_BACKENDS.has(tf.getBackend());
}

/** Registers a user of the cache; call the returned function once to release it. */
export function acquireConstants(): () => void {
  users++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    users--;
    if (users === 0) {
      for (const t of cache.values()) t.dispose();
      cache.clear();
    }
  };
}

/** A tensor made by `make` once per backend and key while the cache has users, else made afresh (caller owns it then). */
function cached<T extends tf.Tensor>(key: string, make: () => T): T {
  const k = `${tf.getBackend()}|${key}`;
  const hit = cache.get(k);
  if (hit) {
    cache.delete(k);
    if (!hit.isDisposed) {
      cache.set(k, hit);
      return hit as T;
    }
  }
  const t = tf.keep(make());
  cache.set(k, t);
  if (cache.size > MAX_CACHED_CONSTANTS) {
    const [oldest, tensor] = cache.entries().next().value as [string, tf.Tensor];
    cache.delete(oldest);
    tensor.dispose();
  }
  return t;
}

/** `value` as a cached scalar on caching backends (not to be disposed), else the number itself. */
export function constant(value: number): tf.Scalar | number {
  return caching() ? cached(`s:${value}`, () => tf.scalar(value)) : value;
}

/** Whether constants are cached now (a stylizer lives and the backend is a caching one). */
export function cachesConstants(): boolean {
  return caching();
}

/**
 * A constant tensor of the caller's making, made once per backend and key on caching backends
 * (kept: a surrounding tidy does not dispose it, and the caller must not). Elsewhere it is made
 * afresh, so call it inside `tf.tidy` (or dispose the result when {@link cachesConstants} is false).
 */
export function constantTensor<T extends tf.Tensor>(key: string, make: () => T): T {
  return caching() ? cached(`t:${key}`, make) : make();
}

/** Frees the constants cached for `backendName` (its device is going away); they are remade on demand. */
export function dropConstants(backendName: string): void {
  for (const [k, t] of [...cache]) {
    if (k.startsWith(`${backendName}|`)) {
      t.dispose();
      cache.delete(k);
    }
  }
}

/** Number of cached constants (for tests). */
export function cachedConstantCount(): number {
  return cache.size;
}
