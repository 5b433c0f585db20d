/**
 * Tiled stylisation of large stills: the cascade runs tile by tile, so the memory held at once is
 * bounded by the tile size (plus its halo), not by the image.
 *
 * ref: Wang et al., "Collaborative Distillation for Ultra-Resolution Universal Style Transfer",
 * CVPR 2020 (the distilled models this project uses are made for ultra-resolution images).
 *
 * Per level, two passes over the tiles: (1) encode each tile with a halo and accumulate the channel
 * moments of its core over the whole image (float64); (2) encode again, transform with the one
 * whole-image statistic, decode, and keep the core. The transform therefore sees the same
 * statistics as an untiled run; what differs is only how far a tile's encoder and decoder see past
 * its core. The halo covers most of their receptive field (it grows with the level's pooling), so
 * seams stay below what 8-bit output shows (measured in test/tiles.test.ts). Encoding twice costs one
 * extra encoder pass per level; keeping every tile's features instead would hold the whole image's
 * features again, which is what tiling avoids.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runNetwork } from '../nets/network.js';
import { MomentAccumulator } from '../transforms/moments.js';
import { applyWctMatrix, wctMatrix, type WctStyleStats } from '../transforms/wct.js';
import { adainStatsFromMoments, adainWithContentStats, type AdaInStyleStats } from '../transforms/adain.js';
import type { LevelNets } from '../weights/model-loader.js';

export interface TileRect {
  readonly y0: number;
  readonly y1: number;
  readonly x0: number;
  readonly x1: number;
}

/** Halo (px) around a tile at a level: 8 px per unit of the level's pooling factor (level 5: 128). */
export function haloPx(level: number): number {
  return 8 * 2 ** (level - 1);
}

/**
 * Cores of side at most `tilePx` covering an `h` x `w` image (both multiples of `align`), every edge
 * on a multiple of `align` so pooling in a tile matches pooling in the whole image.
 */
export function tileGrid(h: number, w: number, tilePx: number, align: number): TileRect[] {
  if (h % align !== 0 || w % align !== 0) throw new Error(`tileGrid: ${w}x${h} is not a multiple of ${align}`);
  const step = Math.max(align, Math.floor(tilePx / align) * align);
  const rects: TileRect[] = [];
  for (let y0 = 0; y0 < h; y0 += step)
    for (let x0 = 0; x0 < w; x0 += step) rects.push({ y0, y1: Math.min(h, y0 + step), x0, x1: Math.min(w, x0 + step) });
  return rects;
}

/** The tile grown by `halo` on every side, clipped to the image (where the networks reflect-pad as in a whole run). */
export function withHalo(r: TileRect, halo: number, h: number, w: number): TileRect {
  return { y0: Math.max(0, r.y0 - halo), y1: Math.min(h, r.y1 + halo), x0: Math.max(0, r.x0 - halo), x1: Math.min(w, r.x1 + halo) };
}

export interface TiledLevel {
  readonly level: number;
  readonly nets: LevelNets;
  /** Runs the encoder and decoder (the stylizer's `precision`); default the float32 `runNetwork`. */
  readonly network?: typeof runNetwork;
  readonly method: 'wct' | 'adain';
  /** Blended style statistics of this level. */
  readonly wct: WctStyleStats;
  readonly adain: AdaInStyleStats;
  readonly alpha: number;
}

/**
 * One cascade level over `image` (`[1, H, W, 3]`, H and W multiples of `align`; not disposed), tile
 * by tile.
 * @returns the decoded image, same size. Caller owns; dispose.
 */
export async function stylizeLevelTiled(image: tf.Tensor4D, level: TiledLevel, tilePx: number, align: number): Promise<tf.Tensor4D> {
  const [, h, w] = image.shape;
  const factor = 2 ** (level.level - 1);
  const tiles = tileGrid(h, w, tilePx, align);
  const halo = haloPx(level.level);
  const encodeCore = (r: TileRect): { features: tf.Tensor4D; outer: TileRect } => {
    const outer = withHalo(r, halo, h, w);
    const features = tf.tidy(() => {
      const crop = tf.slice(image, [0, outer.y0, outer.x0, 0], [1, outer.y1 - outer.y0, outer.x1 - outer.x0, 3]);
      return (level.network ?? runNetwork)(crop, level.nets.encoderLayers, level.nets.encoderWeights);
    });
    return { features, outer };
  };
  // Pass 1: whole-image channel moments from the tiles' cores.
  const accumulator = new MomentAccumulator();
  for (const r of tiles) {
    const { features, outer } = encodeCore(r);
    const core = tf.slice(
      features,
      [0, (r.y0 - outer.y0) / factor, (r.x0 - outer.x0) / factor, 0],
      [1, (r.y1 - r.y0) / factor, (r.x1 - r.x0) / factor, -1],
    );
    try {
      await accumulator.add(core);
    } finally {
      tf.dispose([features, core]);
    }
  }
  const moments = accumulator.moments();
  // Pass 2: transform with those moments, decode, keep the cores (assembled row by row).
  // The transform's content side, computed once for all tiles.
  const t = level.method === 'wct' ? wctMatrix(moments, level.wct) : null;
  const contentAdain = t ? null : adainStatsFromMoments(moments);
  const rows: tf.Tensor4D[] = [];
  let row: tf.Tensor4D[] = [];
  let result: tf.Tensor4D | null = null;
  try {
    for (const r of tiles) {
      const { features, outer } = encodeCore(r);
      const decodedCore = tf.tidy(() => {
        let transformed: tf.Tensor4D;
        if (t) {
          transformed = applyWctMatrix(features, t, moments.mean, level.wct.mean, level.alpha);
        } else {
          const c = contentAdain as AdaInStyleStats;
          transformed = adainWithContentStats(
            features,
            tf.tensor1d(Float32Array.from(c.mean)),
            tf.tensor1d(Float32Array.from(c.std)),
            level.adain,
            level.alpha,
          );
        }
        const decoded = (level.network ?? runNetwork)(transformed, level.nets.decoderLayers, level.nets.decoderWeights);
        return tf.slice(decoded, [0, r.y0 - outer.y0, r.x0 - outer.x0, 0], [1, r.y1 - r.y0, r.x1 - r.x0, 3]);
      });
      features.dispose();
      row.push(decodedCore);
      if (r.x1 === w) {
        rows.push(row.length === 1 ? (row[0] as tf.Tensor4D) : tf.concat(row, 2));
        if (row.length > 1) tf.dispose(row);
        row = [];
      }
    }
    result = rows.length === 1 ? (rows[0] as tf.Tensor4D) : tf.concat(rows, 1);
    return result;
  } finally {
    tf.dispose(row);
    tf.dispose(rows.filter((r) => r !== result));
  }
}
