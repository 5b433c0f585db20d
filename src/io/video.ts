/**
 * Node-only video I/O: a folder of frames (sorted by name) or a video file decoded by ffmpeg, in;
 * a folder of PNG frames or a video file encoded by ffmpeg, out. Video files are written to a
 * temporary name and renamed when complete, so an output path never holds a half-written file.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type * as tf from '@tensorflow/tfjs-core';
import { readImageFile, writePngFile } from './node-image.js';
import { toRgbBytes, type PixelsLike } from '../pipeline/input.js';

export class VideoIoError extends Error {
  override name = 'VideoIoError';
}

/** Frame file extensions a folder may hold. */
export const FRAME_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.bmp'];
/** Files in a frame folder that are skipped rather than refused. */
export const IGNORED_EXTENSIONS = ['.txt', '.md', '.json'];
/** Video containers read and written through ffmpeg. */
export const VIDEO_EXTENSIONS = ['.mp4', '.webm', '.mov', '.mkv', '.avi'];

/** The ffmpeg executable: `$LIVESTYLE_FFMPEG`, else `ffmpeg` on the PATH. Throws a clear error if missing. */
export function findFfmpeg(tool: 'ffmpeg' | 'ffprobe' = 'ffmpeg'): string {
  const env = process.env.LIVESTYLE_FFMPEG;
  const exe = env ? (tool === 'ffmpeg' ? env : path.join(path.dirname(env), tool)) : tool;
  const probe = spawnSync(exe, ['-version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    throw new VideoIoError(
      `ffmpeg not found (${exe} did not run): video files need ffmpeg. Install it (Debian: apt-get install ffmpeg) or set LIVESTYLE_FFMPEG; a folder of frames works without it`,
    );
  }
  return exe;
}

export interface FrameSource {
  /** Frame count (for video files: from the container, may be an estimate). */
  readonly count: number;
  /** Output names, one per frame (folder input: the input names with .png; video: frame_000001.png). */
  readonly names: readonly string[];
  /** Frames per second (folders: 25 unless told). */
  readonly fps: number;
  /** Frames in order, resized so the short side is `shortSidePx` (0 = as is). */
  frames(): AsyncGenerator<PixelsLike>;
  /** Stops decoding early (kills ffmpeg). */
  close(): void;
}

export function isVideoFile(p: string): boolean {
  return VIDEO_EXTENSIONS.includes(path.extname(p).toLowerCase());
}

/** Opens a folder of frames or a video file. Checks everything it can before any frame is processed. */
export async function openFrameSource(input: string, shortSidePx: number, folderFps = 25): Promise<FrameSource> {
  if (!existsSync(input)) throw new VideoIoError(`${input}: no such file or folder`);
  if (statSync(input).isDirectory()) return openFolder(input, shortSidePx, folderFps);
  if (!isVideoFile(input)) throw new VideoIoError(`${input}: not a video file (${VIDEO_EXTENSIONS.join(', ')}) or a folder of frames`);
  return openVideoFile(input, shortSidePx);
}

async function openFolder(dir: string, shortSidePx: number, fps: number): Promise<FrameSource> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  // Notes that travel with frame folders (SOURCE.txt, README.md, meta.json) are not frames.
  const isFile = (e: (typeof entries)[number]): boolean =>
    e.isFile() || (e.isSymbolicLink() && existsSync(path.join(dir, e.name)) && statSync(path.join(dir, e.name)).isFile());
  const files = entries.filter((e) => isFile(e) && !IGNORED_EXTENSIONS.includes(path.extname(e.name).toLowerCase())).map((e) => e.name);
  const notImages = files.filter((f) => !FRAME_EXTENSIONS.includes(path.extname(f).toLowerCase()));
  if (notImages.length > 0) {
    const list = notImages.slice(0, 3).join(', ') + (notImages.length > 3 ? `, ... (${notImages.length} in all)` : '');
    throw new VideoIoError(`${dir}: holds files that are not frames (${list}); expected only ${FRAME_EXTENSIONS.join(', ')} images`);
  }
  const frames = files.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (frames.length === 0) throw new VideoIoError(`${dir}: no frames (expected ${FRAME_EXTENSIONS.join(', ')} images)`);
  let size: { w: number; h: number; name: string } | null = null;
  for (const f of frames) {
    let meta: { width?: number; height?: number; autoOrient?: { width: number; height: number } };
    try {
      meta = await sharp(path.join(dir, f)).metadata();
    } catch (e) {
      throw new VideoIoError(`${path.join(dir, f)}: unreadable image (${(e as Error).message.split('\n')[0]})`);
    }
    const w = meta.autoOrient?.width ?? meta.width ?? 0;
    const h = meta.autoOrient?.height ?? meta.height ?? 0;
    if (!size) size = { w, h, name: f };
    else if (w !== size.w || h !== size.h)
      throw new VideoIoError(`${dir}: frames differ in size (${size.name} is ${size.w}x${size.h}, ${f} is ${w}x${h})`);
  }
  const names = frames.map((f) => `${path.basename(f, path.extname(f))}.png`);
  return {
    count: frames.length,
    names,
    fps,
    async *frames() {
      for (const f of frames) yield await readImageFile(path.join(dir, f), shortSidePx);
    },
    close() {},
  };
}

