/**
 * The demo build's precomputed statistics of its built-in styles (issue 32, "first frame fast"):
 * each style's statistics at every level of the elements' default model, computed in Node (wasm)
 * from the very JPEG the site serves, written next to the catalog as `styles/stats/index.json` and
 * one `<entry id>.bin` per style and level (the entry layout of core's style-stats-cache.ts, keyed by
 * the JPEG's SHA-256). An element with `style-stats-url="./styles/stats/"` then computes no built-in
 * style: io/style-stats-shipped.ts says why wasm-computed statistics serve every backend.
 * Computed statistics are also kept in the Node cache folder (~/.cache/livestyle), so a rebuild with
 * the same styles and model only copies them.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FileStyleStatsCache, Stylizer, fileModelSource, readImageFile } from '@livestyle/core';
import type { ModelId, StyleLevelStatistics, StyleStatsCache, StyleStatsKey } from '@livestyle/core';
import { encodeStyleStatsEntry, styleStatsEntryId } from '@livestyle/core/internal/pipeline/style-stats-cache.js';
import { shippedStyleStatsIndex } from '@livestyle/core/internal/io/style-stats-shipped.js';
import { MODEL_FAMILIES } from '@livestyle/core/internal/weights/architectures.js';
import { SURFACE_DEFAULTS } from '@livestyle/core/internal/pipeline/settings.js';

/** The model the elements use by default (camera and video element alike): the one statistics are shipped for. */
export const PRECOMPUTED_MODEL: ModelId = SURFACE_DEFAULTS.camera.model;

/** Writes the statistics of `styleFiles` (the served JPEGs) to `outDir`; returns how many entries. */
export async function writePrecomputedStyleStats(styleFiles: readonly string[], modelsDir: string, outDir: string): Promise<number> {
  const model = PRECOMPUTED_MODEL;
  const persistent = new FileStyleStatsCache();
  const entries: Array<[StyleStatsKey, StyleLevelStatistics]> = [];
  // Every entry the stylizer reads or computes is also one to ship.
  const recorder: StyleStatsCache = {
    async get(key) {
      const hit = await persistent.get(key);
      if (hit) entries.push([key, hit]);
      return hit;
    },
    async put(key, stats) {
      entries.push([key, stats]);
      await persistent.put(key, stats);
    },
  };
  const levels = [...MODEL_FAMILIES[model].levels.keys()].sort((a, b) => b - a);
  // styleMaxSizePx 0: the served JPEG as it is, so the entries serve any element style size >= its side.
  const stylizer = await Stylizer.create({
    backend: 'wasm',
    model,
    levels,
    styleMaxSizePx: 0,
    modelSource: (m) => fileModelSource(m, modelsDir),
    styleStatsCache: recorder,
  });
  try {
    for (const file of styleFiles) {
      const fileSha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
      await stylizer.setStyles([{ image: await readImageFile(file), fileSha256 }]);
    }
  } finally {
    stylizer.dispose();
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const ids: string[] = [];
  for (const [key, stats] of entries) {
    const id = await styleStatsEntryId(key);
    writeFileSync(path.join(outDir, `${id}.bin`), await encodeStyleStatsEntry(key, stats));
    ids.push(id);
  }
  writeFileSync(path.join(outDir, 'index.json'), JSON.stringify(shippedStyleStatsIndex(stylizer.backend, ids)));
  return ids.length;
}
