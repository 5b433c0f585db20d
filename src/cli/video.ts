/**
 * `livestyle video`: stylises a clip (a video file or a folder of frames) frame by frame in video
 * mode, with optical-flow temporal smoothing unless `--no-temporal`. Writes a folder of PNG frames
 * (the input's names) or a .webm/.mp4 file. Ctrl-C stops after the current frame: frames already
 * written stay, a video file is completed with the frames so far, nothing is left half-written.
 */
import { Stylizer, readImageFile } from '../node.js';
import { openFrameSink, openFrameSource, type FrameSink, type FrameSource } from '../io/video.js';
import { createIterationProgress } from './progress.js';
import { stylisationOptions, type StyleArg, type StylisationFlags } from './args.js';

export interface VideoFlags extends StylisationFlags {
  style: StyleArg[];
  temporal: boolean;
  strength: number;
  flowSize: number;
  size: number;
  fps: number;
  out?: string;
  quiet: boolean;
}

export async function videoCommand(input: string, flags: VideoFlags, usage: (msg: string) => Error): Promise<void> {
  if (flags.style.length === 0) throw usage('at least one --style <file>[@weight] is required');
  if (!flags.out) throw usage('--out <dir|file.webm|file.mp4> is required');
  const source: FrameSource = await openFrameSource(input, flags.size, flags.fps);
  const styles = [];
  for (const s of flags.style) styles.push({ image: await readImageFile(s.file), weight: s.weight });
  const stylizer = await Stylizer.create({
    ...stylisationOptions(flags),
    temporalStrength: flags.temporal ? flags.strength : 0,
    flowMaxSidePx: flags.flowSize,
  });
  let sink: FrameSink | null = null;
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  const progress = createIterationProgress(source.count, flags.quiet, 10);
  let written = 0;
  try {
    await stylizer.setStyles(styles);
    sink = await openFrameSink(flags.out, source.fps);
    const t0 = performance.now();
    for await (const pixels of source.frames()) {
      if (interrupted) break;
      const out = await stylizer.stylizeVideoFrame(pixels, (written * 1000) / source.fps);
      try {
        await sink.write(source.names[written] ?? `frame_${String(written + 1).padStart(6, '0')}.png`, out);
      } finally {
        out.dispose();
      }
      written++;
      const fps = written / ((performance.now() - t0) / 1000);
      progress.update(Math.min(written, source.count), `${fps.toFixed(2)} frames/s`);
      // Let a pending SIGINT run between frames (WASM work otherwise starves the event loop).
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    source.close();
    if (written === 0) throw new Error(`${input}: no frames were stylised`);
    await sink.finish();
    progress.stop();
    if (!flags.quiet)
      process.stderr.write(`wrote ${written} frame${written === 1 ? '' : 's'} to ${flags.out}${interrupted ? ' (interrupted)' : ''}\n`);
  } catch (e) {
    progress.stop();
    source.close();
    await sink?.abort();
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    stylizer.dispose();
  }
  if (interrupted) process.exit(130);
}
