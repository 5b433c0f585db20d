/**
 * Chunked stylisation (the job service's workers) must not show its seams: with the warm-up frames
 * and the cross-fade, the warping error (Lai et al. 2018, flow on the input frames) of every frame
 * pair across a chunk boundary stays within 1.2x that of a single run over the whole clip, on every
 * shared clip split into 3+ chunks, and the frames equal the single run's within 0.03 (mean abs RGB)
 * outside the fades (exactly in the first chunk).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Stylizer } from '../../packages/core/src/pipeline/stylizer.js';
import { readImageFile } from '../../packages/core/src/io/node-image.js';
import { toImageBatch } from '../../packages/core/src/pipeline/input.js';
import { openFrameSource } from '../../packages/cli/src/io/video.js';
import { pairWarpingError } from '../../packages/core/src/metrics/warping-error.js';
import { stylizeChunk } from '../../packages/service/src/chunk.js';
import { fadeWeight, planChunks, scanScenes, type ChunkPlan } from '../../packages/service/src/plan.js';
import { DEFAULT_CHUNKING } from '../../packages/service/src/config.js';
import { seekTime } from '../../packages/service/src/worker.js';
import { SHARED } from '../helpers.js';

const VIDEO = path.join(SHARED, 'data', 'video');
const CLIPS = [
  path.join(VIDEO, 'adain_cutbunny', 'cutBunny.mp4'),
  path.join(VIDEO, 'sam2_bedroom', 'bedroom.mp4'),
  path.join(VIDEO, 'sintel_ambush_4_clean'),
  path.join(VIDEO, 'sintel_mountain_2'),
  path.join(VIDEO, 'sintel_raft_demo'),
];
const SIZE_PX = 64;
/** Long enough for chunks longer than the warm-up and fade (3 x 32 frames) where the clip allows. */
const FRAMES = 96;

let stylizer: Stylizer;

beforeAll(async () => {
  stylizer = await Stylizer.create({ preset: 'realtime', backend: 'wasm', temporalStrength: 0.9 });
  await stylizer.setStyles([{ image: await readImageFile(path.join(SHARED, 'data', 'style', 'la_muse.jpg'), { maxSidePx: 256 }) }]);
});

afterAll(() => stylizer?.dispose());

/**
 * Stylises `chunks` of `clip` one after another (as separate workers would) and assembles them as
 * the stitch step does: own frames as they are, fade-in frames mixed with the previous chunk's
 * lead-out by `fadeWeight`.
 */
async function run(clip: string, fps: number, chunks: readonly ChunkPlan[]): Promise<tf.Tensor3D[]> {
  const out: tf.Tensor3D[] = [];
  const leadOut = new Map<number, tf.Tensor3D>();
  for (const chunk of chunks)
    await stylizeChunk({
      stylizer,
      clip,
      fps,
      sizePx: SIZE_PX,
      chunk,
      onFrame: async (index, frame, role) => {
        if (role === 'leadOut') leadOut.set(index, tf.clone(frame));
        else if (role === 'own') out[index] = tf.clone(frame);
        else {
          const previous = leadOut.get(index)!;
          const w = fadeWeight(index - chunk.start, chunk.fadeInFrames);
          out[index] = tf.tidy(() => tf.add(tf.mul(previous, 1 - w), tf.mul(frame, w)));
          previous.dispose();
          leadOut.delete(index);
        }
        await Promise.resolve();
      },
    });
  expect(leadOut.size).toBe(0);
  return out;
}

