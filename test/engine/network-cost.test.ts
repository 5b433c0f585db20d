// FLOPs and compulsory bytes of a layer list (the benchmark's roofline figures).
import { describe, expect, it } from 'vitest';
import { initNodeWasm } from '../../packages/core/src/backend/node-wasm.js';
import { fileModelSource } from '../../packages/core/src/io/model-files.js';
import { LoadedModel } from '../../packages/core/src/weights/model-loader.js';
import { convMacs, networkCost } from '../../packages/core/src/nets/network.js';
import { type LayerSpec } from '../../packages/core/src/weights/architectures.js';

describe('networkCost', () => {
  it('counts MACs and float32 bytes of a conv, a pool and an upsample by hand', () => {
    const layers: LayerSpec[] = [
      { op: 'conv', name: 'c1', kernel: 3, relu: true, inChannels: 3, outChannels: 8 },
      { op: 'pool' },
      { op: 'conv', name: 'c2', kernel: 1, relu: false, inChannels: 8, outChannels: 4 },
      { op: 'upsample' },
    ];
    const cost = networkCost(layers, 4, 6);
    // c1: 4*6 px * 9 * 3 * 8; c2 at 2x3: 6 px * 1 * 8 * 4
    expect(cost.macs).toBe(24 * 9 * 3 * 8 + 6 * 8 * 4);
    const values =
      6 * 8 * 3 +
      24 * 8 +
      9 * 3 * 8 +
      8 + // c1: padded input, output, weights, bias
      24 * 8 +
      6 * 8 + // pool: read 4x6x8, write 2x3x8
      6 * 8 +
      6 * 4 +
      8 * 4 +
      4 + // c2
      6 * 4 +
      24 * 4; // upsample
    expect(cost.bytes).toBe(values * 4);
  });

  it('agrees with convMacs on the real cd16x encoders and decoders', async () => {
    await initNodeWasm();
    const model = await LoadedModel.open(fileModelSource('cd16x'), 'cd16x');
    try {
      for (const level of [1, 2, 3, 4, 5]) {
        const nets = await model.level(level);
        for (const layers of [nets.encoderLayers, nets.decoderLayers]) {
          const cost = networkCost(layers, 64, 96);
          expect(cost.macs).toBe(convMacs(layers, 64, 96));
          expect(cost.macs).toBeGreaterThan(0);
        }
      }
    } finally {
      model.dispose();
    }
  });
});
