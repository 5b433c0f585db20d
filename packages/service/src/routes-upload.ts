/** `POST /jobs`: an upload received, checked and queued as a job, or refused with one message. */
import { createWriteStream } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import sharp from 'sharp';
import type { Multipart } from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  VIDEO_EXTENSIONS,
  VideoIoError,
  countPacketsAsync,
  probeDecodableAsync,
  probeVideoAsync,
} from '@livestyle/cli/internal/io/video.js';
import { MAX_IMAGE_PIXELS } from '@livestyle/core/internal/io/node-image.js';
import { isFlatStats } from '@livestyle/core/internal/io/flat.js';
import { JobOptionsError, parseJobOptions, parseWeights } from './config.js';
import { hashToken, newJobId, newToken } from './jobs.js';
import { writeJobRecord } from './job-files.js';
import { JOB_SPEC_FILE, type JobSpec } from './spec.js';
import { queuePlan } from './reconcile.js';
import { removeJobFlow } from './worker-context.js';
import { styleFile } from './routes-styles.js';
import { HttpError, QUEUE_UNAVAILABLE, type ServerContext } from './server-context.js';
import { scrubInternals } from './public-text.js';

/** Largest form field (`options`, `weights`, `styleId`), bytes. */
export const FIELD_BYTES = 64 * 1024;
/** Style image formats accepted (sharp's names); SVG, TIFF and the rest are refused. */
const STYLE_FORMATS = ['jpeg', 'png', 'webp'];
/** ffprobe gets this long per uploaded clip. */
const PROBE_TIMEOUT_MS = 30_000;
/** Highest clip frame rate accepted. */
const MAX_FPS = 240;
/** A client's file name, refused if it could name a path (`../x`, `a/b`, `C:\x`, NUL). */
function checkFileName(name: string, field: string): void {
  if (name === '' || name.length > 255 || /[/\\\0]/.test(name) || name === '.' || name === '..' || name.startsWith('.'))
    throw new HttpError(400, `${field} file name ${JSON.stringify(name)} is not a plain file name`);
}

/** Passes at most `limit` bytes through and drops the rest (still reading it), setting `over`. */
function byteLimit(limit: number): Transform & { over: boolean } {
  let n = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      n += chunk.length;
      if (n > limit) {
        t.over = true;
        done();
      } else done(null, chunk);
    },
  }) as Transform & { over: boolean };
  t.over = false;
  return t;
}

/** Reads a file part to its end, keeping nothing. */
async function discard(stream: NodeJS.ReadableStream): Promise<void> {
  if ((stream as Readable).readableEnded) return;
  await new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
    stream.resume();
  });
}

/**
 * Reads and drops the rest of a refused upload before answering: a client still sending its body
 * when the connection closes sees a reset instead of the 4xx and its message. Bounded in time.
 */
async function drainRequest(req: FastifyRequest, budgetMs = 30_000): Promise<void> {
  const raw = req.raw;
  if (raw.readableEnded || raw.destroyed) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, budgetMs);
    function done(): void {
      clearTimeout(timer);
      resolve();
    }
    raw.once('end', done);
    raw.once('close', done);
    raw.once('error', done);
    raw.resume();
  });
}

interface ReceivedUpload {
  clip: string | null;
  /** In form order: uploaded files (saved names) or built-in ids. */
  styles: Array<{ kind: 'file'; file: string; sent: string } | { kind: 'id'; id: string }>;
  fields: Record<string, string>;
}

export async function receive(ctx: ServerContext, req: FastifyRequest, dir: string, signal: AbortSignal): Promise<ReceivedUpload> {
  if (!req.isMultipart())
    throw new HttpError(415, 'POST /jobs takes multipart/form-data (fields: clip, style or styleId, weights, options)');
  const got: ReceivedUpload = { clip: null, styles: [], fields: {} };
  // The first problem is answered, but only after the whole body is read: a client still sending
  // when the connection closes would see a reset instead of the message.
  let failure: Error | null = null;
  for await (const part of req.parts()) {
    if (failure) {
      if (part.type === 'file') await discard(part.file);
      continue;
    }
    try {
      await receivePart(ctx, part, got, dir, signal);
    } catch (e) {
      // The client left, or the disk is full: nothing more can be received.
      if (signal.aborted || (e as NodeJS.ErrnoException).code === 'ENOSPC') throw e;
      failure = e as Error;
      if (part.type === 'file') await discard(part.file);
    }
  }
  if (failure) throw failure;
  return got;
}

