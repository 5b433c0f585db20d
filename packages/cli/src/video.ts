/**
 * `livestyle video`: stylises a clip (a video file or a folder of frames) frame by frame in video
 * mode, with optical-flow temporal smoothing unless `--no-temporal`. Writes a folder of PNG frames
 * (the input's names) or a .webm/.mp4 file. Ctrl-C or SIGTERM stops after the current frame (exit 130
 * or 143): frames already written stay, a video file is completed with the frames so far, nothing is
 * left half-written.
 */
import { Stylizer } from '@livestyle/core/internal/pipeline/stylizer.js';
import { waitForNodeWebGpuLoss } from '@livestyle/core/internal/backend/node-webgpu.js';
import { type PixelsLike } from '@livestyle/core/internal/pipeline/input.js';
import {
  VideoIoError,
  checkFrameSinkTarget,
  isVideoFile,
  openFrameSink,
  openFrameSource,
  type FrameSink,
  type FrameSource,
} from './io/video.js';
import { checkWritableFolder, clobberedInput } from './io/paths.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createIterationProgress } from './progress.js';
import {
  checkStyleWeights,
  modelDescription,
  readStyleImages,
  withStyleFile,
  stylisationOptions,
  type StyleArg,
  type StylisationFlags,
} from './args.js';
import { announceBackend } from './backend.js';
import { listenForInterrupt } from './interrupt.js';
import { checkStylised } from './output-check.js';
import { styleStatsCacheFor } from './style-cache.js';

/** The GPU went away mid-clip; the frames done before it are complete on disk. */
class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

/** Decoded frames read ahead of the stylizer, and encoded frames in flight behind it. */
const READ_AHEAD_FRAMES = 3;
const WRITES_IN_FLIGHT = 2;

/**
 * Pulls up to `depth` items ahead from `source`, so a decoder (ffmpeg, blocked on a full pipe
 * otherwise) works while the consumer computes. Errors surface at the item where they happened.
 */
