/**
 * The dense-warp kernel for the CPU-memory backends (wasm, cpu): a plain loop over the pixels.
 * On these backends tensors live in (WASM) main memory, so reading them is a copy, and one pass
 * here is ~25x faster than the gather-based composite (see `warpBilinearOps`).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Name of the custom kernel (inputs `image` [1,H,W,C] and `flow` [1,H,W,2], both float32). */
export const DENSE_WARP_KERNEL = 'LivestyleDenseWarp';
/** The same with Catmull-Rom (bicubic) interpolation: what the temporal blend warps its previous output with. */
export const DENSE_WARP_CUBIC_KERNEL = 'LivestyleDenseWarpCubic';

/**
 * A source coordinate clamped to [0, n - 1]. NaN (a broken flow) lands on 0, the clamp's low side,
 * rather than poisoning the output.
 */
const clampCoord = (v: number, n: number): number => (v > 0 ? (v < n - 1 ? v : n - 1) : 0);

/**
 * `out(y, x, :) = image(y + fy, x + fx, :)`, bilinear, sample coordinates clamped to the image.
 * `image` is `h*w*c` row-major HWC, `flow` `h*w*2` (x, y); `out` gets `h*w*c` values.
 */
export function warpBilinearInto(image: Float32Array, flow: Float32Array, h: number, w: number, c: number, out: Float32Array): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const sx = clampCoord(x + (flow[2 * p] as number), w);
      const sy = clampCoord(y + (flow[2 * p + 1] as number), h);
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

/** Catmull-Rom weights of the taps at -1, 0, 1, 2 for a fraction t in [0, 1), into `wts` at `at`. */
function catmullRom(t: number, wts: Float64Array, at: number): void {
  const t2 = t * t;
  const t3 = t2 * t;
  wts[at] = (-t3 + 2 * t2 - t) / 2;
  wts[at + 1] = (3 * t3 - 5 * t2 + 2) / 2;
  wts[at + 2] = (-3 * t3 + 4 * t2 + t) / 2;
  wts[at + 3] = (t3 - t2) / 2;
}

/** `i` clamped to [0, n - 1]. */
const clampIndex = (i: number, n: number): number => (i < 0 ? 0 : i > n - 1 ? n - 1 : i);

/**
 * As {@link warpBilinearInto}, with Catmull-Rom (bicubic) interpolation over 4x4 taps (each tap's
 * coordinates clamped to the image). Bilinear sampling at a fractional position is a low-pass filter
 * (at half a pixel, [0.5, 0.5]), and the smoother resamples its output every frame, so texture
 * softens frame after frame; Catmull-Rom passes far more of the finest band (docs/temporal.md).
 * Taps and weights are computed once per pixel and shared by its channels (this loop is the
 * largest single kernel of a realtime frame's temporal stage on WASM).
 * ref: Keys, "Cubic convolution interpolation for digital image processing", IEEE TASSP 1981 (a = -0.5).
 */
export function warpCubicInto(image: Float32Array, flow: Float32Array, h: number, w: number, c: number, out: Float32Array): void {
  const wts = new Float64Array(8); // x weights 0..3, y weights 4..7
  const taps = new Int32Array(16); // offsets (in values) of the 16 taps, row-major
  const rowValues = w * c;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const sx = clampCoord(x + (flow[2 * p] as number), w);
      const sy = clampCoord(y + (flow[2 * p + 1] as number), h);
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      catmullRom(sx - x0, wts, 0);
      catmullRom(sy - y0, wts, 4);
      const wx0 = wts[0] as number;
      const wx1 = wts[1] as number;
      const wx2 = wts[2] as number;
      const wx3 = wts[3] as number;
      if (x0 >= 1 && x0 <= w - 3 && y0 >= 1 && y0 <= h - 3) {
        // Inside the image (nearly every pixel): the 4x4 taps are one block, no clamping; the same sums
        // in the same order as the general path below, so both give the same values.
        const base = ((y0 - 1) * w + (x0 - 1)) * c;
        for (let k = 0; k < c; k++) {
          let v = 0;
          for (let j = 0; j < 4; j++) {
            const t = base + j * rowValues + k;
            v +=
              ((image[t] as number) * wx0 +
                (image[t + c] as number) * wx1 +
                (image[t + 2 * c] as number) * wx2 +
                (image[t + 3 * c] as number) * wx3) *
              (wts[4 + j] as number);
          }
          out[p * c + k] = v;
        }
        continue;
      }
      for (let j = 0; j < 4; j++) {
        const row = clampIndex(y0 + j - 1, h) * w;
        for (let i = 0; i < 4; i++) taps[4 * j + i] = (row + clampIndex(x0 + i - 1, w)) * c;
      }
      for (let k = 0; k < c; k++) {
        let v = 0;
        for (let j = 0; j < 4; j++) {
          const t = 4 * j;
          v +=
            ((image[(taps[t] as number) + k] as number) * wx0 +
              (image[(taps[t + 1] as number) + k] as number) * wx1 +
              (image[(taps[t + 2] as number) + k] as number) * wx2 +
              (image[(taps[t + 3] as number) + k] as number) * wx3) *
            (wts[4 + j] as number);
        }
        out[p * c + k] = v;
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
  for (const [kernelName, warpInto] of [
    [DENSE_WARP_KERNEL, warpBilinearInto],
    [DENSE_WARP_CUBIC_KERNEL, warpCubicInto],
  ] as const)
    tf.registerKernel({
      kernelName,
      backendName,
      kernelFunc: ({ inputs, backend }) => {
        const b = backend as unknown as B;
        const image = inputs['image'];
        const flow = inputs['flow'];
        if (!image || !flow) throw new Error(`${kernelName}: needs inputs image and flow`);
        const [info, values] = output(b, image.shape);
        const [, h = 0, w = 0, c = 0] = image.shape;
        // Read after the output is allocated: allocating can grow (and move) the wasm heap. Both
        // backends' readSync already hand back arrays the loop may read (wasm: a copy of the heap's bytes).
        const pixels = b.readSync(image.dataId) as Float32Array;
        const offsets = b.readSync(flow.dataId) as Float32Array;
        warpInto(pixels, offsets, h, w, c, values);
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
