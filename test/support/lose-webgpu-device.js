// Preload (`node --import`) for tests: destroys the process's Dawn device after the queue's Nth
// submit (LOSE_DEVICE_AFTER_SUBMITS), as a driver reset or GPU hang would take it away mid-run.
import { globals } from 'webgpu';

const after = Number(process.env.LOSE_DEVICE_AFTER_SUBMITS);
let device = null;
let submits = 0;
const requestDevice = globals.GPUAdapter.prototype.requestDevice;
globals.GPUAdapter.prototype.requestDevice = async function (...args) {
  device = await requestDevice.apply(this, args);
  return device;
};
const submit = globals.GPUQueue.prototype.submit;
globals.GPUQueue.prototype.submit = function (...args) {
  const r = submit.apply(this, args);
  if (++submits === after) device?.destroy();
  return r;
};
