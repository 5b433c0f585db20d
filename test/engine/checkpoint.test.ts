import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readTorchCheckpoint, CheckpointError } from '../../packages/core/src/weights/torch-checkpoint.js';
import { readPickle } from '../../packages/core/src/weights/pickle.js';
import { RAW_MODELS } from '../helpers.js';
import { writeTorchZip } from '../torch-zip.js';

const raw = (f: string): Uint8Array => new Uint8Array(readFileSync(path.join(RAW_MODELS, f)));

describe('legacy PyTorch checkpoints', () => {
  it('reads the cd16x level-1 encoder: names, shapes and values', () => {
    const t = readTorchCheckpoint(raw('cd16x/1SE.pth'));
    expect([...t.keys()]).toEqual(['conv0.weight', 'conv0.bias', 'conv11.weight', 'conv11.bias', 'conv11_aux.weight', 'conv11_aux.bias']);
    expect(t.get('conv11.weight')!.shape).toEqual([24, 3, 3, 3]);
    // conv0 maps RGB [0,1] to BGR*255 - mean: weight[0][2] ~ 255, bias ~ -104.
    expect(t.get('conv0.weight')!.data[2]).toBeCloseTo(254.98, 1);
    expect(t.get('conv0.bias')!.data[0]).toBeCloseTo(-104.0, 1);
  });

  it('reads tensors that share one storage at different offsets (vgg19 decoder_r31)', () => {
    const t = readTorchCheckpoint(raw('vgg19/decoder_r31.pth'));
    expect(t.size).toBe(10);
    expect(t.get('conv7.weight')!.shape).toEqual([128, 256, 3, 3]);
    expect(t.get('conv11.bias')!.shape).toEqual([3]);
    // Distinct tensors of one storage must not alias the same bytes.
    expect(t.get('conv7.bias')!.data[0]).not.toBe(t.get('conv8.bias')!.data[0]);
  });

  it('rejects a truncated file with a message that says so', () => {
    const bytes = raw('cd16x/2SD.pth');
    expect(() => readTorchCheckpoint(bytes.subarray(0, bytes.length - 100))).toThrow(/truncated checkpoint: storage .* needs \d+ bytes/);
  });

  it('rejects files that are not checkpoints', () => {
    expect(() => readTorchCheckpoint(new TextEncoder().encode('hello world'))).toThrow(CheckpointError);
    expect(() => readTorchCheckpoint(new Uint8Array([1, 2]))).toThrow(/not a checkpoint/);
  });
});

describe('zip PyTorch checkpoints (torch >= 1.6)', () => {
  it('round-trips the cd16x level-2 decoder through the zip format', () => {
    const legacy = readTorchCheckpoint(raw('cd16x/2SD.pth'));
    const zipped = readTorchCheckpoint(writeTorchZip(legacy));
    expect([...zipped.keys()]).toEqual([...legacy.keys()]);
    for (const [k, v] of legacy) {
      expect(zipped.get(k)!.shape).toEqual(v.shape);
      expect(zipped.get(k)!.data).toEqual(v.data);
    }
  });

  it('reports a missing storage entry', () => {
    const legacy = readTorchCheckpoint(raw('cd16x/1SD.pth'));
    const bytes = writeTorchZip(legacy);
    // Corrupt the storage name inside the archive directory: the data file is then missing.
    const text = new TextDecoder('latin1').decode(bytes).replaceAll('archive/data/0', 'archive/data/X');
    const corrupted = Uint8Array.from(text, (c) => c.charCodeAt(0));
    expect(() => readTorchCheckpoint(corrupted)).toThrow(CheckpointError);
  });
});

describe('pickle reader', () => {
  it('decodes basic protocol-2 values', () => {
    // pickle.dumps({'a': [1, 2.5, None, True], 'b': (300, -1)}, protocol=2)
    const bytes = Uint8Array.from([
      0x80, 0x02, 0x7d, 0x71, 0x00, 0x28, 0x58, 0x01, 0x00, 0x00, 0x00, 0x61, 0x71, 0x01, 0x5d, 0x71, 0x02, 0x28, 0x4b, 0x01, 0x47, 0x40,
      0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4e, 0x88, 0x65, 0x58, 0x01, 0x00, 0x00, 0x00, 0x62, 0x71, 0x03, 0x4d, 0x2c, 0x01, 0x4a,
      0xff, 0xff, 0xff, 0xff, 0x86, 0x71, 0x04, 0x75, 0x2e,
    ]);
    const { value } = readPickle(bytes);
    expect(value).toEqual(
      new Map<string, unknown>([
        ['a', [1, 2.5, null, true]],
        ['b', [300, -1]],
      ]),
    );
  });

  it('refuses unknown opcodes instead of guessing', () => {
    expect(() => readPickle(Uint8Array.from([0x80, 0x02, 0xff]))).toThrow(/unsupported pickle opcode 0xff/);
  });
});
