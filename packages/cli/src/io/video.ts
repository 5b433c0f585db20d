/**
 * Node-only video I/O: a folder of frames (sorted by name) or a video file decoded by ffmpeg, in;
 * a folder of PNG frames or a video file encoded by ffmpeg, out. Video files are written to a
 * temporary name and renamed when complete, so an output path never holds a half-written file.
 */
import { execFile, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type * as tf from '@tensorflow/tfjs-core';
import { readImageFile, writePngFile } from '@livestyle/core/internal/io/node-image.js';
import { toRgbBytes, type PixelsLike } from '@livestyle/core/internal/pipeline/input.js';
import { sweepStaleTemporaries } from '@livestyle/core/internal/io/atomic-file.js';

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

/** Frames `start` (0-based) up to but not including `end`. */
export interface FrameRange {
  readonly start: number;
  readonly end: number;
  /**
   * Video files: a time (s) between the presentation times of frames `start - 1` and `start`.
   * Decoding then starts there (ffmpeg's accurate input seek: from the key frame before, frames
   * before the time dropped) instead of at frame 0, so a late range costs no more than an early one.
   */
  readonly seekS?: number;
}

/**
 * Opens a folder of frames or a video file. Checks everything it can before any frame is processed.
 * With `range`, only those frames are produced (`count` and `names` describe the range); a clip that
 * ends before the range does is an error.
 */
export async function openFrameSource(input: string, shortSidePx: number, folderFps = 25, range?: FrameRange): Promise<FrameSource> {
  if (!existsSync(input)) throw new VideoIoError(`${input}: no such file or folder`);
  if (range && !(Number.isInteger(range.start) && Number.isInteger(range.end) && range.start >= 0 && range.end > range.start))
    throw new VideoIoError(`frame range ${range.start}..${range.end} is empty or invalid`);
  if (statSync(input).isDirectory()) return openFolder(input, shortSidePx, folderFps, range);
  if (!isVideoFile(input)) throw new VideoIoError(`${input}: not a video file (${VIDEO_EXTENSIONS.join(', ')}) or a folder of frames`);
  return openVideoFile(input, shortSidePx, range);
}

async function openFolder(dir: string, shortSidePx: number, fps: number, range?: FrameRange): Promise<FrameSource> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  // A link to nothing would silently drop a frame from the clip.
  const broken = entries.filter((e) => e.isSymbolicLink() && !existsSync(path.join(dir, e.name)));
  if (broken.length > 0)
    throw new VideoIoError(`${path.join(dir, broken[0]!.name)}: a broken link (its target is missing); fix or remove it`);
  // Notes that travel with frame folders (SOURCE.txt, README.md, meta.json) are not frames.
  const isFile = (e: (typeof entries)[number]): boolean => e.isFile() || (e.isSymbolicLink() && statSync(path.join(dir, e.name)).isFile());
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
  // a.png and a.jpg would both be written as a.png: one frame silently lost.
  const firstWith = new Map<string, string>();
  for (const [i, n] of names.entries()) {
    const other = firstWith.get(n);
    if (other !== undefined) throw new VideoIoError(`${dir}: ${other} and ${frames[i]} would both be written as ${n}; rename one`);
    firstWith.set(n, frames[i]!);
  }
  if (range && range.end > frames.length)
    throw new VideoIoError(`${dir}: holds ${frames.length} frames, fewer than the range's end ${range.end}`);
  const chosen = range ? frames.slice(range.start, range.end) : frames;
  return {
    count: chosen.length,
    names: range ? names.slice(range.start, range.end) : names,
    fps,
    async *frames() {
      for (const f of chosen) yield await readImageFile(path.join(dir, f), shortSidePx);
    },
    close() {},
  };
}

interface ProbeInfo {
  width: number;
  height: number;
  fps: number;
  count: number;
  /** True when the container stores the frame count (else it is estimated from the duration). */
  exactCount: boolean;
}

const PROBE_ARGS = [
  '-v',
  'error',
  '-select_streams',
  'v:0',
  '-show_entries',
  'stream=width,height,avg_frame_rate,r_frame_rate,nb_frames,duration:format=duration',
  '-of',
  'json',
];