export async function receivePart(
  ctx: ServerContext,
  part: Multipart,
  got: ReceivedUpload,
  dir: string,
  signal: AbortSignal,
): Promise<void> {
  const { limits } = ctx.settings;
  if (part.type === 'field') {
    // Past the field size limit the parser cuts the value: refused, never read as a shorter one.
    if (part.valueTruncated)
      throw new HttpError(413, `field ${JSON.stringify(part.fieldname)} is larger than the limit of ${FIELD_BYTES} bytes`);
    const value = String(part.value);
    if (part.fieldname === 'styleId') got.styles.push({ kind: 'id', id: value });
    else if (part.fieldname === 'weights' || part.fieldname === 'options') {
      if (part.fieldname in got.fields) throw new HttpError(400, `${part.fieldname} is given twice`);
      got.fields[part.fieldname] = value;
    } else throw new HttpError(400, `unknown field ${JSON.stringify(part.fieldname)} (known: clip, style, styleId, weights, options)`);
    return;
  }
  if (part.fieldname === 'clip') {
    if (got.clip) throw new HttpError(400, 'only one clip per job');
    checkFileName(part.filename, 'clip');
    const ext = path.extname(part.filename).toLowerCase();
    if (!VIDEO_EXTENSIONS.includes(ext))
      throw new HttpError(415, `clip ${JSON.stringify(part.filename)} is not a video file (${VIDEO_EXTENSIONS.join(', ')})`);
    got.clip = `clip${ext}`;
    await pipeline(part.file, createWriteStream(path.join(dir, got.clip)), { signal });
    // Past the limit the parser drops the rest of the file and marks it truncated.
    if (part.file.truncated) throw new HttpError(413, `clip is larger than the limit of ${limits.clipBytes} bytes`);
  } else if (part.fieldname === 'style') {
    checkFileName(part.filename, 'style');
    if (got.styles.length >= limits.styles) throw new HttpError(400, `at most ${limits.styles} styles per job`);
    const ext = path
      .extname(part.filename)
      .toLowerCase()
      .replace(/[^.a-z0-9]/g, '');
    const file = `style-${got.styles.length}${ext || '.img'}`;
    const counter = byteLimit(limits.styleBytes);
    await pipeline(part.file, counter, createWriteStream(path.join(dir, file)), { signal });
    if (counter.over || part.file.truncated)
      throw new HttpError(413, `style ${JSON.stringify(part.filename)} is larger than the limit of ${limits.styleBytes} bytes`);
    got.styles.push({ kind: 'file', file, sent: part.filename });
  } else {
    throw new HttpError(400, `unknown file field ${JSON.stringify(part.fieldname)} (known: clip, style)`);
  }
}

