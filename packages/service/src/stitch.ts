/**
 * Stitching a job's chunks: the cross-fades at chunk boundaries (plan.ts, ChunkPlan), then one
 * encode. Idempotent: a frame already faded is left as is, so a stitch retried after a crash does
 * not fade twice.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { writeRgbPngFile } from '@livestyle/core/internal/io/node-image.js';
import { videoFrameName } from '@livestyle/cli/internal/io/video.js';
import { fadeWeight } from './plan.js';

/** The incoming chunk's version of a cross-faded frame. */
export const fadeInName = (index: number): string => `in_${videoFrameName(index)}`;
/** The outgoing chunk's version of a cross-faded frame. */
export const leadOutName = (index: number): string => `out_${videoFrameName(index)}`;

/** Frames `start`..`start + frames - 1` are cross-faded from the previous chunk into the next. */
export interface Fade {
  readonly start: number;
  readonly frames: number;
}

async function readRgb(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Writes each faded frame `frame_N.png` from `in_N.png` and `out_N.png` in `dir`. */
export async function crossFade(dir: string, fades: readonly Fade[]): Promise<void> {
  for (const fade of fades) {
    for (let j = 0; j < fade.frames; j++) {
      const index = fade.start + j;
      const target = path.join(dir, videoFrameName(index));
      if (existsSync(target)) continue;
      const [incoming, outgoing] = await Promise.all([
        readRgb(path.join(dir, fadeInName(index))),
        readRgb(path.join(dir, leadOutName(index))),
      ]);
      if (incoming.width !== outgoing.width || incoming.height !== outgoing.height)
        throw new Error(`frame ${index}: the chunks' versions differ in size`);
      const w = fadeWeight(j, fade.frames);
      const mixed = Buffer.alloc(incoming.data.length);
      for (let i = 0; i < mixed.length; i++) mixed[i] = Math.round((1 - w) * outgoing.data[i]! + w * incoming.data[i]!);
      await writeRgbPngFile(target, mixed, incoming.width, incoming.height, 1);
      await rm(path.join(dir, fadeInName(index)), { force: true });
      await rm(path.join(dir, leadOutName(index)), { force: true });
    }
  }
}