function probeVideo(file: string): ProbeInfo {
  const r = spawnSync(findFfmpeg('ffprobe'), [...PROBE_ARGS, file], { encoding: 'utf8' });
  return parseProbe(file, r);
}

/** {@link probeVideo} without blocking the event loop (a server), given up after `timeoutMs`. */
export async function probeVideoAsync(file: string, timeoutMs: number, signal?: AbortSignal): Promise<ProbeInfo> {
  return parseProbe(file, await runTool(findFfmpeg('ffprobe'), [...PROBE_ARGS, file], timeoutMs, signal));
}

/** {@link countPackets} without blocking the event loop, given up after `timeoutMs`. */
export async function countPacketsAsync(file: string, timeoutMs: number, signal?: AbortSignal): Promise<number | null> {
  return parsePacketCount(await runTool(findFfmpeg('ffprobe'), [...COUNT_PACKETS_ARGS, file], timeoutMs, signal));
}

/** Demuxer and decoder complaints that mean a clip's data is cut short or damaged. */
const DAMAGED = /partial file|ended prematurely|truncat|invalid nal|error while decoding|corrupt|invalid data|moov atom not found/i;

/**
 * Decodes the first frame and the last `tailS` seconds of `file`, which a header alone does not
 * prove: a faststart MP4 cut short still declares every frame. Resolves with null when both decode
 * cleanly, else one line saying what failed (no paths, no decoder addresses).
 */
export async function probeDecodableAsync(file: string, timeoutMs: number, signal?: AbortSignal, tailS = 2): Promise<string | null> {
  const ffmpeg = findFfmpeg();
  const decode = (input: string[], output: string[]): Promise<ToolResult> =>
    runTool(ffmpeg, ['-v', 'error', ...input, '-i', file, '-map', '0:v:0', ...output, '-f', 'framecrc', '-'], timeoutMs, signal);
  const frames = (r: ToolResult): number => r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  const complaint = (r: ToolResult): string =>
    (r.stderr.split('\n').find((l) => DAMAGED.test(l)) ?? '')
      .replace(/\[[^\]]*@ 0x[0-9a-f]+\] ?/g, '')
      .replace(/offset 0x[0-9a-f]+: /i, '')
      .trim();
  const head = await decode([], ['-frames:v', '1']);
  if (head.status !== 0 || frames(head) === 0 || complaint(head))
    return `its first frame cannot be decoded${complaint(head) ? ` (${complaint(head)})` : ''}`;
  const tail = await decode(['-sseof', `-${tailS}`], []);
  if (tail.status !== 0 || frames(tail) === 0 || complaint(tail))
    return `it is cut short or damaged: its last ${tailS} s cannot be decoded${complaint(tail) ? ` (${complaint(tail)})` : ''}`;
  return null;
}

interface ToolResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `exe` to its end, killed (SIGKILL) after `timeoutMs` or when `signal` aborts. */
function runTool(exe: string, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(
      exe,
      args,
      { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL', ...(signal ? { signal } : {}) },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown; killed?: boolean }) | null;
        const timedOut = e?.killed === true;
        resolve({
          status: e ? (typeof e.code === 'number' ? e.code : 1) : 0,
          stdout,
          stderr: timedOut ? `ffprobe gave no answer within ${timeoutMs / 1000} s` : stderr,
        });
      },
    );
  });
}

function parseProbe(file: string, r: ToolResult): ProbeInfo {
  if (r.status !== 0) throw new VideoIoError(`${file}: unreadable video (${(r.stderr || 'ffprobe failed').trim().split('\n')[0]})`);
  let stream: Record<string, unknown> | undefined;
  let format: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(r.stdout) as { streams?: Array<Record<string, unknown>>; format?: Record<string, unknown> };
    stream = parsed.streams?.[0];
    format = parsed.format;
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
  const exactCount = Number.isFinite(count) && count > 0;
  // WebM stores no frame count and often no stream duration: the container's duration then.
  if (!exactCount) count = Math.round(Number(stream['duration'] ?? format?.['duration']) * fps) || 0;
  if (!(width > 0 && height > 0)) throw new VideoIoError(`${file}: video stream has no size`);
  return { width, height, fps, count, exactCount };
}