describe('chunk boundaries', () => {
  it.each(CLIPS.map((c) => [path.basename(c), c]))('%s: no seam at the chunk boundaries (warm-up and cross-fade)', async (_name, clip) => {
    const probe = await openFrameSource(clip, SIZE_PX);
    probe.close();
    const n = Math.min(FRAMES, probe.count);
    const chunks = planChunks(n, [], { ...DEFAULT_CHUNKING, chunkFrames: Math.floor(n / 3) });
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    const chunked = await run(clip, probe.fps, chunks);
    const single = await run(clip, probe.fps, [{ index: 0, start: 0, end: n, warmupFrames: 0, fadeInFrames: 0, leadOutFrames: 0 }]);
    // The stylizer rounds the size to its networks' stride: the inputs are resized to the outputs'.
    const [h, w] = chunked[0]!.shape;
    const inputs: tf.Tensor4D[] = [];
    const source = await openFrameSource(clip, SIZE_PX, probe.fps, { start: 0, end: n });
    for await (const f of source.frames())
      inputs.push(
        tf.tidy(() => {
          const x = toImageBatch(f);
          return x.shape[1] === h && x.shape[2] === w ? x : tf.image.resizeBilinear(x, [h, w], true);
        }),
      );
    const pairErrors = async (frames: tf.Tensor3D[]): Promise<number[]> => {
      const errors: number[] = [];
      for (let t = 0; t + 1 < n; t++) {
        const [a, b] = [tf.expandDims<tf.Tensor4D>(frames[t]!), tf.expandDims<tf.Tensor4D>(frames[t + 1]!)];
        errors.push((await pairWarpingError(inputs[t]!, inputs[t + 1]!, a, b)).error);
        tf.dispose([a, b]);
      }
      return errors;
    };
    const errors = await pairErrors(chunked);
    const singleErrors = await pairErrors(single);
    // Pairs across a boundary: from (start-1, start) through the end of the fade.
    const zone = (t: number): boolean => chunks.some((c) => c.start > 0 && t >= c.start - 1 && t < c.start + c.fadeInFrames);
    const mean = (xs: number[]): number => xs.reduce((s, e) => s + e, 0) / xs.length;
    const zonePairs = errors.map((_, t) => t).filter(zone);
    // The measure: each boundary pair against the mean of the pairs inside the chunks. The
    // single run gives the same measure at the same pairs: motion varies along a clip, so a pair can
    // be well above the clip's mean with no seam at all (docs/service.md).
    const insideMean = mean(errors.filter((_, t) => !zone(t)));
    const singleInsideMean = mean(singleErrors.filter((_, t) => !zone(t)));
    const ratios = zonePairs.map((t) => errors[t]! / insideMean);
    const singleRatios = zonePairs.map((t) => singleErrors[t]! / singleInsideMean);
    // What the seam adds: each boundary pair against the same pair of the single run.
    const added = zonePairs.map((t) => errors[t]! / singleErrors[t]!);
    // Per frame: mean |chunked - single| (RGB in [0, 1]).
    const diffs = chunked.map((f, t) => tf.tidy(() => tf.mean(tf.abs(tf.sub(f, single[t]!))).dataSync()[0]!));
    const afterFades = diffs.filter((_, t) => !chunks.some((c) => c.start > 0 && t >= c.start && t < c.start + c.fadeInFrames));
    console.log(
      `${path.basename(clip)}: ${n} frames, ${chunks.length} chunks, ${zonePairs.length} boundary pairs; boundary/inside warping error ` +
        `max ${Math.max(...ratios).toFixed(3)} (single run at the same pairs: ${Math.max(...singleRatios).toFixed(3)}); ` +
        `chunked/single at the boundary pairs max ${Math.max(...added).toFixed(3)}; ` +
        `|chunked - single| per frame max ${Math.max(...diffs).toFixed(4)}, outside the fades ${Math.max(...afterFades).toFixed(4)}`,
    );
    for (const [i, t] of zonePairs.entries()) {
      expect(added[i], `pair ${t}`).toBeLessThanOrEqual(1.2);
      expect(ratios[i]! / singleRatios[i]!, `pair ${t}`).toBeLessThanOrEqual(1.2);
    }
    // The first chunk is the single run's start: identical.
    for (let t = 0; t < chunks[0]!.end; t++) expect(diffs[t]).toBe(0);
    expect(Math.max(...afterFades)).toBeLessThan(0.03);
    tf.dispose([...inputs, ...chunked, ...single]);
  });
});

describe('scene cuts', () => {
  it('scanScenes finds the cut in a clip joined from two shots (the second negated), with the exact frame count; planChunks starts a chunk there', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'livestyle-scenes-'));
    try {
      const joined = path.join(dir, 'joined.mp4');
      const r = spawnSync(
        'ffmpeg',
        [
          ...['-v', 'error', '-y', '-i', CLIPS[0]!, '-vf', "trim=end_frame=45,scale=128:72,setsar=1,negate=enable='gte(n\\,20)'"],
          ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', joined],
        ],
        { encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
      const scan = await scanScenes(joined, DEFAULT_CHUNKING.sceneThreshold);
      expect([scan.frameCount, scan.cuts, scan.ptsS.length]).toEqual([45, [20], 45]);
      expect(scan.ptsS[1]).toBeCloseTo(1 / 24, 5);
      const chunks = planChunks(scan.frameCount, scan.cuts, { ...DEFAULT_CHUNKING, chunkFrames: 18 });
      expect(chunks.map((c) => [c.start, c.end, c.warmupFrames, c.fadeInFrames])).toEqual([
        [0, 20, 0, 0],
        [20, 45, 0, 0],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('frame ranges', () => {
  it.each([
    [CLIPS[0]!, 100],
    [CLIPS[1]!, 151],
  ])('%s, frame %i: frames from a seek (at the scanned timestamps) equal the same frames decoded from the start', async (clip, start) => {
    const scan = await scanScenes(clip, DEFAULT_CHUNKING.sceneThreshold);
    const seekS = seekTime(scan.ptsS, start);
    expect(seekS).toBeGreaterThan(0);
    const read = async (range: { start: number; end: number; seekS?: number }): Promise<Uint8Array[]> => {
      const source = await openFrameSource(clip, 64, 25, range);
      const frames: Uint8Array[] = [];
      for await (const f of source.frames()) frames.push(new Uint8Array(f.data as Uint8Array));
      return frames;
    };
    const fromStart = await read({ start, end: start + 4 });
    const fromSeek = await read({ start, end: start + 4, seekS: seekS! });
    expect(fromSeek).toHaveLength(4);
    for (const [i, f] of fromSeek.entries())
      expect(Buffer.compare(Buffer.from(f), Buffer.from(fromStart[i]!)), `frame ${start + i}`).toBe(0);
    // One frame earlier differs: the seek is not off by one.
    const before = await read({ start: start - 1, end: start });
    expect(Buffer.compare(Buffer.from(before[0]!), Buffer.from(fromSeek[0]!))).not.toBe(0);
  });
});
