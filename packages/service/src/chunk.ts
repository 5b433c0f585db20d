/**
 * One chunk of a clip, stylised in video mode. The chunk starts `warmupFrames` before its first
 * written frame: those frames go through the stylizer and temporal smoother but are not written, so
 * the smoother's state (the previous stylised frame, warped by the flow) at the boundary is nearly
 * the one a single run over the whole clip would have; no visible restart at the seam.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Stylizer } from '@livestyle/core/internal/pipeline/stylizer.js';
import type { PixelsLike } from '@livestyle/core/internal/pipeline/input.js';
import { openFrameSource } from '@livestyle/cli/internal/io/video.js';
import type { ChunkPlan } from './plan.js';

export interface ChunkRun {
  readonly stylizer: Stylizer;
  /** The clip (video file or frame folder). */
  readonly clip: string;
  readonly fps: number;
  /** Output short side, px (0 = the clip's size). */
  readonly sizePx: number;
  readonly chunk: ChunkPlan;
  /**
   * Receives each frame to keep (global index, 0-based): `own` for the chunk's frames outside its
   * fade-in, `fadeIn` for its first `fadeInFrames`, `leadOut` for the frames past its end that the
   * next chunk fades in over, with the content frame it was made from. The frame is disposed after
   * the promise settles.
   */
  readonly onFrame: (index: number, frame: tf.Tensor3D, role: FrameRole, content: PixelsLike) => Promise<void>;
  /** Decode from this time (s) instead of the clip's start: see `FrameRange.seekS`. */
  readonly seekS?: number;
  /** Asked before every frame; true stops the chunk with `StoppedError`. */
  readonly shouldStop?: () => Promise<boolean>;
}

export type FrameRole = 'own' | 'fadeIn' | 'leadOut';

export class ChunkStoppedError extends Error {
  override name = 'ChunkStoppedError';
}

/** Stylises the chunk with a fresh temporal state; resolves with the frames kept (own, fade-in and lead-out). */
export async function stylizeChunk(run: ChunkRun): Promise<number> {
  const { chunk, stylizer } = run;
  const first = chunk.start - chunk.warmupFrames;
  const last = chunk.end + chunk.leadOutFrames;
  const source = await openFrameSource(run.clip, run.sizePx, run.fps, {
    start: first,
    end: last,
    ...(run.seekS !== undefined ? { seekS: run.seekS } : {}),
  });
  stylizer.reset();
  let written = 0;
  let index = first;
  try {
    for await (const pixels of source.frames()) {
      if (await run.shouldStop?.()) throw new ChunkStoppedError(`chunk ${chunk.index} stopped`);
      // Timestamps of the whole clip: the smoother sees the frame spacing it would in a single run.
      const frame = await stylizer.stylizeVideoFrame(pixels, (index * 1000) / run.fps);
      try {
        if (index >= chunk.start) {
          const role: FrameRole = index >= chunk.end ? 'leadOut' : index < chunk.start + chunk.fadeInFrames ? 'fadeIn' : 'own';
          await run.onFrame(index, frame, role, pixels);
          written++;
        }
      } finally {
        frame.dispose();
      }
      index++;
      // Lets timers run between frames (WASM work holds the event loop): BullMQ renews its lock.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    source.close();
  }
  if (written !== last - chunk.start) throw new Error(`chunk ${chunk.index}: wrote ${written} of ${last - chunk.start} frames`);
  return written;
}
