import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync, truncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeWasm, convertModel, fileModelSource, LoadedModel, runNetwork, ModelFormatError, ConvertError } from '../src/node.js';
import { RAW_MODELS, fixtureBatch, maxAbsError } from './helpers.js';

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
