/**
 * Middlebury/Sintel `.flo` optical-flow files: magic float32 202021.25, int32 width, int32 height,
 * then row-major interleaved float32 (u, v), little-endian.
 * ref: Baker et al., "A Database and Evaluation Methodology for Optical Flow", IJCV 2011 (flow format).
 */
export const FLO_MAGIC = 202021.25;
/** Sintel marks unknown flow with components above this. */
export const FLO_UNKNOWN_THRESHOLD = 1e9;

/** A dense flow field in main memory, as `.flo` files hold it. */
export interface FlowField {
  readonly width: number;
  readonly height: number;
  /** Interleaved (u, v) per pixel, row-major: length `2 * width * height`. */
  readonly data: Float32Array;
}

/** A `.flo` file with a bad magic number, size or length. */
export class FloFormatError extends Error {
  override name = 'FloFormatError';
}

/** Parses `.flo` bytes. Throws FloFormatError naming what is wrong. */
export function parseFlo(bytes: Uint8Array, what = '.flo file'): FlowField {
  if (bytes.byteLength < 12) throw new FloFormatError(`${what}: too short for a .flo header (${bytes.byteLength} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getFloat32(0, true);
  if (magic !== FLO_MAGIC) throw new FloFormatError(`${what}: not a .flo file (magic ${magic}, expected ${FLO_MAGIC})`);
  const width = view.getInt32(4, true);
  const height = view.getInt32(8, true);
  if (width < 1 || height < 1 || width > 1 << 15 || height > 1 << 15)
    throw new FloFormatError(`${what}: implausible size ${width}x${height}`);
  const expected = 12 + width * height * 8;
  if (bytes.byteLength !== expected)
    throw new FloFormatError(`${what}: ${bytes.byteLength} bytes, expected ${expected} for ${width}x${height}`);
  const data = new Float32Array(width * height * 2);
  for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(12 + 4 * i, true);
  return { width, height, data };
}

/** Encodes a flow field as `.flo` bytes. */
export function encodeFlo(flow: FlowField): Uint8Array {
  const { width, height, data } = flow;
  if (data.length !== width * height * 2) throw new FloFormatError(`flow data has ${data.length} values, expected ${width * height * 2}`);
  const bytes = new Uint8Array(12 + data.length * 4);
  const view = new DataView(bytes.buffer);
  view.setFloat32(0, FLO_MAGIC, true);
  view.setInt32(4, width, true);
  view.setInt32(8, height, true);
  for (let i = 0; i < data.length; i++) view.setFloat32(12 + 4 * i, data[i] as number, true);
  return bytes;
}

/** End-point error of a flow against ground truth (Middlebury/Sintel convention). */
export interface EndPointError {
  /** Mean end-point error over all valid pixels (px). */
  readonly all: number;
  /** Mean over valid pixels that are not occluded (px); equals `all` without an occlusion mask. */
  readonly nonOccluded: number;
  readonly validPixels: number;
}

/**
 * Mean end-point error `|f - g|` (Euclidean, px) between an estimate and ground truth.
 * `occluded`/`invalid` masks (non-zero = set, one byte per pixel) exclude pixels as in Sintel.
 */
export function endPointError(estimate: FlowField, truth: FlowField, occluded?: Uint8Array, invalid?: Uint8Array): EndPointError {
  if (estimate.width !== truth.width || estimate.height !== truth.height)
    throw new FloFormatError(`flow is ${estimate.width}x${estimate.height} but ground truth is ${truth.width}x${truth.height}`);
  const n = truth.width * truth.height;
  let all = 0;
  let allCount = 0;
  let noc = 0;
  let nocCount = 0;
  for (let i = 0; i < n; i++) {
    const gu = truth.data[2 * i] as number;
    const gv = truth.data[2 * i + 1] as number;
    if ((invalid && invalid[i] !== 0) || !(Math.abs(gu) < FLO_UNKNOWN_THRESHOLD && Math.abs(gv) < FLO_UNKNOWN_THRESHOLD)) continue;
    const e = Math.hypot((estimate.data[2 * i] as number) - gu, (estimate.data[2 * i + 1] as number) - gv);
    all += e;
    allCount++;
    if (!occluded || occluded[i] === 0) {
      noc += e;
      nocCount++;
    }
  }
  return { all: allCount ? all / allCount : NaN, nonOccluded: nocCount ? noc / nocCount : NaN, validPixels: allCount };
}
