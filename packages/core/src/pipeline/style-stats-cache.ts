/**
 * The hook through which the Stylizer reuses a style's statistics across runs (option
 * `styleStatsCache`): an interface, the key, and the entry's byte layout. Pure: no file system or
 * database here; Node's folder implementation is io/style-stats-files.ts.
 *
 * A level's style statistics (the WCT colouring matrix and mean, the AdaIN std) are a function of
 * exactly: the style pixels as encoded (after `styleMaxSizePx`), the level's encoder weights, the
 * backend that ran the encoder (float32 arithmetic differs slightly between backends) and the
 * statistics code itself. The key holds each of those (the pixels by their SHA-256, or by the SHA-256
 * of the file the caller decoded them from: `StyleSpec.fileSha256`); a change to how statistics are computed
 * (moments.ts, eigen.ts, wct.ts, adain.ts) must bump STYLE_STATS_FORMAT_VERSION so old entries miss.
 * Method, alpha, whitening, `statisticsPrecision` (per-frame content statistics only) and the decoders
 * do not enter the style's statistics, so they are not in the key.
 */
import { sha256Hex } from '../weights/model-format.js';

/** Bump when the statistics or the entry layout change: every older entry is then discarded. */
export const STYLE_STATS_FORMAT_VERSION = 1;
const ENTRY_FORMAT = 'livestyle-style-stats';
/** Wider than any model's level (512 channels): a header claiming more is damaged. */
const MAX_CHANNELS = 4096;
/** A header is a few hundred bytes; more is not one of ours. */
const MAX_HEADER_BYTES = 64 * 1024;

/** Everything a level's style statistics depend on. */
export interface StyleStatsKey {
  /**
   * SHA-256 (hex) of the style: of its float32 pixels as encoded (`[1, H, W, 3]`, after
   * `styleMaxSizePx`) when `imageHashOf` is 'pixels'; of the image file the caller decoded them from
   * when 'file' (`StyleSpec.fileSha256`: another decoder's pixels may differ in the last bit, the
   * file does not, so statistics computed elsewhere from the same file can be found).
   */
  readonly imageSha256: string;
  readonly imageHashOf: 'pixels' | 'file';
  readonly styleHeightPx: number;
  readonly styleWidthPx: number;
  readonly model: string;
  /** SHA-256 (hex) of the level's encoder weight file (manifest): a re-converted model is another key. */
  readonly encoderSha256: string;
  readonly level: number;
  /** The tf.js backend that ran the encoder. */
  readonly backend: string;
}

/** One style's statistics at one level, in float64 as the engine keeps them. */
export interface StyleLevelStatistics {
  readonly channels: number;
  /** `[C]` channel mean (shared by WCT and AdaIN). */
  readonly mean: Float64Array;
  /** `[C, C]` row-major WCT colouring matrix E diag(sqrt(f)) E^T. */
  readonly colouring: Float64Array;
  /** `[C]` AdaIN std, sqrt(unbiased variance + eps). */
  readonly std: Float64Array;
}

/**
 * Where style statistics are kept between runs. `get` answers null for an absent entry and for a
 * damaged one (which the implementation discards): it never hands back statistics it cannot vouch
 * for. The Stylizer treats a rejected `get` or `put` as a miss: a cache costs speed, never a result.
 */
export interface StyleStatsCache {
  get(key: StyleStatsKey): Promise<StyleLevelStatistics | null>;
  put(key: StyleStatsKey, stats: StyleLevelStatistics): Promise<void>;
}

/** A cache entry that cannot be used: wrong format or version, another key, wrong size, bad checksum. */
export class StyleStatsEntryError extends Error {
  override name = 'StyleStatsEntryError';
}

/** The key as one line of text, in a fixed field order (the entry's identity). */
function canonicalKey(key: StyleStatsKey): string {
  return [
    `v${STYLE_STATS_FORMAT_VERSION}`,
    key.model,
    key.encoderSha256,
    `level${key.level}`,
    key.backend,
    `${key.styleWidthPx}x${key.styleHeightPx}`,
    `${key.imageHashOf}:${key.imageSha256}`,
  ].join('|');
}

/** A file-name-safe identity of the key: SHA-256 (hex) of its canonical form. */
export async function styleStatsEntryId(key: StyleStatsKey): Promise<string> {
  return sha256Hex(new TextEncoder().encode(canonicalKey(key)));
}

interface EntryHeader {
  readonly format: string;
  readonly version: number;
  readonly key: string;
  readonly channels: number;
  readonly payloadBytes: number;
  readonly payloadSha256: string;
}

