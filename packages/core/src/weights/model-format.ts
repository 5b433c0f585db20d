/**
 * The project's web model format: `manifest.json` + one binary file per weight group.
 * Each group is a tf.io `WeightsManifestGroupConfig` (paths + weight specs, optional float16
 * quantization) extended with the file's byte length and sha256, so a truncated or tampered file
 * is caught before tfjs ever sees it.
 */
import type { ModelId, LayerSpec } from './architectures.js';
import type { NamedTensor } from './torch-checkpoint.js';

export const MODEL_FORMAT = 'livestyle-model';
export const MODEL_FORMAT_VERSION = 1;

export interface WeightEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: 'float32';
  /** Present when stored as float16 (tf.io's float16 quantization). */
  readonly quantization?: { readonly dtype: 'float16' };
}

export interface WeightGroup {
  /** tf.io-compatible: the file(s) of this group, relative to the manifest. */
  readonly paths: readonly [string];
  readonly weights: readonly WeightEntry[];
  readonly byteLength: number;
  readonly sha256: string;
  /** Raw checkpoint it was converted from, for provenance. */
  readonly source: string;
}

export interface LevelEntry {
  readonly encoderGroup: string;
  readonly decoderGroup: string;
  readonly encoderLayers: readonly LayerSpec[];
  readonly decoderLayers: readonly LayerSpec[];
  /** Feature channels at reluL_1. */
  readonly channels: number;
}

export interface ModelManifest {
  readonly format: typeof MODEL_FORMAT;
  readonly version: number;
  readonly id: ModelId;
  readonly description: string;
  readonly levels: Readonly<Record<string, LevelEntry>>;
  readonly groups: Readonly<Record<string, WeightGroup>>;
}

/** A converted model that is missing, damaged or inconsistent with its manifest; the message names the file. */
export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
}

/** IEEE 754 binary16 from a float (round to nearest even). */
export function floatToHalf(value: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = value;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  e = half >>> 10;
  return sign | half;
}

/** Packs named tensors into one buffer with their tf.io specs. */
export function packWeights(tensors: ReadonlyMap<string, NamedTensor>, float16: boolean): { bytes: Uint8Array; weights: WeightEntry[] } {
  const weights: WeightEntry[] = [];
  let total = 0;
  for (const [name, t] of tensors) {
    weights.push(
      float16 ? { name, shape: t.shape, dtype: 'float32', quantization: { dtype: 'float16' } } : { name, shape: t.shape, dtype: 'float32' },
    );
    total += t.data.length * (float16 ? 2 : 4);
  }
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  let o = 0;
  for (const t of tensors.values()) {
    for (const v of t.data) {
      if (float16) {
        view.setUint16(o, floatToHalf(v), true);
        o += 2;
      } else {
        view.setFloat32(o, v, true);
        o += 4;
      }
    }
  }
  return { bytes, weights };
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as unknown as ArrayBuffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a parsed manifest's structure; throws a ModelFormatError naming the first problem. */
export function validateManifest(raw: unknown, where: string): ModelManifest {
  const fail = (msg: string): never => {
    throw new ModelFormatError(`${where}: ${msg}`);
  };
  if (!isRecord(raw)) return fail('not a JSON object');
  if (raw.format !== MODEL_FORMAT) return fail(`format is ${JSON.stringify(raw.format)}, expected "${MODEL_FORMAT}"`);
  if (raw.version !== MODEL_FORMAT_VERSION)
    return fail(`version ${String(raw.version)} is not supported (expected ${MODEL_FORMAT_VERSION})`);
  if (!isRecord(raw.levels) || !isRecord(raw.groups)) return fail('levels/groups missing');
  for (const [name, g] of Object.entries(raw.groups)) {
    if (!isRecord(g) || !Array.isArray(g.paths) || g.paths.length !== 1 || typeof g.paths[0] !== 'string') fail(`group ${name}: bad paths`);
    const group = g as Record<string, unknown>;
    if (typeof group.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(group.sha256)) fail(`group ${name}: bad sha256`);
    if (typeof group.byteLength !== 'number') fail(`group ${name}: bad byteLength`);
    if (!Array.isArray(group.weights)) fail(`group ${name}: no weights`);
  }
  for (const [level, l] of Object.entries(raw.levels)) {
    if (!isRecord(l)) return fail(`level ${level}: not an object`);
    for (const key of ['encoderGroup', 'decoderGroup'] as const) {
      const g = l[key];
      if (typeof g !== 'string' || !(g in raw.groups)) fail(`level ${level}: ${key} ${String(g)} is not a group`);
    }
    if (!Array.isArray(l.encoderLayers) || !Array.isArray(l.decoderLayers)) fail(`level ${level}: layers missing`);
    if (typeof l.channels !== 'number') fail(`level ${level}: channels missing`);
  }
  return raw as unknown as ModelManifest;
}

/** Expected byte length of a group's file from its weight specs. */
export function groupByteLength(group: WeightGroup): number {
  return group.weights.reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1) * (w.quantization ? 2 : 4), 0);
}
