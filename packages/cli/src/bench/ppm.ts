/**
 * Binary PPM (P6, 8-bit RGB): the GPU kit carries its test images in this format so its bundle
 * needs no image codec (sharp is a native module). ref: Netpbm PPM format specification.
 */
import type { PixelsLike } from '@livestyle/core/internal/pipeline/input.js';

/** Parses a P6 PPM with maxval 255. Throws with `what` in the message on anything else. */
export function parsePpm(bytes: Uint8Array, what = 'PPM'): PixelsLike {
  let pos = 0;
  const token = (): string => {
    for (;;) {
      while (pos < bytes.length && /\s/.test(String.fromCharCode(bytes[pos] as number))) pos++;
      if (bytes[pos] !== 0x23) break; // '#' comment to end of line
      while (pos < bytes.length && bytes[pos] !== 0x0a) pos++;
    }
    const start = pos;
    while (pos < bytes.length && !/\s/.test(String.fromCharCode(bytes[pos] as number))) pos++;
    return new TextDecoder().decode(bytes.subarray(start, pos));
  };
  const magic = token();
  const width = Number(token());
  const height = Number(token());
  const maxval = Number(token());
  pos++; // the single whitespace before the raster
  if (magic !== 'P6' || !(width > 0) || !(height > 0) || maxval !== 255)
    throw new Error(`${what}: not an 8-bit binary PPM (P6, maxval 255)`);
  const data = bytes.subarray(pos, pos + width * height * 3);
  if (data.length !== width * height * 3) throw new Error(`${what}: truncated (${data.length} of ${width * height * 3} pixel bytes)`);
  return { width, height, data };
}

/** Encodes RGB bytes as a P6 PPM. */
export function encodePpm(p: PixelsLike): Uint8Array {
  const ch = p.data.length / (p.width * p.height);
  const header = new TextEncoder().encode(`P6\n${p.width} ${p.height}\n255\n`);
  const out = new Uint8Array(header.length + p.width * p.height * 3);
  out.set(header);
  for (let i = 0, o = header.length; i < p.width * p.height; i++, o += 3)
    for (let c = 0; c < 3; c++) out[o + c] = p.data[i * ch + c] as number;
  return out;
}