/** Output size for a short side (0 = as is), rounded to even numbers for the codecs. */
function scaledSize(w: number, h: number, shortSidePx: number): [number, number] {
  if (shortSidePx <= 0) return [w, h];
  const s = shortSidePx / Math.min(w, h);
  return [Math.max(2, Math.round(w * s)), Math.max(2, Math.round(h * s))];
}

/** How a child process ended: its exit code, or the signal that killed it. */
interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const describeExit = (e: Exit): string => (e.signal ? `killed by ${e.signal}` : `exit ${e.code}`);

/**
 * Starts ffmpeg in its own process group: a terminal's Ctrl-C goes to the whole foreground group and
 * would otherwise kill ffmpeg mid-file (destroying a video output) before livestyle can finish it.
 * livestyle stops ffmpeg itself (end of input, or SIGKILL on abort).
 */
function spawnFfmpeg(
  ffmpeg: string,
  args: string[],
): { proc: ChildProcessWithoutNullStreams; exited: Promise<Exit>; stderr: () => string } {
  const proc = spawn(ffmpeg, args, { detached: true });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Exit>((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));
  return { proc, exited, stderr: () => stderr.trim() };
}

const firstLine = (text: string): string => text.split('\n')[0] ?? '';

/** The name of frame `index` (0-based) of a video file in a frame folder. */
export const videoFrameName = (index: number): string => `frame_${String(index + 1).padStart(6, '0')}.png`;

function openVideoFile(file: string, shortSidePx: number, range?: FrameRange): FrameSource {
  const info = probeVideo(file);
  const ffmpeg = findFfmpeg();
  const [w, h] = scaledSize(info.width, info.height, shortSidePx);
  let child: ChildProcessWithoutNullStreams | null = null;
  let closed = false;
  const first = range?.start ?? 0;
  const count = range ? range.end - range.start : info.count;
  const names: string[] = [];
  for (let i = 0; i < count; i++) names.push(videoFrameName(first + i));
  // A range is selected by frame number, decoded from the start (exact wherever the timestamps are
  // odd), or from a seek time given by a scan of the timestamps (the first frame decoded is then
  // the range's first).
  const seek = range?.seekS !== undefined ? ['-ss', range.seekS.toFixed(6)] : [];
  const select = range && seek.length === 0 ? `select=between(n\\,${range.start}\\,${range.end - 1}),` : '';
  return {
    count,
    names,
    fps: info.fps,
    async *frames() {
      const { proc, exited, stderr } = spawnFfmpeg(ffmpeg, [
        '-v',
        'error',
        ...seek,
        '-i',
        file,
        '-an',
        '-vf',
        `${select}scale=${w}:${h}:flags=lanczos`,
        ...(range ? ['-fps_mode', 'passthrough'] : []),
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        'pipe:1',
      ]);
      child = proc;
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
          // The range is complete: the rest of the clip need not be decoded.
          if (range && produced === count) {
            closed = true;
            proc.kill('SIGKILL');
            return;
          }
        }
      }
      const exit = await exited;
      if (closed) return; // stopped on purpose
      // The clip ended early: the decoder was killed (the OOM killer), failed, or stopped short of
      // the frames the container declares (a truncated file). Never a silently shorter output.
      if (exit.signal || exit.code !== 0) {
        const why = exit.signal
          ? `the decoder (ffmpeg) was ${describeExit(exit)}`
          : `decoding failed (${firstLine(stderr()) || describeExit(exit)})`;
        throw new VideoIoError(`${file}: ${why} after frame ${produced}`);
      }
      if (produced === 0)
        throw new VideoIoError(`${file}: no frames could be decoded${range ? ` in frames ${range.start}..${range.end - 1}` : ''}`);
      if (range) throw new VideoIoError(`${file}: the clip ended at frame ${range.start + produced}, before the range's end ${range.end}`);
      if (pending.length > 0 || (info.exactCount && produced < info.count) || produced < info.count * TRUNCATION_SHARE) {
        const errors = firstLine(stderr());
        throw new VideoIoError(
          `${file}: input truncated at frame ${produced} of ${info.count}${info.exactCount ? '' : ' (by its duration)'}${errors ? `: ${errors}` : ''}`,
        );
      }
    },
    close() {
      closed = true;
      child?.kill('SIGKILL');
      child = null;
    },
  };
}

