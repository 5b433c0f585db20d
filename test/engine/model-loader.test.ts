import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync, truncateSync } from 'node:fs';
import os from 'node:os';
import { createHash } from 'node:crypto';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeWasm } from '../../packages/core/src/backend/node-wasm.js';
import { convertModel, ConvertError } from '../../packages/core/src/weights/convert.js';
import { fileModelSource } from '../../packages/core/src/io/model-files.js';
import { LoadedModel } from '../../packages/core/src/weights/model-loader.js';
import { runNetwork } from '../../packages/core/src/nets/network.js';
import { ModelFormatError } from '../../packages/core/src/weights/model-format.js';
import { RAW_MODELS, fixtureBatch, maxAbsError } from '../helpers.js';

let work: string;
let good: string;

beforeAll(async () => {
  await initNodeWasm();
  work = mkdtempSync(path.join(os.tmpdir(), 'livestyle-loader-'));
  good = path.join(work, 'good');
  await convertModel('cd16x', path.join(RAW_MODELS, 'cd16x'), path.join(good, 'cd16x'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of the converted model with `mutate` applied. */
function variant(name: string, mutate: (dir: string) => void): string {
  const dir = path.join(work, name);
  cpSync(good, dir, { recursive: true });
  mutate(path.join(dir, 'cd16x'));
  return dir;
}

describe('converted model files', () => {
  it('writes a tf.io-style manifest with sha256 and byte lengths', () => {
    const manifest = JSON.parse(readFileSync(path.join(good, 'cd16x', 'manifest.json'), 'utf8')) as {
      groups: Record<string, { paths: string[]; sha256: string; byteLength: number; weights: Array<{ name: string; shape: number[] }> }>;
      levels: Record<string, { channels: number }>;
    };
    expect(Object.keys(manifest.levels)).toEqual(['1', '2', '3', '4', '5']);
    expect(manifest.levels['1']!.channels).toBe(24);
    expect(manifest.levels['5']!.channels).toBe(128);
    const enc1 = manifest.groups['enc1']!;
    expect(enc1.paths).toEqual(['enc1.bin']);
    expect(enc1.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(enc1.weights.map((w) => w.name)).toContain('conv11.filter');
    // The distillation-only *_aux layers are not shipped.
    expect(enc1.weights.some((w) => w.name.includes('aux'))).toBe(false);
  });

  it('a truncated weight file is named with its expected size', async () => {
    const dir = variant('truncated', (d) => truncateSync(path.join(d, 'enc3.bin'), 100));
    const model = await LoadedModel.open(fileModelSource('cd16x', dir), 'cd16x');
    await expect(model.level(3)).rejects.toThrow(/enc3\.bin: size is 100 bytes, expected \d+ \(file truncated or replaced\)/);
    model.dispose();
  });

  it('a tampered weight file fails its sha256 check', async () => {
    const dir = variant('tampered', (d) => {
      const f = path.join(d, 'dec2.bin');
      const b = readFileSync(f);
      b[10] = (b[10] ?? 0) ^ 0xff;
      writeFileSync(f, b);
    });
    const model = await LoadedModel.open(fileModelSource('cd16x', dir), 'cd16x');
    await expect(model.level(2)).rejects.toThrow(/dec2\.bin: sha256 [0-9a-f]{64} does not match the manifest/);
    model.dispose();
  });

  it('a manifest whose layer list disagrees with the weights names the tensor and shapes', async () => {
    const dir = variant('shape', (d) => {
      const f = path.join(d, 'manifest.json');
      const m = JSON.parse(readFileSync(f, 'utf8')) as { levels: Record<string, { encoderLayers: Array<{ inChannels?: number }> }> };
      m.levels['1']!.encoderLayers[1]!.inChannels = 5;
      writeFileSync(f, JSON.stringify(m));
    });
    const model = await LoadedModel.open(fileModelSource('cd16x', dir), 'cd16x');
    await expect(model.level(1)).rejects.toThrow(/conv11\.filter has shape \[3, 3, 3, 24\], expected \[3, 3, 5, 24\]/);
    model.dispose();
  });

  it('NaN weights with a matching sha256 are refused at load, naming the file and the weight (issue 21 item 12)', async () => {
    const dir = variant('nan', (d) => {
      const bin = path.join(d, 'enc2.bin');
      const b = readFileSync(bin);
      b.writeFloatLE(Number.NaN, 0);
      writeFileSync(bin, b);
      const f = path.join(d, 'manifest.json');
      const m = JSON.parse(readFileSync(f, 'utf8')) as { groups: Record<string, { sha256: string }> };
      m.groups['enc2']!.sha256 = createHash('sha256').update(b).digest('hex');
      writeFileSync(f, JSON.stringify(m));
    });
    const before = tf.memory().numTensors;
    const model = await LoadedModel.open(fileModelSource('cd16x', dir), 'cd16x');
    await expect(model.level(2)).rejects.toThrow(/model cd16x enc2\.bin: weight '[\w.]+\.filter' holds NaN or infinite values/);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before); // the refused weights were freed (and dec2's with the model)
  });

  it('a manifest whose shapes contradict its byteLength blames the manifest; a bad dtype names the file (item 17)', async () => {
    const shape = variant('shape-bytes', (d) => {
      const f = path.join(d, 'manifest.json');
      const m = JSON.parse(readFileSync(f, 'utf8')) as { groups: Record<string, { weights: Array<{ shape: number[] }> }> };
      m.groups['enc2']!.weights[0]!.shape[3] = 25;
      writeFileSync(f, JSON.stringify(m));
    });
    const a = await LoadedModel.open(fileModelSource('cd16x', shape), 'cd16x');
    await expect(a.level(2)).rejects.toThrow(
      /manifest\.json: group enc2's weight shapes and dtypes need \d+ bytes, its byteLength says \d+ \(manifest edited/,
    );
    a.dispose();
    const dtype = variant('dtype', (d) => {
      const f = path.join(d, 'manifest.json');
      const m = JSON.parse(readFileSync(f, 'utf8')) as { groups: Record<string, { weights: Array<{ dtype: string }> }> };
      m.groups['enc4']!.weights[0]!.dtype = 'complex64';
      writeFileSync(f, JSON.stringify(m));
    });
    const b = await LoadedModel.open(fileModelSource('cd16x', dtype), 'cd16x').catch((e: Error) => e);
    if (b instanceof Error) expect(b.message).toMatch(/manifest\.json.*dtype|dtype.*manifest/);
    else {
      const e = await b.level(4).then(
        () => new Error('loaded'),
        (err: Error) => err,
      );
      expect(e.message).toMatch(
        /model cd16x enc4\.bin \(manifest\.json group enc4\): weight '[\w.]+' has dtype complex64; models hold float32/,
      );
      b.dispose();
    }
  });

  it('a model source that never answers fails after modelLoadTimeoutMs, naming the file (item 16)', async () => {
    const { Stylizer } = await import('../../packages/core/src/pipeline/stylizer.js');
    const never = (): Promise<Uint8Array> => new Promise(() => undefined);
    await expect(Stylizer.create({ backend: 'wasm', modelSource: () => never, modelLoadTimeoutMs: 50 })).rejects.toThrow(
      /manifest\.json: not received within 50 ms \(modelLoadTimeoutMs\)/,
    );
    await expect(Stylizer.create({ backend: 'wasm', modelLoadTimeoutMs: -1 })).rejects.toThrow(/modelLoadTimeoutMs must be 0/);
  });

  it('a missing model says how to convert it', async () => {
    await expect(LoadedModel.open(fileModelSource('cd16x', path.join(work, 'nowhere')), 'cd16x')).rejects.toThrow(
      /npx livestyle models --from/,
    );
  });

  it('a raw checkpoint that is not the published one is refused on conversion', async () => {
    const raw = path.join(work, 'raw');
    cpSync(path.join(RAW_MODELS, 'cd16x'), raw, { recursive: true });
    const f = path.join(raw, '1SD.pth');
    const b = readFileSync(f);
    b[b.length - 1] = (b[b.length - 1] ?? 0) ^ 1;
    writeFileSync(f, b);
    await expect(convertModel('cd16x', raw, path.join(work, 'out'))).rejects.toThrow(ConvertError);
    await expect(convertModel('cd16x', raw, path.join(work, 'out'))).rejects.toThrow(
      /1SD\.pth: sha256 .* does not match the published checkpoint/,
    );
  });

  it('float16 models load and stay within 1e-3 of float32 (relative to range)', async () => {
    const dir = path.join(work, 'f16');
    const manifest = await convertModel('cd16x', path.join(RAW_MODELS, 'cd16x'), path.join(dir, 'cd16x'), { float16: true });
    const f32Bytes = JSON.parse(readFileSync(path.join(good, 'cd16x', 'manifest.json'), 'utf8')) as {
      groups: Record<string, { byteLength: number }>;
    };
    expect(manifest.groups['enc5']!.byteLength * 2).toBe(f32Bytes.groups['enc5']!.byteLength);
    const m16 = await LoadedModel.open(fileModelSource('cd16x', dir), 'cd16x');
    const x = fixtureBatch('content_96x128');
    const nets = await m16.level(2);
    const f = runNetwork(x, nets.encoderLayers, nets.encoderWeights);
    const ref = fixtureBatch('cd16x_enc2');
    const { maxAbs, range } = maxAbsError(f, ref);
    expect(maxAbs / range).toBeLessThan(1e-3);
    tf.dispose([x, f, ref]);
    m16.dispose();
  });

  it('the loader frees every weight tensor on dispose, and dispose is idempotent', async () => {
    const before = tf.memory().numTensors;
    const model = await LoadedModel.open(fileModelSource('cd16x', good), 'cd16x');
    await model.level(1);
    await model.level(4);
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    model.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(model.level(1)).rejects.toThrow(ModelFormatError);
  });
});
