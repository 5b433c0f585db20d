/**
 * Splitting a clip into chunks: scene cuts found by ffmpeg's scene score, boundaries placed at a cut
 * near each nominal boundary, else every `chunkFrames` frames.
 */
import { spawn } from 'node:child_process';
import { findFfmpeg, VideoIoError } from '@livestyle/cli/internal/io/video.js';
import type { ChunkingSettings } from './config.js';

/**
 * One chunk: frames `start`..`end - 1` are its own; `warmupFrames` before `start` are run, not
 * written. Its first `fadeInFrames` frames are cross-faded with the previous chunk's
 * `leadOutFrames` (the previous chunk runs on past its end for them): a temporal smoother's state
 * converges slowly (about 0.95 per frame on still footage), so a chunk started cold a few frames
 * early still differs from a single run at its first frame; the fade spreads that difference over
 * many frames instead of a visible jump.
 */
export interface ChunkPlan {
  readonly index: number;
  readonly start: number;
  readonly end: number;
  readonly warmupFrames: number;
  readonly fadeInFrames: number;
  readonly leadOutFrames: number;
}

/** Weight of the incoming chunk at the `j`-th (0-based) of `frames` cross-faded frames. */
export const fadeWeight = (j: number, frames: number): number => (j + 1) / (frames + 1);

/**
 * Chunks covering frames 0..frameCount-1. `cuts` are frame indices that start a new scene. A boundary
 * moves to the cut nearest its nominal place within half a chunk (a chunk that starts at a cut
 * needs no warm-up: the smoother restarts there anyway); a last chunk shorter than half a chunk is
 * merged into the one before.
 */
export function planChunks(frameCount: number, cuts: readonly number[], settings: ChunkingSettings): ChunkPlan[] {
  if (!(Number.isInteger(frameCount) && frameCount > 0)) throw new Error(`frame count ${frameCount} is not a positive integer`);
  const n = Math.max(1, Math.floor(settings.chunkFrames));
  const half = Math.floor(n / 2);
  const cutSet = new Set(cuts);
  const starts: number[] = [0];
  let start = 0;
  for (;;) {
    const nominal = start + n;
    if (nominal >= frameCount) break;
    let best = -1;
    for (const c of cuts) {
      if (c <= start + Math.max(1, half) - 1 || c > nominal + half || c >= frameCount) continue;
      if (best < 0 || Math.abs(c - nominal) < Math.abs(best - nominal)) best = c;
    }
    const next = best >= 0 ? best : nominal;
    // A short tail joins the chunk before unless a cut starts it.
    if (frameCount - next < half && !cutSet.has(next)) break;
    starts.push(next);
    start = next;
  }
  const ends = starts.map((_, i) => starts[i + 1] ?? frameCount);
  // No fade into the first chunk or one that starts a scene (the smoother restarts there anyway).
  const fadeIn = starts.map((s, i) => (s === 0 || cutSet.has(s) ? 0 : Math.min(settings.fadeFrames, ends[i]! - s)));
  return starts.map((s, index) => ({
    index,
    start: s,
    end: ends[index]!,
    warmupFrames: s === 0 || cutSet.has(s) ? 0 : Math.min(settings.warmupFrames, s),
    fadeInFrames: fadeIn[index]!,
    leadOutFrames: fadeIn[index + 1] ?? 0,
  }));
}

/** A clip's exact decoded frame count and the frames that start a new scene (score above `threshold`). */
export interface SceneScan {
  readonly frameCount: number;
  readonly cuts: number[];
  /** Each frame's presentation time, s (for seeking to a chunk's first frame). */
  readonly ptsS: number[];
}

/**
 * Decodes the clip once, small, and reads ffmpeg's scene score of every frame
 * (ref: ffmpeg filters, `select` "scene" variable). Also gives the exact frame count, which a
 * container's header may only estimate.
 */
export async function scanScenes(file: string, threshold: number, signal?: AbortSignal): Promise<SceneScan> {
  const ffmpeg = findFfmpeg();
  const proc = spawn(
    ffmpeg,
    ['-v', 'error', '-i', file, '-an', '-vf', "scale=160:-2,select='gte(scene,0)',metadata=print:file=-", '-f', 'null', '-'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // A job deleted during its scan stops the scan's ffmpeg at once.
  const onAbort = (): void => void proc.kill('SIGKILL');
  signal?.addEventListener('abort', onAbort, { once: true });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('close', (code, sig) => resolve({ code, signal: sig })),
  );
  signal?.removeEventListener('abort', onAbort);
  if (signal?.aborted) throw new VideoIoError(`${file}: scene scan stopped`);
  if (exit.code !== 0)
    throw new VideoIoError(`${file}: scene scan failed (${err.trim().split('\n')[0] || `exit ${exit.code ?? exit.signal}`})`);
  let frameCount = 0;
  const cuts: number[] = [];
  const ptsS: number[] = [];
  let frame = -1;
  for (const line of out.split('\n')) {
    const f = /^frame:(\d+)\s+pts:\S+\s+pts_time:(\S+)/.exec(line);
    if (f) {
      frame = Number(f[1]);
      ptsS[frame] = Number(f[2]);
      frameCount = Math.max(frameCount, frame + 1);
      continue;
    }
    const s = /lavfi\.scene_score=([0-9.eE+-]+)/.exec(line);
    if (s && frame > 0 && Number(s[1]) > threshold) cuts.push(frame);
  }
  if (frameCount === 0) throw new VideoIoError(`${file}: no frames could be decoded`);
  return { frameCount, cuts, ptsS };
}