/**
 * Where a container gives no frame count, the count comes from its duration, which is approximate
 * (rounding, a last frame's duration): decoding fewer than this share of it means a cut-off file.
 */
const TRUNCATION_SHARE = 0.9;

export interface FrameSink {
  /** Writes the next frame (`[H, W, 3]` in [0, 1]; not disposed). */
  write(name: string, frame: tf.Tensor3D): Promise<void>;
  /** Completes the output (a video file appears under its name only now). */
  finish(): Promise<void>;
  /** Abandons the output: removes a partial video file, or the frames this run wrote to a folder. */
  abort(): Promise<void>;
}

/**
 * Checks an output before any work: a .webm/.mp4 in an existing folder, or a folder (created if
 * missing) that is not an existing file. Throws VideoIoError saying what is wrong.
 */
export function checkFrameSinkTarget(out: string): void {
  const exists = existsSync(out);
  if (isVideoFile(out)) {
    const ext = path.extname(out).toLowerCase();
    if (ext !== '.webm' && ext !== '.mp4') throw new VideoIoError(`--out video must be .webm or .mp4 (got ${ext})`);
    if (!existsSync(path.dirname(path.resolve(out)))) throw new VideoIoError(`--out folder ${path.dirname(out)} does not exist`);
    if (exists && statSync(out).isDirectory()) throw new VideoIoError(`--out ${out} is a folder, not a video file`);
    return;
  }
  if (exists && !statSync(out).isDirectory())
    throw new VideoIoError(`--out ${out} is an existing file, not a folder (give a folder, a .webm or an .mp4)`);
  if (!exists && path.extname(out) !== '') throw new VideoIoError(`--out must be a folder, .webm or .mp4 (got ${out})`);
}

/**
 * A folder of PNG frames (created if missing), or a .webm/.mp4 file. Temporary files that runs which
 * no longer exist left there (SIGKILL, a crash) are removed first.
 */
export async function openFrameSink(out: string, fps: number, audio?: AudioSource): Promise<FrameSink> {
  checkFrameSinkTarget(out);
  if (isVideoFile(out)) {
    const sink = videoSink(out, fps, findFfmpeg(), audio);
    await sweepStaleTemporaries(path.dirname(path.resolve(out)));
    return sink;
  }
  const created = !existsSync(out);
  await mkdir(out, { recursive: true });
  await sweepStaleTemporaries(out);
  const written: string[] = [];
  return {
    async write(name, frame) {
      await writePngFile(path.join(out, name), frame);
      written.push(name);
    },
    finish: async () => {},
    // A failed run leaves no partial set of frames: those this run wrote are removed.
    abort: async () => {
      await Promise.all(written.splice(0).map((n) => rm(path.join(out, n), { force: true })));
      if (created) await rmdir(out).catch(() => undefined); // only if still empty
    },
  };
}

/** The encoder settings of a .webm (VP9) or .mp4 (H.264) output. */
function videoCodecArgs(ext: string): string[] {
  return ext === '.webm'
    ? ['-c:v', 'libvpx-vp9', '-b:v', '0', '-crf', '32', '-row-mt', '1', '-deadline', 'good', '-cpu-used', '4']
    : ['-c:v', 'libx264', '-preset', 'medium', '-crf', '20', '-movflags', '+faststart'];
}

/**
 * Encodes the frames `dir/frame_000001.png`.. (exactly `frameCount` of them, as {@link videoFrameName}
 * names them) into `out` (.webm or .mp4) at `fps`, with the first audio stream of `audioFrom` if it
 * has one. Written to a temporary name and renamed once ffprobe finds every frame in it.
 */