/** Checks a received upload and writes its job.json; throws HttpError for anything wrong. */
export async function check(ctx: ServerContext, dir: string, got: ReceivedUpload, signal?: AbortSignal): Promise<JobSpec> {
  const { settings } = ctx;
  const { limits } = settings;
  if (!got.clip) throw new HttpError(400, 'no clip: send the video as the "clip" file field');
  if (got.styles.length === 0) throw new HttpError(400, 'no style: send at least one "style" image or "styleId"');
  if (got.styles.length > limits.styles) throw new HttpError(400, `at most ${limits.styles} styles per job`);
  const options = (() => {
    try {
      return { options: parseJobOptions(got.fields['options']), weights: parseWeights(got.fields['weights'], got.styles.length) };
    } catch (e) {
      if (e instanceof JobOptionsError) throw new HttpError(400, e.message);
      throw e;
    }
  })();
  const clipFile = path.join(dir, got.clip);
  let info;
  try {
    info = await probeVideoAsync(clipFile, PROBE_TIMEOUT_MS, signal);
  } catch (e) {
    if (e instanceof VideoIoError)
      throw new HttpError(
        415,
        `clip is not a readable video (${scrubInternals(
          e.message
            .split(clipFile)
            .join('clip')
            .replace(/^clip: /, '')
            .replace(/^unreadable video \((.*)\)$/, '$1'),
        )})`,
      );
    throw e;
  }
  const frames = await countPacketsAsync(clipFile, PROBE_TIMEOUT_MS, signal);
  if (!frames) throw new HttpError(422, 'clip has no video frames');
  if (frames > limits.frames) throw new HttpError(422, `clip has ${frames} frames; the limit is ${limits.frames} frames per job`);
  if (Math.max(info.width, info.height) > limits.sidePx)
    throw new HttpError(422, `clip is ${info.width}x${info.height}; the limit is ${limits.sidePx} px on the longer side`);
  // The work is frames x pixels: a frame rate far above any camera's would make a short clip huge.
  if (info.fps > MAX_FPS) throw new HttpError(422, `clip is ${info.fps.toFixed(1)} frames/s; the limit is ${MAX_FPS}`);
  const durationS = frames / info.fps;
  if (durationS > limits.durationS) throw new HttpError(422, `clip is ${durationS.toFixed(1)} s long; the limit is ${limits.durationS} s`);
  // The output size counts too: a small clip scaled up is as much work as a large one.
  const scale = options.options.size > 0 ? options.options.size / Math.min(info.width, info.height) : 1;
  const outLongPx = Math.round(Math.max(info.width, info.height) * scale);
  if (outLongPx > limits.sidePx)
    throw new HttpError(
      422,
      `options.size ${options.options.size} makes the output ${outLongPx} px on its longer side; the limit is ${limits.sidePx} px`,
    );
  // The work a job buys is frames x output pixels: a tiny clip at a high frame rate scaled up is as
  // much work as a long large one.
  const [outW, outH] = [Math.round(info.width * scale), Math.round(info.height * scale)];
  const megapixels = (frames * outW * outH) / 1e6;
  if (megapixels > limits.outputMegapixels)
    throw new HttpError(
      422,
      `the job is ${frames} frames of ${outW}x${outH} (${Math.round(megapixels)} megapixels); the limit is ${limits.outputMegapixels} megapixels per job`,
    );
  // The header alone does not prove the data is there (a cut faststart MP4 declares every frame).
  const damaged = await probeDecodableAsync(clipFile, PROBE_TIMEOUT_MS, signal);
  if (damaged) throw new HttpError(422, `clip cannot be used: ${scrubInternals(damaged.split(clipFile).join('clip'))}`);
  const styles: Array<{ file: string; weight: number }> = [];
  for (const [i, s] of got.styles.entries()) {
    let file: string;
    if (s.kind === 'id') {
      const src = styleFile(settings.stylesDir, s.id);
      if (!src) throw new HttpError(400, `styleId ${JSON.stringify(s.id)} is not a built-in style (GET /styles lists them)`);
      file = `style-${i}${path.extname(src).toLowerCase()}`;
      await copyFile(src, path.join(dir, file));
    } else {
      file = s.file;
      const meta = await sharp(path.join(dir, file))
        .metadata()
        .catch(() => null);
      if (!meta?.width || !meta.height || !STYLE_FORMATS.includes(meta.format ?? ''))
        throw new HttpError(415, `style ${JSON.stringify(s.sent)} is not an image (JPEG, PNG or WebP)`);
      if (meta.width * meta.height > MAX_IMAGE_PIXELS)
        throw new HttpError(
          422,
          `style ${JSON.stringify(s.sent)} is ${meta.width}x${meta.height}; the limit is ${MAX_IMAGE_PIXELS / 1e6} megapixels`,
        );
      const flat = await flatStyleColour(path.join(dir, file));
      if (flat) throw new HttpError(422, `style ${JSON.stringify(s.sent)} is ${flat}: it has no texture to transfer`);
    }
    styles.push({ file, weight: options.weights[i] ?? 1 });
  }
  const spec: JobSpec = { clip: got.clip, styles, options: options.options, chunking: settings.chunking, fps: info.fps };
  await writeFile(path.join(dir, JOB_SPEC_FILE), JSON.stringify(spec, null, 2));
  return spec;
}

/** A style that is one flat colour, described (`one flat colour (RGB 0, 0, 0)`), or null. */
async function flatStyleColour(file: string): Promise<string | null> {
  // A thumbnail is enough to see texture, and bounds the memory (shrink-on-load where possible).
  const stats = await sharp(file)
    .resize(256, 256, { fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .stats()
    .catch(() => null);
  if (!stats) return null;
  const rgb = stats.channels.slice(0, 3);
  return isFlatStats(rgb) ? `one flat colour (RGB ${rgb.map((c) => Math.round(c.mean)).join(', ')})` : null;
}

/** Rejects when `signal` aborts (a wait on a dead connection's next part ends there). */
function whenAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('the client left')), { once: true }));
}

/** The answer to an upload the disk could not hold. */
const DISK_FULL = 'the server is out of disk space; try again later';