export async function* readAhead<T>(source: AsyncIterable<T>, depth: number): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const queue: Array<Promise<IteratorResult<T>>> = [];
  let done = false;
  const pull = (): void => {
    while (!done && queue.length < depth) {
      const next = it.next();
      queue.push(next);
      // Stop pulling at the end; a rejection is rethrown when its turn comes.
      next.then(
        (r) => {
          if (r.done) done = true;
        },
        () => {
          done = true;
        },
      );
    }
  };
  try {
    pull();
    while (queue.length > 0) {
      const r = await (queue.shift() as Promise<IteratorResult<T>>);
      if (r.done) return;
      pull();
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}

export interface VideoFlags extends StylisationFlags {
  style: StyleArg[];
  temporal: boolean;
  strength: number;
  /** Unset: the preset's cap. */
  flowSize?: number;
  size: number;
  fps: number;
  out?: string;
  quiet: boolean;
}

export async function videoCommand(input: string, flags: VideoFlags, usage: (msg: string) => Error): Promise<void> {
  if (flags.style.length === 0) throw usage('at least one --style <file>[@weight] is required');
  if (!flags.out) throw usage('--out <dir|file.webm|file.mp4> is required');
  // Argument mistakes are refused before anything loads (exit 2), as `stylize` does.
  try {
    checkFrameSinkTarget(flags.out);
  } catch (e) {
    throw e instanceof VideoIoError ? usage(e.message) : e;
  }
  // The folder that will hold the output (for a frame folder not yet made: its parent) must be writable.
  const holder = isVideoFile(flags.out) || !existsSync(flags.out) ? path.dirname(path.resolve(flags.out)) : flags.out;
  if (existsSync(holder)) checkWritableFolder(holder, usage);
  const clobbered = clobberedInput(flags.out, [input, ...flags.style.map((s) => s.file)]);
  if (clobbered !== undefined) throw usage(`--out ${flags.out} is the input ${clobbered}: refusing to overwrite it; choose another --out`);
  checkStyleWeights(flags.style, usage);
  const source: FrameSource = await openFrameSource(input, flags.size, flags.fps);
  const styles = await readStyleImages(flags.style, flags.styleSize);
  const stylizer = await Stylizer.create({ ...stylisationOptions(flags, 'cli-video'), styleStatsCache: styleStatsCacheFor(flags) });
  let sink: FrameSink | null = null;
  let interrupted = false;
  // Ctrl-C or SIGTERM: stop after the frame in progress. Closing the source also ends a wait on a
  // decoder that has stopped sending frames.
  const interrupt = listenForInterrupt(() => {
    interrupted = true;
    source.close();
  });
  const progress = createIterationProgress(source.count, flags.quiet, 10);
  announceBackend(stylizer.backend, flags.quiet);
  let written = 0;
  let issued = 0;
  let writeFailed = false;
  // Writes run behind the stylizer: frame i is read back and encoded while frame i+1 is computed.
  const writes: Array<Promise<void>> = [];
  const t0 = performance.now();
  const settleOldest = async (): Promise<void> => {
    await writes.shift();
    written++;
    const fps = written / ((performance.now() - t0) / 1000);
    progress.update(Math.min(written, source.count), `${fps.toFixed(2)} frames/s`);
  };
  try {
    await stylizer.setStyles(styles).catch((e: unknown) => {
      throw withStyleFile(
        e,
        flags.style.map((s) => s.file),
      );
    });
    // A video output keeps the input clip's audio (a folder of frames has none).
    const out = await openFrameSink(flags.out, source.fps, isVideoFile(input) ? { file: input, frames: source.count } : undefined);
    sink = out;
    try {
      for await (const pixels of readAhead<PixelsLike>(source.frames(), READ_AHEAD_FRAMES)) {
        if (interrupted) break;
        const frame = await stylizer.stylizeVideoFrame(pixels, (issued * 1000) / source.fps);
        const name = source.names[issued] ?? `frame_${String(issued + 1).padStart(6, '0')}.png`;
        issued++;
        const write = checkStylised(frame, pixels, modelDescription(flags.model, []))
          .then(() => out.write(name, frame))
          .finally(() => frame.dispose());
        write.catch(() => (writeFailed = true)); // also: never an unhandled rejection (awaited in order below)
        writes.push(write);
        while (writes.length >= WRITES_IN_FLIGHT) await settleOldest();
        // Let a pending SIGINT run between frames (WASM work otherwise starves the event loop).
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      while (writes.length > 0) await settleOldest();
    } catch (e) {
      // A lost GPU device ends the run like an interrupt: the frames already done are kept.
      const lost = stylizer.backend === 'webgpu' ? await waitForNodeWebGpuLoss() : null;
      if (!lost) throw e;
      // Frames whose write completed before the first failed one are in the output.
      const failedBefore = writeFailed;
      for (const r of await Promise.allSettled(writes.splice(0))) {
        if (failedBefore || r.status === 'rejected') break;
        written++;
      }
      source.close();
      if (written === 0) throw new Error(`the GPU device was lost before any frame was written (${lost})`);
      await out.finish();
      progress.stop();
      throw new DeviceLostError(`the GPU device was lost after ${written} frames (${lost}); wrote those ${written} frames to ${flags.out}`);
    }
    source.close();
    if (written === 0) throw new Error(`${input}: no frames were stylised`);
    await out.finish();
    progress.stop();
    if (!flags.quiet)
      process.stderr.write(`wrote ${written} frame${written === 1 ? '' : 's'} to ${flags.out}${interrupted ? ' (interrupted)' : ''}\n`);
  } catch (e) {
    progress.stop();
    source.close();
    await Promise.allSettled(writes.splice(0));
    if (!(e instanceof DeviceLostError)) await sink?.abort();
    throw e;
  } finally {
    interrupt.dispose();
    stylizer.dispose();
  }
  if (interrupt.exitCode !== null) process.exit(interrupt.exitCode);
}