const payloadBytesFor = (channels: number): number => 8 * (2 * channels + channels * channels);

/**
 * One entry's bytes: a u32 (little-endian) header length, a JSON header (format, version, key,
 * channels, payload size and SHA-256), zero padding to a multiple of 8, then the payload as
 * little-endian float64: mean[C], std[C], colouring[C*C].
 */
export async function encodeStyleStatsEntry(key: StyleStatsKey, stats: StyleLevelStatistics): Promise<Uint8Array> {
  const c = stats.channels;
  if (stats.mean.length !== c || stats.std.length !== c || stats.colouring.length !== c * c)
    throw new Error(`style statistics: arrays do not fit ${c} channels`);
  const payload = new Uint8Array(payloadBytesFor(c));
  const view = new DataView(payload.buffer);
  let offset = 0;
  for (const array of [stats.mean, stats.std, stats.colouring])
    for (const v of array) {
      view.setFloat64(offset, v, true);
      offset += 8;
    }
  const header: EntryHeader = {
    format: ENTRY_FORMAT,
    version: STYLE_STATS_FORMAT_VERSION,
    key: canonicalKey(key),
    channels: c,
    payloadBytes: payload.byteLength,
    payloadSha256: await sha256Hex(payload),
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const payloadStart = Math.ceil((4 + headerBytes.byteLength) / 8) * 8;
  const out = new Uint8Array(payloadStart + payload.byteLength);
  new DataView(out.buffer).setUint32(0, headerBytes.byteLength, true);
  out.set(headerBytes, 4);
  out.set(payload, payloadStart);
  return out;
}

/** The header of an entry, checked against the format, the version and `key`. */
function readHeader(bytes: Uint8Array, key: StyleStatsKey): { header: EntryHeader; payloadStart: number } {
  if (bytes.byteLength < 4) throw new StyleStatsEntryError(`truncated (${bytes.byteLength} bytes)`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (headerLength > MAX_HEADER_BYTES || 4 + headerLength > bytes.byteLength)
    throw new StyleStatsEntryError(`header length ${headerLength} does not fit ${bytes.byteLength} bytes`);
  let header: EntryHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(4, 4 + headerLength))) as EntryHeader;
  } catch {
    throw new StyleStatsEntryError('header is not JSON');
  }
  if (typeof header !== 'object' || header === null || header.format !== ENTRY_FORMAT)
    throw new StyleStatsEntryError('not a livestyle style-statistics entry');
  if (header.version !== STYLE_STATS_FORMAT_VERSION)
    throw new StyleStatsEntryError(`version ${String(header.version)}, expected ${STYLE_STATS_FORMAT_VERSION}`);
  if (header.key !== canonicalKey(key)) throw new StyleStatsEntryError('entry is for another key');
  const c = header.channels;
  if (!Number.isInteger(c) || c < 1 || c > MAX_CHANNELS) throw new StyleStatsEntryError(`bad channel count ${String(c)}`);
  return { header, payloadStart: Math.ceil((4 + headerLength) / 8) * 8 };
}

/**
 * The statistics in an entry's bytes, if they are exactly what {@link encodeStyleStatsEntry} wrote
 * for `key`. Throws a StyleStatsEntryError saying what is wrong otherwise (the caller discards it).
 */
export async function decodeStyleStatsEntry(bytes: Uint8Array, key: StyleStatsKey): Promise<StyleLevelStatistics> {
  const { header, payloadStart } = readHeader(bytes, key);
  const c = header.channels;
  const expected = payloadBytesFor(c);
  if (header.payloadBytes !== expected || bytes.byteLength !== payloadStart + expected)
    throw new StyleStatsEntryError(`size ${bytes.byteLength} bytes, expected ${payloadStart + expected} for ${c} channels`);
  const payload = bytes.subarray(payloadStart);
  if ((await sha256Hex(payload)) !== header.payloadSha256) throw new StyleStatsEntryError('checksum mismatch');
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const read = (from: number, length: number): Float64Array => {
    const out = new Float64Array(length);
    for (let i = 0; i < length; i++) out[i] = view.getFloat64((from + i) * 8, true);
    return out;
  };
  const stats = { channels: c, mean: read(0, c), std: read(c, c), colouring: read(2 * c, c * c) };
  // A checksum over NaNs vouches for the bytes, not for the numbers: never colour a frame with them.
  for (const array of [stats.mean, stats.std, stats.colouring])
    if (!array.every(Number.isFinite)) throw new StyleStatsEntryError('holds NaN or infinite values');
  return stats;
}
