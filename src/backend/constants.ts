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
const cache = new Map<string, tf.Tensor>();

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
  if (hit && !hit.isDisposed) return hit as T;
  const t = tf.keep(make());
  cache.set(k, t);
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
