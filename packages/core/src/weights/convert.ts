/**
 * Node-only: converts the raw PyTorch checkpoints of a model family into the web format under
 * `models/<id>/` (manifest.json + one .bin per weight group). Writes into a temporary folder and
 * renames it into place, so an interrupted conversion never leaves a half-written model.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MODEL_FAMILIES, bindLayers, outputChannels, type ModelId } from './architectures.js';
import {
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  packWeights,
  sha256Hex,
  type LevelEntry,
  type ModelManifest,
  type WeightGroup,
} from './model-format.js';
import { readTorchCheckpoint, type NamedTensor } from './torch-checkpoint.js';

/** Options of {@link convertModel}. */
export interface ConvertOptions {
  /** Store weights as float16 (half the download; tfjs dequantises on load). Default false. */
  readonly float16?: boolean;
  /** Accept raw files whose sha256 differs from the published checkpoints. Default false. */
  readonly allowUnverified?: boolean;
  readonly onProgress?: (message: string) => void;
}

/** A conversion that cannot proceed: a missing `.pth`, a sha256 mismatch, an unexpected layer shape. */
export class ConvertError extends Error {
  override name = 'ConvertError';
}

/** Converts `rawDir` (e.g. ../shared/models/raw/cd16x) into `outDir` (e.g. models/cd16x). */
export async function convertModel(id: ModelId, rawDir: string, outDir: string, options: ConvertOptions = {}): Promise<ModelManifest> {
  const family = MODEL_FAMILIES[id];
  const cache = new Map<string, Map<string, NamedTensor>>();
  const load = async (file: string): Promise<Map<string, NamedTensor>> => {
    const hit = cache.get(file);
    if (hit) return hit;
    const full = path.join(rawDir, file);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(full));
    } catch (e) {
      throw new ConvertError(`${full}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const expected = family.rawSha256[file];
    const actual = await sha256Hex(bytes);
    if (expected && actual !== expected && !options.allowUnverified) {
      throw new ConvertError(`${full}: sha256 ${actual} does not match the published checkpoint (${expected})`);
    }
    let tensors: Map<string, NamedTensor>;
    try {
      tensors = readTorchCheckpoint(bytes);
    } catch (e) {
      throw new ConvertError(`${full}: ${(e as Error).message}`);
    }
    cache.set(file, tensors);
    return tensors;
  };

  const groupTensors = new Map<string, { source: string; tensors: Map<string, NamedTensor> }>();
  const levels: Record<string, LevelEntry> = {};
  for (const [level, t] of family.levels) {
    options.onProgress?.(`${id}: level ${level}`);
    const enc = bindLayers(t.encoder, await load(t.encoderFile), 3, path.join(rawDir, t.encoderFile));
    const channels = outputChannels(enc.layers);
    const dec = bindLayers(t.decoder, await load(t.decoderFile), channels, path.join(rawDir, t.decoderFile));
    if (outputChannels(dec.layers) !== 3) throw new ConvertError(`${t.decoderFile}: decoder does not end in 3 channels`);
    for (const [group, file, weights] of [
      [t.encoderGroup, t.encoderFile, enc.weights],
      [t.decoderGroup, t.decoderFile, dec.weights],
    ] as const) {
      const g = groupTensors.get(group) ?? { source: file, tensors: new Map<string, NamedTensor>() };
      for (const [k, v] of weights) g.tensors.set(k, v);
      groupTensors.set(group, g);
    }
    levels[String(level)] = {
      encoderGroup: t.encoderGroup,
      decoderGroup: t.decoderGroup,
      encoderLayers: enc.layers,
      decoderLayers: dec.layers,
      channels,
    };
  }

  const tmpDir = `${outDir}.tmp-${process.pid}`;
  await rm(tmpDir, { recursive: true, force: true });
  await mkdir(tmpDir, { recursive: true });
  try {
    const groups: Record<string, WeightGroup> = {};
    for (const [name, g] of groupTensors) {
      const { bytes, weights } = packWeights(g.tensors, options.float16 ?? false);
      const file = `${name}.bin`;
      await writeFile(path.join(tmpDir, file), bytes);
      groups[name] = { paths: [file], weights, byteLength: bytes.byteLength, sha256: await sha256Hex(bytes), source: g.source };
    }
    const manifest: ModelManifest = {
      format: MODEL_FORMAT,
      version: MODEL_FORMAT_VERSION,
      id,
      description: family.description,
      levels,
      groups,
    };
    await writeFile(path.join(tmpDir, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
    await rm(outDir, { recursive: true, force: true });
    await mkdir(path.dirname(outDir), { recursive: true });
    await rename(tmpDir, outDir);
    return manifest;
  } catch (e) {
    await rm(tmpDir, { recursive: true, force: true });
    throw e;
  }
}
