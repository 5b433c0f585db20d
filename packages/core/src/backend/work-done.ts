/**
 * Waiting until the backend has finished the work issued so far, without reading anything back:
 * the point completed-work timings (StageTimings) stamp their times at. tf.js on WebGL and WebGPU
 * returns from a kernel call once its work is queued, so a clock read then measures issuing, not
 * running; wasm and cpu run each kernel to the end before the call returns.
 */
import * as tf from '@tensorflow/tfjs-core';

/** tf.js's WebGPU backend: its open command encoder and how it submits (internals, typed to what is used). */
interface WebGpuBackendLike {
  device: GPUDevice;
  commandEncoder: unknown;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/** tf.js's WebGL backend: its fence (`gl.fenceSync` on WebGL 2, polled by tf.js). */
interface WebGlBackendLike {
  gpgpu: { createAndWaitForFence(): Promise<void> };
}

/** Whether the active backend has finished a kernel's work when the call returns (wasm, cpu). */
export function backendRunsSynchronously(): boolean {
  const name = tf.engine().backendName as string | null;
  return name === 'wasm' || name === 'cpu';
}

/**
 * Resolves once the active backend has finished every kernel issued before the call. WebGPU: tf.js's
 * pending commands are submitted, then `queue.onSubmittedWorkDone()`; WebGL: a fence. Other
 * backends (and none yet) resolve at once: their work is done when it returns.
 */
export async function workDone(): Promise<void> {
  const name = tf.engine().backendName as string | null;
  if (name === 'webgpu') {
    const backend = tf.backend() as unknown as WebGpuBackendLike;
    // tf.js keeps commands in an open encoder until something needs them: submit them first, or
    // the queue would report done with this frame's work still unsubmitted.
    if (backend.commandEncoder) {
      backend.endComputePassEncoder();
      backend.submitQueue();
    }
    await backend.device.queue.onSubmittedWorkDone();
  } else if (name === 'webgl') {
    await (tf.backend() as unknown as WebGlBackendLike).gpgpu.createAndWaitForFence();
  }
}