/** Registers `POST /jobs`. */
export function registerUploadRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { settings, store, queue } = ctx;
  const { storage, limits } = settings;
  app.post('/jobs', async (req, reply) => {
    // Redis away: answered now, not after the whole upload was received.
    if (!ctx.redisReady()) {
      // Within the 5 s promise: a short drain (so a client still sending reads the answer), then the
      // connection is closed.
      void reply.header('connection', 'close');
      await drainRequest(req, 3000);
      throw new HttpError(503, QUEUE_UNAVAILABLE);
    }
    // A client that leaves mid-upload stops the receiving and probing at once, and its partial files
    // go; so does a shutdown past its drain time (server.ts).
    const left = new AbortController();
    const onClosing = (): void => left.abort();
    ctx.closing.addEventListener('abort', onClosing, { once: true });
    const onClose = (): void => {
      if (!reply.raw.writableEnded) left.abort();
    };
    reply.raw.once('close', onClose);
    let settled = (): void => undefined;
    const handled = new Promise<void>((resolve) => (settled = resolve));
    ctx.uploads.add(handled);
    const dir = await storage.createUploadDir().catch((e: NodeJS.ErrnoException) => {
      reply.raw.off('close', onClose);
      ctx.closing.removeEventListener('abort', onClosing);
      ctx.uploads.delete(handled);
      settled();
      throw e.code === 'ENOSPC' ? new HttpError(507, DISK_FULL) : e;
    });
    let committed = false;
    try {
      const got = await Promise.race([receive(ctx, req, dir, left.signal), whenAborted(left.signal)]);
      const spec = await check(ctx, dir, got, left.signal);
      const id = newJobId();
      const token = newToken();
      const record = { tokenHash: hashToken(token), format: spec.options.format, createdAtMs: Date.now() };
      // The folder is complete (clip, spec, record) before the job is queued: disk is its source of truth.
      await writeJobRecord(dir, record);
      if (left.signal.aborted) throw new HttpError(499, 'the client left');
      await storage.commitUpload(dir, id);
      committed = true;
      try {
        await store.create(id, record);
        await queuePlan(queue, id, settings.keepSeconds);
        // Nobody holds this job's id and token if its client left before the answer: never run.
        if (left.signal.aborted) throw new HttpError(499, 'the client left before the job was created');
      } catch (e) {
        // Never a job that exists but was not queued, or that nobody can reach. Its folder goes now
        // (without it nothing runs: a worker fails a job with no folder); its record and queue entry
        // are removed behind the answer, retried while Redis is away.
        await storage.removeJob(id);
        forgetJob(ctx, id);
        throw e;
      }
      return reply.status(201).send({ id, token });
    } catch (e) {
      if (!committed) await storage.discardUpload(dir);
      throw await uploadError(req, e, limits.clipBytes, left.signal.aborted);
    } finally {
      reply.raw.off('close', onClose);
      ctx.closing.removeEventListener('abort', onClosing);
      ctx.uploads.delete(handled);
      settled();
    }
  });
}

/** Removes job `id`'s Redis record and queue entries, retrying every 5 s for a minute while Redis is away. */
function forgetJob(ctx: ServerContext, id: string, attempt = 0): void {
  void Promise.all([ctx.store.remove(id), removeJobFlow(ctx.queue, id)]).catch(() => {
    if (attempt < 12) setTimeout(() => forgetJob(ctx, id, attempt + 1), 5000).unref();
  });
}

/** The answer to a failed upload, once its body is drained (a client still sending would see a reset). */
async function uploadError(req: FastifyRequest, e: unknown, clipBytes: number, clientLeft: boolean): Promise<Error> {
  const err = e as Error & { code?: string; statusCode?: number };
  if (clientLeft) return new HttpError(499, 'the client left before the upload was complete');
  await drainRequest(req);
  if (err.code === 'ENOSPC') return new HttpError(507, DISK_FULL);
  if (err.code === 'FST_REQ_FILE_TOO_LARGE') return new HttpError(413, `clip is larger than the limit of ${clipBytes} bytes`);
  if (err.code?.startsWith('FST_') && err.statusCode && err.statusCode < 500) return new HttpError(err.statusCode, err.message);
  // A body that is not valid multipart (no boundary, cut short): the client's fault, one line.
  if (!(e instanceof HttpError) && /^(Multipart: |Unexpected end of (multipart|form))/.test(err.message))
    return new HttpError(400, `the body is not valid multipart/form-data (${err.message})`);
  return err;
}
