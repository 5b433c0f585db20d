/**
 * Reads NumPy `.npy` files (v1–v3, little-endian float32/float64, C order) — the format of the
 * PyTorch reference fixtures. ref: numpy/lib/format.py.
 */
export interface NpyArray {
  readonly shape: number[];
  readonly data: Float32Array;
}

export function readNpy(bytes: Uint8Array, where = 'npy'): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.byteLength < 10 || !magic.every((b, i) => bytes[i] === b)) throw new Error(`${where}: not a .npy file`);
  const major = bytes[6] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new Error(`${where}: malformed header`);
  if (fortran) throw new Error(`${where}: Fortran order is not supported`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  const data = new Float32Array(n);
  if (descr === '<f4') {
    for (let i = 0; i < n; i++) data[i] = view.getFloat32(offset + 4 * i, true);
  } else if (descr === '<f8') {
    for (let i = 0; i < n; i++) data[i] = view.getFloat64(offset + 8 * i, true);
  } else throw new Error(`${where}: dtype ${descr} is not supported`);
  return { shape, data };
}
