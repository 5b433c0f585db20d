// The style-statistics cache entries (issue 32, item 4): what enters the key, the entry's exact
// round trip, and the bad-input rule "a corrupted cache entry is discarded and recomputed, never
// used": truncated, bit-flipped, other-version and other-key entries read as a miss and are deleted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  STYLE_STATS_FORMAT_VERSION,
  decodeStyleStatsEntry,
  encodeStyleStatsEntry,
  styleStatsEntryId,
  type StyleLevelStatistics,
  type StyleStatsKey,
} from '../../packages/core/src/pipeline/style-stats-cache.js';
import { FileStyleStatsCache, defaultCacheDir } from '../../packages/core/src/io/style-stats-files.js';

const KEY: StyleStatsKey = {
  imageSha256: 'a'.repeat(64),
  imageHashOf: 'pixels',
  styleHeightPx: 96,
  styleWidthPx: 128,
  model: 'cd16x',
  encoderSha256: 'b'.repeat(64),
  level: 3,
  backend: 'wasm',
};

/** Statistics of `c` channels with values that exercise every float64 bit (no round number). */
function statsOf(c: number): StyleLevelStatistics {
  const f = (n: number, seed: number): Float64Array =>
    Float64Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 1e3 + 1e-9 * i);
  return { channels: c, mean: f(c, 1), std: f(c, 2).map(Math.abs), colouring: f(c * c, 3) };
}

describe('style statistics cache entries', () => {
  it('round-trips the float64 statistics bit for bit', async () => {
    const stats = statsOf(16);
    const back = await decodeStyleStatsEntry(await encodeStyleStatsEntry(KEY, stats), KEY);
    expect(back).toEqual(stats);
  });

  it('gives a different entry to every field the statistics depend on', async () => {
    const variants: StyleStatsKey[] = [
      KEY,
      { ...KEY, imageSha256: 'c'.repeat(64) }, // another image, or the same one at another --style-size
      { ...KEY, imageHashOf: 'file' }, // the same digits of a file are not those of pixels
      { ...KEY, styleHeightPx: 48, styleWidthPx: 64 },
      { ...KEY, model: 'vgg19' },
      { ...KEY, encoderSha256: 'd'.repeat(64) }, // the model converted again (e.g. float16 weights)
      { ...KEY, level: 4 },
      { ...KEY, backend: 'webgpu' },
    ];
    const ids = await Promise.all(variants.map(styleStatsEntryId));
    expect(new Set(ids).size).toBe(variants.length);
    expect(ids[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(await styleStatsEntryId({ ...KEY })).toBe(ids[0]);
  });

  it('refuses damaged entries, saying what is wrong', async () => {
    const good = await encodeStyleStatsEntry(KEY, statsOf(8));
    const flipped = Uint8Array.from(good);
    flipped[flipped.length - 3]! ^= 0x10;
    await expect(decodeStyleStatsEntry(flipped, KEY)).rejects.toThrow(/checksum/);
    await expect(decodeStyleStatsEntry(good.subarray(0, good.length - 8), KEY)).rejects.toThrow(/size/);
    await expect(decodeStyleStatsEntry(good.subarray(0, 2), KEY)).rejects.toThrow(/truncated/);
    await expect(decodeStyleStatsEntry(new Uint8Array(64), KEY)).rejects.toThrow(/not JSON|not a livestyle/);
    await expect(decodeStyleStatsEntry(good, { ...KEY, level: 4 })).rejects.toThrow(/another key/);
    await expect(decodeStyleStatsEntry(withVersion(good, STYLE_STATS_FORMAT_VERSION + 1), KEY)).rejects.toThrow(/version/);
    const nan = statsOf(8);
    nan.colouring[5] = NaN;
    await expect(decodeStyleStatsEntry(await encodeStyleStatsEntry(KEY, nan), KEY)).rejects.toThrow(/NaN/);
  });
});

/** `bytes` with the header's version replaced (same length: a one-digit version). */
function withVersion(bytes: Uint8Array, version: number): Uint8Array {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const header = new TextDecoder().decode(bytes.subarray(4, 4 + length)).replace(/"version":\d/, `"version":${version}`);
  const out = Uint8Array.from(bytes);
  out.set(new TextEncoder().encode(header), 4);
  return out;
}

describe('FileStyleStatsCache', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'livestyle-style-cache-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lives in $LIVESTYLE_CACHE_DIR, else $XDG_CACHE_HOME/livestyle, else ~/.cache/livestyle', () => {
    expect(defaultCacheDir({ LIVESTYLE_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x' }, '/h')).toBe(path.resolve('/c'));
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x' }, '/h')).toBe(path.resolve('/x/livestyle'));
    expect(defaultCacheDir({}, '/h')).toBe(path.join('/h', '.cache', 'livestyle'));
  });

  it('misses, stores, hits; a damaged entry is deleted, reported once and read as a miss', async () => {
    const warnings: string[] = [];
    const cache = new FileStyleStatsCache({ dir, onWarning: (m) => warnings.push(m) });
    const stats = statsOf(8);
    expect(await cache.get(KEY)).toBeNull();
    await cache.put(KEY, stats);
    const file = await cache.entryPath(KEY);
    expect(path.dirname(file)).toBe(path.join(dir, `style-stats-v${STYLE_STATS_FORMAT_VERSION}`));
    expect(await cache.get(KEY)).toEqual(stats);
    const good = readFileSync(file);
    for (const damaged of [good.subarray(0, good.length - 100), Buffer.concat([good, Buffer.from([0])]), Buffer.alloc(0)]) {
      writeFileSync(file, damaged);
      expect(await cache.get(KEY)).toBeNull();
      expect(existsSync(file)).toBe(false);
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/discarded .*recomputing/);
  });

  it('a folder it cannot write costs the cache, not the run', async () => {
    if (process.getuid?.() === 0) return; // root writes anywhere: nothing to refuse
    const locked = path.join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    const warnings: string[] = [];
    const cache = new FileStyleStatsCache({ dir: locked, onWarning: (m) => warnings.push(m) });
    await expect(cache.put(KEY, statsOf(4))).resolves.toBeUndefined();
    expect(warnings[0]).toMatch(/not saved \(permission denied\)/);
  });
});
