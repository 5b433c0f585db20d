// The Stylizer's style-statistics cache (issue 32, item 4): a second stylizer with the same style
// encodes nothing (counted through `styleStatsSources`, not timed) and gives the identical output;
// a damaged entry is discarded, recomputed and rewritten, never used; another style size, level set
// or model is another key. No tensor is left behind by a cached setStyles.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeWasm } from '../../packages/core/src/backend/node-wasm.js';
import { Stylizer } from '../../packages/core/src/pipeline/stylizer.js';
import type { StylizerOptions } from '../../packages/core/src/pipeline/options.js';
import type { StyleStatsCache, StyleStatsKey } from '../../packages/core/src/pipeline/style-stats-cache.js';
import { FileStyleStatsCache } from '../../packages/core/src/io/style-stats-files.js';
import { fixtureBatch } from '../helpers.js';

let content: tf.Tensor3D;
let style: tf.Tensor3D;
let dir: string;

beforeAll(async () => {
  await initNodeWasm();
  const c = fixtureBatch('content_96x128');
  const s = fixtureBatch('style_96x128');
  content = tf.squeeze<tf.Tensor3D>(c, [0]);
  style = tf.squeeze<tf.Tensor3D>(s, [0]);
  tf.dispose([c, s]);
  dir = mkdtempSync(path.join(os.tmpdir(), 'livestyle-style-cache-'));
});
afterAll(() => {
  tf.dispose([content, style]);
  rmSync(dir, { recursive: true, force: true });
});

/** One run as the CLI makes it: create, setStyles, stylize, dispose. Returns the pixels and where the statistics came from. */
async function run(
  cache: StyleStatsCache,
  options: Partial<StylizerOptions> = {},
): Promise<{ pixels: Float32Array; encoded: number; cached: number }> {
  const s = await Stylizer.create({ backend: 'wasm', levels: [3, 2, 1], styleStatsCache: cache, ...options });
  try {
    await s.setStyles([{ image: style }]);
    const out = await s.stylize(content);
    const pixels = (await out.data()) as Float32Array;
    out.dispose();
    return { pixels, ...s.styleStatsSources };
  } finally {
    s.dispose();
  }
}

const entries = (cache: FileStyleStatsCache): string[] => readdirSync(cache.entriesDir).filter((n) => n.endsWith('.bin'));

describe('style statistics cache', () => {
  it('a warm run encodes no style, matches the cold run exactly and leaks nothing', async () => {
    const cache = new FileStyleStatsCache({ dir: path.join(dir, 'warm') });
    const cold = await run(cache);
    expect([cold.encoded, cold.cached]).toEqual([3, 0]);
    expect(entries(cache)).toHaveLength(3);
    const before = tf.memory().numTensors;
    const warm = await run(cache);
    expect(tf.memory().numTensors).toBe(before);
    expect([warm.encoded, warm.cached]).toEqual([0, 3]);
    // The float64 statistics round-trip bit for bit, so the output is the same to the bit.
    expect(warm.pixels).toEqual(cold.pixels);
  });

  it('a damaged entry is discarded, recomputed and rewritten, never used', async () => {
    const warnings: string[] = [];
    const cache = new FileStyleStatsCache({ dir: path.join(dir, 'damaged'), onWarning: (m) => warnings.push(m) });
    const cold = await run(cache);
    const [victim] = entries(cache);
    const file = path.join(cache.entriesDir, victim!);
    const good = readFileSync(file);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 1]! ^= 0xff; // one bit pattern of the last float64 changed: a valid number, a wrong one
    writeFileSync(file, flipped);
    const again = await run(cache);
    expect([again.encoded, again.cached]).toEqual([1, 2]);
    expect(again.pixels).toEqual(cold.pixels);
    expect(readFileSync(file)).toEqual(good); // recomputed and written back
    expect(warnings).toEqual([expect.stringMatching(/discarded .*checksum mismatch/)]);
    writeFileSync(file, good.subarray(0, 100)); // truncated
    expect((await run(cache)).encoded).toBe(1);
  });

  it('another style size, level set or model is another key', async () => {
    const cache = new FileStyleStatsCache({ dir: path.join(dir, 'keys') });
    await run(cache);
    expect((await run(cache, { styleMaxSizePx: 64 })).encoded).toBe(3); // the style is scaled: other pixels
    expect(entries(cache)).toHaveLength(6);
    const more = await run(cache, { levels: [4, 3, 2, 1] }); // levels 3..1 are shared, 4 is new
    expect([more.encoded, more.cached]).toEqual([1, 3]);
    expect((await run(cache, { model: 'vgg19', levels: [2, 1] })).encoded).toBe(2);
    expect(entries(cache)).toHaveLength(9);
  });

  it("a style given with its file's SHA-256 is keyed by the file, not by its pixels", async () => {
    const keys: StyleStatsKey[] = [];
    const inner = new FileStyleStatsCache({ dir: path.join(dir, 'file-key') });
    const recording: StyleStatsCache = {
      get: (key) => {
        keys.push(key);
        return inner.get(key);
      },
      put: (key, stats) => inner.put(key, stats),
    };
    const fileSha256 = 'e'.repeat(64);
    const s = await Stylizer.create({ backend: 'wasm', levels: [2, 1], styleStatsCache: recording });
    try {
      await s.setStyles([{ image: style, fileSha256 }]);
      // Other pixels (another decoder's, say) from the same file: the file's statistics are found.
      const nudged = tf.tidy(() => tf.clipByValue(tf.add<tf.Tensor3D>(style, 1e-3), 0, 1));
      await s.setStyles([{ image: nudged, fileSha256 }]);
      nudged.dispose();
      expect(s.styleStatsSources).toEqual({ encoded: 2, cached: 2 });
      await expect(s.setStyles([{ image: style, fileSha256: 'not hex' }])).rejects.toThrow(/fileSha256 must be 64 lowercase hex digits/);
    } finally {
      s.dispose();
    }
    expect(keys.map((k) => [k.imageHashOf, k.imageSha256, k.level])).toEqual([
      ['file', fileSha256, 2],
      ['file', fileSha256, 1],
      ['file', fileSha256, 2],
      ['file', fileSha256, 1],
    ]);
  });

  it('a custom cache that hands back garbage or fails is read as a miss', async () => {
    const cold = await run(new FileStyleStatsCache({ dir: path.join(dir, 'reference') }));
    const garbage: StyleStatsCache = {
      get: (key) => {
        const c = 64;
        const nan = new Float64Array(c * c).fill(NaN);
        return Promise.resolve(
          key.level === 1
            ? { channels: 3, mean: new Float64Array(3), std: new Float64Array(3), colouring: new Float64Array(9) }
            : { channels: c, mean: new Float64Array(c), std: new Float64Array(c), colouring: nan },
        );
      },
      put: () => Promise.reject(new Error('disk on fire')),
    };
    const r = await run(garbage);
    expect([r.encoded, r.cached]).toEqual([3, 0]);
    expect(r.pixels).toEqual(cold.pixels);
  });
});
