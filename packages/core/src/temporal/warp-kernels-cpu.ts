/**
 * The dense-warp kernel for the CPU-memory backends (wasm, cpu): a plain loop over the pixels.
 * On these backends tensors live in (WASM) main memory, so reading them is a copy, and one pass
 * here is ~25x faster than the gather-based composite (see `warpBilinearOps`).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Name of the custom kernel (inputs `image` [1,H,W,C] and `flow` [1,H,W,2], both float32). */
export const DENSE_WARP_KERNEL = 'LivestyleDenseWarp';

/**
 * `out(y, x, :) = image(y + fy, x + fx, :)`, bilinear, sample coordinates clamped to the image.
 * `image` is `h*w*c` row-major HWC, `flow` `h*w*2` (x, y); `out` gets `h*w*c` values.
 */
export function warpBilinearInto(image: Float32Array, flow: Float32Array, h: number, w: number, c: number, out: Float32Array): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      let sx = x + (flow[2 * p] as number);
      let sy = y + (flow[2 * p + 1] as number);
      // NaN flow samples the pixel itself rather than poisoning the output.
      sx = sx > 0 ? (sx < w - 1 ? sx : w - 1) : 0;
      sy = sy > 0 ? (sy < h - 1 ? sy : h - 1) : 0;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const ax = sx - x0;
      const ay = sy - y0;
      const x1 = x0 + 1 < w ? x0 + 1 : w - 1;
      const y1 = y0 + 1 < h ? y0 + 1 : h - 1;
      const i00 = (y0 * w + x0) * c;
      const i01 = (y0 * w + x1) * c;
      const i10 = (y1 * w + x0) * c;
      const i11 = (y1 * w + x1) * c;
      const w00 = (1 - ax) * (1 - ay);
      const w01 = ax * (1 - ay);
      const w10 = (1 - ax) * ay;
      const w11 = ax * ay;
      for (let k = 0; k < c; k++) {
        out[p * c + k] =
          (image[i00 + k] as number) * w00 +
          (image[i01 + k] as number) * w01 +
          (image[i10 + k] as number) * w10 +
          (image[i11 + k] as number) * w11;
      }
    }
  }
}

interface CpuMemoryBackend {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
}
interface WasmBackendLike extends CpuMemoryBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}
interface CpuBackendLike extends CpuMemoryBackend {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

/**
 * Registers the kernel for a backend whose tensors live in main memory; `output` allocates the
 * result and returns it with the array to fill.
 */
function registerMainMemoryKernel<B extends CpuMemoryBackend>(
  backendName: string,
  output: (backend: B, shape: number[]) => [tf.TensorInfo, Float32Array],
): void {
  tf.registerKernel({
    kernelName: DENSE_WARP_KERNEL,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as unknown as B;
      const image = inputs['image'];
      const flow = inputs['flow'];
      if (!image || !flow) throw new Error(`${DENSE_WARP_KERNEL}: needs inputs image and flow`);
      const [info, values] = output(b, image.shape);
      const [, h = 0, w = 0, c = 0] = image.shape;
      // Copies, taken after the output is allocated: allocating can grow (and move) the wasm heap.
      const pixels = Float32Array.from(b.readSync(image.dataId) as Float32Array);
      const offsets = Float32Array.from(b.readSync(flow.dataId) as Float32Array);
      warpBilinearInto(pixels, offsets, h, w, c, values);
      return info;
    },
  });
}

registerMainMemoryKernel<WasmBackendLike>('wasm', (b, shape) => {
  const info = b.makeOutput(shape, 'float32');
  return [info, b.typedArrayFromHeap(info) as Float32Array];
});

// The cpu backend keeps the given array as the tensor's storage, so filling it afterwards is enough.
registerMainMemoryKernel<CpuBackendLike>('cpu', (b, shape) => {
  const values = new Float32Array(shape.reduce((x, y) => x * y, 1));
  return [b.makeTensorInfo(shape, 'float32', values), values];
});
