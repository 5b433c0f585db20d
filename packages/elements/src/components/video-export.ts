/**
 * Offline export of a stylised clip: every frame of the source file is decoded (WebCodecs via
 * mediabunny), stylised in video mode and encoded into a WebM in memory. Not a real-time capture:
 * the output has exactly the source's frames and timestamps. Cancelling discards everything.
 */
import type * as Mediabunny from 'mediabunny';
import { AbortError, type Stylizer } from '@livestyle/core';
import { processingDimensions } from './stylized-view.js';
import { CanvasPresenter } from '@livestyle/core/internal/io/canvas-presenter.js';
import type { ExportProgressDetail } from './types.js';

/** Options of {@link exportStylizedWebm}. */
export interface ExportOptions {
  /** Longer side of the processing (and output) size in px. */
  readonly processingSizePx: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ExportProgressDetail) => void;
}

/** A finished export: the WebM blob and the frames written. */
export interface ExportResult {
  readonly blob: Blob;
  readonly frames: number;
}

/** Frame size of the export: the processing size, rounded to even dimensions for the encoder. */
export function exportSize(width: number, height: number, maxSidePx: number): { width: number; height: number } {
  const size = processingDimensions(width, height, maxSidePx);
  const even = (v: number): number => Math.max(2, 2 * Math.round(v / 2));
  return { width: even(size.width), height: even(size.height) };
}

/** Seconds left, from the elapsed time and the share done (null until there is a rate). */
export function estimateSecondsLeft(elapsedMs: number, done: number, total: number): number | null {
  if (done < 2 || total <= done) return done >= total ? 0 : null;
  return ((elapsedMs / done) * (total - done)) / 1000;
}

// mediabunny is loaded on the first export, never at start-up: in a page whose entry a bundler wraps
// as CommonJS (Vite 8 or esbuild with `"type": "commonjs"`, npm's default for `npm init -y`), its
// tree-shaken import cycle (ebml -> ... -> matroska-demuxer -> ebml) would run out of order and throw
// "reading 'SeekHead'". Its own chunk is not wrapped, and the ~450 kB only load when a user exports.
let mediabunny: Promise<typeof Mediabunny> | undefined;
function loadMediabunny(): Promise<typeof Mediabunny> {
  mediabunny ??= import('mediabunny').catch((e: unknown) => {
    mediabunny = undefined;
    throw e;
  });
  return mediabunny;
}

/**
 * Stylises every frame of `file` with `stylizer` (its current styles and options) into a WebM.
 * The stylizer's video state is reset before and after. Rejects with an AbortError on cancel.
 */
export async function exportStylizedWebm(file: Blob, stylizer: Stylizer, options: ExportOptions): Promise<ExportResult> {
  const {
    ALL_FORMATS,
    BlobSource,
    BufferTarget,
    CanvasSource,
    Input,
    Output,
    QUALITY_HIGH,
    VideoSampleSink,
    WebMOutputFormat,
    canEncodeVideo,
  } = await loadMediabunny();
  const input = new Input({ source: new BlobSource(file), formats: ALL_FORMATS });
  const track = await input.getPrimaryVideoTrack();
  if (!track) throw new Error('this file has no video track');
  if (!(await track.canDecode())) throw new Error(`this browser cannot decode the clip's video (${track.codec ?? 'unknown codec'})`);
  const stats = await track.computePacketStats();
  const framesTotal = stats.packetCount;
  if (framesTotal === 0) throw new Error('the clip has no frames');
  const size = exportSize(track.displayWidth, track.displayHeight, options.processingSizePx);
  const codec = (await canEncodeVideo('vp9', size)) ? 'vp9' : 'vp8';

  const frameCanvas = document.createElement('canvas');
  frameCanvas.width = size.width;
  frameCanvas.height = size.height;
  const frameContext = frameCanvas.getContext('2d');
  const outCanvas = document.createElement('canvas');
  if (!frameContext) throw new Error('no 2D canvas context');
  const presenter = new CanvasPresenter();

  const target = new BufferTarget();
  const output = new Output({ format: new WebMOutputFormat(), target });
  let source: Mediabunny.CanvasSource | null = null;
  const sink = new VideoSampleSink(track);
  const started = performance.now();
  let framesDone = 0;
  stylizer.reset();
  try {
    for await (const sample of sink.samples()) {
      const timestampS = sample.timestamp;
      const durationS = sample.duration;
      try {
        if (options.signal?.aborted) throw new AbortError('export cancelled');
        sample.draw(frameContext, 0, 0, size.width, size.height);
      } finally {
        sample.close();
      }
      const out = await stylizer.stylizeVideoFrame(frameCanvas, timestampS * 1000);
      try {
        const [h, w] = out.shape;
        if (!source) {
          // The output size is the frame size rounded to the encoder's multiple.
          outCanvas.width = w;
          outCanvas.height = h;
          source = new CanvasSource(outCanvas, { codec, bitrate: QUALITY_HIGH });
          output.addVideoTrack(source, { frameRate: Math.max(1, Math.round(stats.averagePacketRate)) });
          await output.start();
        }
        await presenter.draw(out, outCanvas);
      } finally {
        out.dispose();
      }
      await source.add(timestampS, durationS);
      framesDone++;
      options.onProgress?.({
        framesDone,
        framesTotal,
        etaSeconds: estimateSecondsLeft(performance.now() - started, framesDone, framesTotal),
      });
    }
    if (options.signal?.aborted) throw new AbortError('export cancelled');
    if (!source) throw new Error('the clip has no frames');
    await output.finalize();
  } catch (e) {
    if (output.state === 'started' || output.state === 'pending') await output.cancel();
    throw e;
  } finally {
    stylizer.reset();
    presenter.dispose();
    input.dispose();
  }
  const buffer = target.buffer;
  if (!buffer) throw new Error('the encoder produced no data');
  return { blob: new Blob([buffer], { type: 'video/webm' }), frames: framesDone };
}