interface ProbeInfo {
  width: number;
  height: number;
  fps: number;
  count: number;
}

function probeVideo(file: string): ProbeInfo {
  const ffprobe = findFfmpeg('ffprobe');
  const r = spawnSync(
    ffprobe,
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=width,height,avg_frame_rate,r_frame_rate,nb_frames,duration',
      '-of',
      'json',
      file,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new VideoIoError(`${file}: unreadable video (${(r.stderr || 'ffprobe failed').trim().split('\n')[0]})`);
  let stream: Record<string, unknown> | undefined;
  try {
    stream = (JSON.parse(r.stdout) as { streams?: Array<Record<string, unknown>> }).streams?.[0];
  } catch {
    stream = undefined;
  }
  if (!stream) throw new VideoIoError(`${file}: no video stream`);
  const rate = (s: unknown): number => {
    const [a, b] = (typeof s === 'string' ? s : '0/1').split('/').map(Number);
    return a && b ? a / b : 0;
  };
  const fps = rate(stream['avg_frame_rate']) || rate(stream['r_frame_rate']) || 25;
  const width = Number(stream['width']);
  const height = Number(stream['height']);
  let count = Number(stream['nb_frames']);
  if (!Number.isFinite(count) || count <= 0) count = Math.round(Number(stream['duration']) * fps) || 0;
  if (!(width > 0 && height > 0)) throw new VideoIoError(`${file}: video stream has no size`);
  return { width, height, fps, count };
}

/** Output size for a short side (0 = as is), rounded to even numbers for the codecs. */
function scaledSize(w: number, h: number, shortSidePx: number): [number, number] {
  if (shortSidePx <= 0) return [w, h];
  const s = shortSidePx / Math.min(w, h);
  return [Math.max(2, Math.round(w * s)), Math.max(2, Math.round(h * s))];
}

function openVideoFile(file: string, shortSidePx: number): FrameSource {
  const info = probeVideo(file);
  const ffmpeg = findFfmpeg();
  const [w, h] = scaledSize(info.width, info.height, shortSidePx);
  let child: ChildProcessWithoutNullStreams | null = null;
  const names: string[] = [];
  for (let i = 0; i < info.count; i++) names.push(`frame_${String(i + 1).padStart(6, '0')}.png`);
  return {
    count: info.count,
    names,
    fps: info.fps,
    async *frames() {
      const proc = spawn(ffmpeg, [
        '-v',
        'error',
        '-i',
        file,
        '-vf',
        `scale=${w}:${h}:flags=lanczos`,
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        'pipe:1',
      ]);
      child = proc;
      let stderr = '';
      proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
      const frameBytes = w * h * 3;
      let pending: Buffer = Buffer.alloc(0);
      let produced = 0;
      for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        while (pending.length >= frameBytes) {
          const data = new Uint8Array(pending.subarray(0, frameBytes));
          pending = pending.subarray(frameBytes);
          produced++;
          yield { width: w, height: h, data };
        }
      }
      const code = await exited;
      if (code !== 0 && code !== null && child)
        throw new VideoIoError(`${file}: decoding failed (${stderr.trim().split('\n')[0] ?? code})`);
      if (produced === 0) throw new VideoIoError(`${file}: no frames could be decoded`);
    },
    close() {
      child?.kill('SIGKILL');
      child = null;
    },
  };
}

export interface FrameSink {
  /** Writes the next frame (`[H, W, 3]` in [0, 1]; not disposed). */
  write(name: string, frame: tf.Tensor3D): Promise<void>;
  /** Completes the output (a video file appears under its name only now). */
  finish(): Promise<void>;
  /** Abandons the output: removes a partial video file (frames already in a folder stay). */
  abort(): Promise<void>;
}

