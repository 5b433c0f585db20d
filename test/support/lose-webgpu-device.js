// @ts-check
// Preload (`node --import`) for tests: destroys the process's Dawn device after the queue's Nth
// submit (LOSE_DEVICE_AFTER_SUBMITS), as a driver reset or GPU hang would take it away mid-run.
import { globals } from 'webgpu';

// `webgpu` types its globals as plain Object; these are the two Dawn classes patched here.
const dawn = /** @type {{ GPUAdapter: { prototype: GPUAdapter }; GPUQueue: { prototype: GPUQueue } }} */ (globals);
const after = Number(process.env.LOSE_DEVICE_AFTER_SUBMITS);
/** @type {GPUDevice | null} */
let device = null;
let submits = 0;
const requestDevice = dawn.GPUAdapter.prototype.requestDevice;
/** @param {Parameters<GPUAdapter['requestDevice']>} args */
dawn.GPUAdapter.prototype.requestDevice = async function (...args) {
  device = await requestDevice.apply(this, args);
  return device;
};
const submit = dawn.GPUQueue.prototype.submit;
/** @param {Parameters<GPUQueue['submit']>} args */
dawn.GPUQueue.prototype.submit = function (...args) {
  const r = submit.apply(this, args);
  if (++submits === after) device?.destroy();
  return r;
};