export async function encodeFrameFolder(
  dir: string,
  frameCount: number,
  fps: number,
  out: string,
  audioFrom?: string,
  signal?: AbortSignal,
): Promise<void> {
  const ext = path.extname(out).toLowerCase();
  if (ext !== '.webm' && ext !== '.mp4') throw new VideoIoError(`${out}: the output must be .webm or .mp4`);
  for (let i = 0; i < frameCount; i++)
    if (!existsSync(path.join(dir, videoFrameName(i)))) throw new VideoIoError(`${dir}: frame ${videoFrameName(i)} is missing`);
  const tmp = path.join(path.dirname(out), `.${path.basename(out, ext)}.${process.pid}.tmp${ext}`);
  const audio = audioFrom
    ? ['-i', audioFrom, '-map', '0:v:0', '-map', '1:a:0?', '-c:a', ext === '.webm' ? 'libopus' : 'aac', '-b:a', '128k']
    : [];
  const e = spawnFfmpeg(findFfmpeg(), [
    '-v',
    'error',
    '-y',
    '-framerate',
    String(fps),
    '-start_number',
    '1',
    '-i',
    path.join(dir, 'frame_%06d.png'),
    ...audio,
    // The frame count ends the video stream only (trim): an output limit (-frames:v) ended the whole
    // file there, and mp4 had muxed one audio packet by then (0.023 s of a 1 s track).
    '-vf',
    `trim=end_frame=${frameCount},pad=ceil(iw/2)*2:ceil(ih/2)*2`,
    '-pix_fmt',
    'yuv420p',
    ...videoCodecArgs(ext),
    tmp,
  ]);
  const onAbort = (): void => void e.proc.kill('SIGKILL');
  signal?.addEventListener('abort', onAbort);
  try {
    const exit = await e.exited;
    if (signal?.aborted) throw new VideoIoError(`${out}: encoding cancelled`);
    if (exit.code !== 0) throw new VideoIoError(`${out}: encoding failed (${firstLine(e.stderr()) || describeExit(exit)})`);
    const held = countPackets(tmp);
    if (held !== frameCount)
      throw new VideoIoError(`${out}: output incomplete: the encoded file holds ${held ?? 'no readable'} of ${frameCount} frames`);
    await rename(tmp, out);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Where a video output's audio comes from: the input clip, and its frame count (an interrupted run's audio ends with its video). */
export interface AudioSource {
  readonly file: string;
  readonly frames: number;
}

/** True when `file` has an audio stream. */
function hasAudio(file: string): boolean {
  const r = spawnSync(
    findFfmpeg('ffprobe'),
    ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=index', '-of', 'csv=p=0', file],
    {
      encoding: 'utf8',
    },
  );
  return r.status === 0 && r.stdout.trim() !== '';
}

/**
 * Adds `audio`'s first audio stream to the encoded video `video` (the video copied, the audio encoded to Opus or AAC), written
 * to `out`. All of it when every frame was sent (its length may differ from the video's by a
 * fraction of a frame, as in the input); only the part under the video when the run stopped early.
 */
async function muxAudio(video: string, audio: AudioSource, sent: number, fps: number, out: string): Promise<void> {
  const ext = path.extname(out).toLowerCase();
  const e = spawnFfmpeg(findFfmpeg(), [
    '-v',
    'error',
    '-y',
    '-i',
    video,
    '-i',
    audio.file,
    '-map',
    '0:v:0',
    '-map',
    '1:a:0',
    '-c:v',
    'copy',
    '-c:a',
    ext === '.webm' ? 'libopus' : 'aac',
    '-b:a',
    '128k',
    ...(sent < audio.frames ? ['-t', (sent / fps).toFixed(6)] : []),
    ...(ext === '.mp4' ? ['-movflags', '+faststart'] : []),
    out,
  ]);
  const exit = await e.exited;
  if (exit.code !== 0) {
    const said = firstLine(e.stderr());
    throw new VideoIoError(
      `${out}: adding the clip's audio failed (${/No space left/i.test(said) ? 'disk full' : said || describeExit(exit)})`,
    );
  }
}

function videoSink(out: string, fps: number, ffmpeg: string, audio?: AudioSource): FrameSink {
  const ext = path.extname(out).toLowerCase();
  const tmp = path.join(path.dirname(out), `.${path.basename(out, ext)}.${process.pid}.tmp${ext}`);
  let encoder: ReturnType<typeof spawnFfmpeg> | null = null;
  /** Set once the encoder exits (early, it means it died). */
  let ended: Exit | null = null;
  let size: [number, number] | null = null;
  let sent = 0;
  /** Settles when the last write handed its frame to the encoder. */
  let inOrder: Promise<void> = Promise.resolve();
  let broken = false;
  const codec = videoCodecArgs(ext);
  const failure = (e: Exit, stderr: string): string => {
    const cause = /No space left/i.test(stderr) ? 'disk full' : firstLine(stderr) || `the encoder (ffmpeg) was ${describeExit(e)}`;
    return `${out}: encoding failed after ${sent} frames (${cause}); no video written`;
  };
  const start = (w: number, h: number): ReturnType<typeof spawnFfmpeg> => {
    // yuv420p needs even sizes: pad by one pixel where odd.
    const pad = `pad=ceil(iw/2)*2:ceil(ih/2)*2`;
    const e = spawnFfmpeg(ffmpeg, [
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
    void e.exited.then((x) => (ended = x));
    e.proc.stdin.on('error', () => undefined); // an encoder that died is reported through `ended`
    return e;
  };
  return {
    async write(_name, image) {
      const [height, width] = image.shape;
      if (!size) {
        size = [width, height];
        encoder = start(width, height);
      } else if (width !== size[0] || height !== size[1]) {
        throw new VideoIoError(`frame is ${width}x${height}, the video is ${size[0]}x${size[1]}`);
      }
      const e = encoder;
      if (!e) throw new VideoIoError('encoder is not running');
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
        if (ended) throw new VideoIoError(failure(ended, e.stderr()));
        const ok = e.proc.stdin.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        // An encoder that dies never drains its pipe: wait for whichever comes first.
        if (!ok) await Promise.race([new Promise<void>((resolve) => e.proc.stdin.once('drain', () => resolve())), e.exited]);
        if (ended) throw new VideoIoError(failure(ended, e.stderr()));
        sent++;
      } catch (err) {
        broken = true;
        throw err;
      } finally {
        done();
      }
    },
    async finish() {
      const e = encoder;
      if (!e) throw new VideoIoError('no frames to encode');
      e.proc.stdin.end();
      const exit = await e.exited;
      encoder = null;
      try {
        if (exit.code !== 0) throw new VideoIoError(failure(exit, e.stderr()));
        // ffmpeg's exit status alone is not enough (a full disk has given exit 0 and a short or empty
        // file): the file must hold every frame sent before it takes the output's name.
        const held = countPackets(tmp);
        if (held !== sent) {
          const said = firstLine(e.stderr());
          const cause = /No space left/i.test(said) ? 'disk full' : 'output incomplete';
          throw new VideoIoError(
            `${out}: ${cause}: the encoded file holds ${held ?? 'no readable'} of ${sent} frames (ffmpeg: ${said || 'no message'}); no video written`,
          );
        }
        if (audio && hasAudio(audio.file)) {
          // A second temporary name the stale-file sweep also knows (`.name.<pid>.1.tmp.ext`).
          const withAudio = path.join(path.dirname(out), `.${path.basename(out, ext)}.${process.pid}.1.tmp${ext}`);
          try {
            await muxAudio(tmp, audio, sent, fps, withAudio);
            await rename(withAudio, out);
          } finally {
            await rm(withAudio, { force: true });
          }
          await rm(tmp, { force: true });
        } else await rename(tmp, out);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },
    async abort() {
      encoder?.proc.kill('SIGKILL');
      await encoder?.exited;
      encoder = null;
      await rm(tmp, { force: true });
    },
  };
}

/** Video packets (frames) in `file`'s first video stream, or null when ffprobe cannot read it. */
const COUNT_PACKETS_ARGS = [
  '-v',
  'error',
  '-select_streams',
  'v:0',
  '-count_packets',
  '-show_entries',
  'stream=nb_read_packets',
  '-of',
  'csv=p=0',
];

function countPackets(file: string): number | null {
  return parsePacketCount(spawnSync(findFfmpeg('ffprobe'), [...COUNT_PACKETS_ARGS, file], { encoding: 'utf8' }));
}

function parsePacketCount(r: ToolResult): number | null {
  const n = Number(r.stdout.trim());
  return r.status === 0 && Number.isInteger(n) && r.stdout.trim() !== '' ? n : null;
}