/** A folder of PNG frames (created if missing), or a .webm/.mp4 file. */
export async function openFrameSink(out: string, fps: number): Promise<FrameSink> {
  if (isVideoFile(out)) {
    const ext = path.extname(out).toLowerCase();
    if (ext !== '.webm' && ext !== '.mp4') throw new VideoIoError(`--out video must be .webm or .mp4 (got ${ext})`);
    if (!existsSync(path.dirname(path.resolve(out)))) throw new VideoIoError(`--out folder ${path.dirname(out)} does not exist`);
    return videoSink(out, fps, findFfmpeg());
  }
  if (path.extname(out) !== '' && !existsSync(out)) throw new VideoIoError(`--out must be a folder, .webm or .mp4 (got ${out})`);
  await mkdir(out, { recursive: true });
  return {
    write: (name, frame) => writePngFile(path.join(out, name), frame),
    finish: async () => {},
    abort: async () => {},
  };
}

function videoSink(out: string, fps: number, ffmpeg: string): FrameSink {
  const ext = path.extname(out).toLowerCase();
  const tmp = path.join(path.dirname(out), `.${path.basename(out, ext)}.${process.pid}.tmp${ext}`);
  let proc: ChildProcessWithoutNullStreams | null = null;
  let exited: Promise<number | null> = Promise.resolve(0);
  let stderr = '';
  let size: [number, number] | null = null;
  /** Settles when the last write handed its frame to the encoder. */
  let inOrder: Promise<void> = Promise.resolve();
  let broken = false;
  const codec =
    ext === '.webm'
      ? ['-c:v', 'libvpx-vp9', '-b:v', '0', '-crf', '32', '-row-mt', '1', '-deadline', 'good', '-cpu-used', '4']
      : ['-c:v', 'libx264', '-preset', 'medium', '-crf', '20', '-movflags', '+faststart'];
  const start = (w: number, h: number): ChildProcessWithoutNullStreams => {
    // yuv420p needs even sizes: pad by one pixel where odd.
    const pad = `pad=ceil(iw/2)*2:ceil(ih/2)*2`;
    const p = spawn(ffmpeg, [
      '-v',
      'error',
      '-y',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      `${w}x${h}`,
      '-r',
      String(fps),
      '-i',
      'pipe:0',
      '-vf',
      pad,
      '-pix_fmt',
      'yuv420p',
      ...codec,
      tmp,
    ]);
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    exited = new Promise((resolve) => p.on('close', (code) => resolve(code)));
    p.stdin.on('error', () => undefined); // reported through the exit code
    return p;
  };
  return {
    async write(_name, image) {
      const [height, width] = image.shape;
      if (!size) {
        size = [width, height];
        proc = start(width, height);
      } else if (width !== size[0] || height !== size[1]) {
        throw new VideoIoError(`frame is ${width}x${height}, the video is ${size[0]}x${size[1]}`);
      }
      const p = proc;
      if (!p) throw new VideoIoError('encoder is not running');
      // Several writes may be in flight (the video command overlaps readback with the next frame):
      // the pixels are read back concurrently, but reach the encoder in call order.
      const previous = inOrder;
      let done = (): void => undefined;
      inOrder = new Promise<void>((resolve) => (done = resolve));
      try {
        const data = await toRgbBytes(image);
        await previous;
        // After a failed frame nothing more is encoded: a later frame would leave a silent gap.
        if (broken) throw new VideoIoError('an earlier frame failed; not encoding later ones');
        const ok = p.stdin.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        if (!ok) await new Promise<void>((resolve) => p.stdin.once('drain', () => resolve()));
      } catch (e) {
        broken = true;
        throw e;
      } finally {
        done();
      }
    },
    async finish() {
      if (!proc) throw new VideoIoError('no frames to encode');
      proc.stdin.end();
      const code = await exited;
      proc = null;
      if (code !== 0) {
        await rm(tmp, { force: true });
        throw new VideoIoError(`${out}: encoding failed (${stderr.trim().split('\n')[0] ?? code})`);
      }
      await rename(tmp, out);
    },
    async abort() {
      proc?.kill('SIGKILL');
      await exited.catch(() => undefined);
      proc = null;
      await rm(tmp, { force: true });
    },
  };
}
