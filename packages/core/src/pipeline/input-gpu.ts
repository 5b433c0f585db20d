/**
 * Decoded frames reach the GPU as their bytes, four to a 32-bit word, and become float RGB there,
 * in one dispatch: the generic path uploads one int32 per channel (3-4x the bytes, 25 MB per 1080p
 * frame) after a CPU conversion, then casts and scales in two more dispatches. RGB (3 bytes a
 * pixel) and RGBA (4, alpha dropped) are read from the same packed words, so neither needs a CPU
 * repacking loop. Imported for its side effect by the browser entry and the Node WebGPU start-up;
 * `test/webgpu-node.test.ts` checks it against the generic path.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { FlatWebGPUProgram } from '../backend/webgpu-program.js';
import { BYTES_TO_RGB_KERNEL } from './input.js';

class BytesToRgbProgram extends FlatWebGPUProgram implements WebGPUProgram {
  variableNames = ['words'];
  shaderKey: string;
  constructor(
    shape: number[],
    private readonly channels: number,
  ) {
    super(shape);
    this.shaderKey = `livestyleBytesToRgb_${channels}`;
  }
  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          // Output element (pixel p, channel c) is byte p * ${this.channels} + c of the packed frame.
          let b = (index / 3) * ${this.channels} + index % 3;
          let word = bitcast<u32>(words[b / 4]);
          let byte = (word >> (u32(b % 4) * 8u)) & 255u;
          setOutputAtIndex(index, f32(byte) / 255.0);
        }
      }`;
  }
}

tf.registerKernel({
  kernelName: BYTES_TO_RGB_KERNEL,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const words = inputs['words'];
    const height = attrs?.['height'];
    const width = attrs?.['width'];
    const channels = attrs?.['channels'];
    if (!words || typeof height !== 'number' || typeof width !== 'number' || (channels !== 3 && channels !== 4))
      throw new Error(`${BYTES_TO_RGB_KERNEL}: needs words and height, width, channels (3 or 4)`);
    const program = new BytesToRgbProgram([1, height, width, 3], channels);
    return (backend as WebGPUBackend).runWebGPUProgram(program, [words], 'float32');
  },
});
