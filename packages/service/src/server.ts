/**
 * `livestyle-service serve`: the HTTP API (Fastify) in front of the BullMQ queue. Uploads are streamed to a
 * fresh folder, checked (ffprobe for the clip, sharp for styles, the options' names and ranges) and
 * only then become a job; a refused upload leaves nothing behind. Every job URL needs the job's
 * token; without it the job does not exist (404), so ids cannot be probed.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import multipart, { type Multipart } from '@fastify/multipart';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { createReadStream, createWriteStream, existsSync, readdirSync, statSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EventEmitter } from 'node:events';
import sharp from 'sharp';
import { VIDEO_EXTENSIONS, VideoIoError, countPacketsAsync, probeVideoAsync } from '@livestyle/cli/internal/io/video.js';
import { MAX_IMAGE_PIXELS } from '@livestyle/core/internal/io/node-image.js';
import { JobOptionsError, QUEUE_NAME, parseJobOptions, parseWeights, type ChunkingSettings, type UploadLimits } from './config.js';
import { JobStore, newJobId, newToken, type JobStatus } from './jobs.js';
import { JOB_SPEC_FILE, type JobSpec } from './spec.js';
import { JOB_ATTEMPTS, JOB_BACKOFF, removeJobFlow, type PlanJobData } from './worker.js';
import type { LocalStorage } from './storage.js';
import { servicePageHtml, servicePageScript } from './page.js';

export interface ServerSettings {
  readonly port: number;
  readonly host: string;
  readonly redisUrl: string;
  readonly storage: LocalStorage;
  readonly limits: UploadLimits;
  readonly chunking: ChunkingSettings;
  /** Folder of built-in style images (ids = file names without extension); none when missing. */
  readonly stylesDir: string | null;
  readonly keepSeconds: number;
}

export interface RunningServer {
  readonly url: string;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** A refused request: its HTTP status and one clear message. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const STYLE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'];
/** Style image formats accepted (sharp's names); SVG, TIFF and the rest are refused. */
const STYLE_FORMATS = ['jpeg', 'png', 'webp'];
/** ffprobe gets this long per uploaded clip. */
const PROBE_TIMEOUT_MS = 30_000;
/** Highest clip frame rate accepted. */
const MAX_FPS = 240;
/** A request (an upload) must complete within this. */
const REQUEST_TIMEOUT_MS = 30 * 60_000;
/** A job folder or upload younger than this is never swept (its record may be being written). */
const SWEEP_MIN_AGE_MS = 2 * REQUEST_TIMEOUT_MS;

/** A status as the API answers it (the output format is internal). */
function publicStatus(s: JobStatus): Omit<JobStatus, 'format'> {
  return {
    state: s.state,
    framesDone: s.framesDone,
    framesTotal: s.framesTotal,
    fps: s.fps,
    etaSeconds: s.etaSeconds,
    ...(s.error !== undefined ? { error: s.error } : {}),
  };
}

/** Built-in styles: `[{ id, name, src, thumbnail }]`, ids sorted. */
export function styleCatalog(stylesDir: string | null): Array<{ id: string; name: string; src: string; thumbnail: string }> {
  if (!stylesDir || !existsSync(stylesDir)) return [];
  return readdirSync(stylesDir)
    .filter((f) => STYLE_EXTENSIONS.includes(path.extname(f).toLowerCase()) && !f.startsWith('.'))
    .map((f) => path.basename(f, path.extname(f)))
    .filter((id) => /^[A-Za-z0-9_-]+$/.test(id))
    .sort()
    .map((id) => ({ id, name: id.replace(/[_-]+/g, ' '), src: `/styles/${id}.jpg`, thumbnail: `/styles/${id}.jpg?thumbnail=1` }));
}

function styleFile(stylesDir: string | null, id: string): string | null {
  if (!stylesDir || !/^[A-Za-z0-9_-]+$/.test(id)) return null;
  for (const ext of STYLE_EXTENSIONS) {
    const f = path.join(stylesDir, id + ext);
    if (existsSync(f)) return f;
  }
  return null;
}

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
async function drainRequest(req: FastifyRequest): Promise<void> {
  const raw = req.raw;
  if (raw.readableEnded || raw.destroyed) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, 30_000);
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

export async function startServer(settings: ServerSettings): Promise<RunningServer> {
  const { storage, limits } = settings;
  const connection = new Redis(settings.redisUrl, { maxRetriesPerRequest: null });
  const store = new JobStore(connection);
  const queue = new Queue(QUEUE_NAME, { connection });
  const queueEvents = new QueueEvents(QUEUE_NAME, { connection: { url: settings.redisUrl } as never });
  // Chunk progress events wake the server-sent-event streams of that job.
  const progress = new EventEmitter();
  progress.setMaxListeners(0);
  queueEvents.on('progress', ({ data }) => {
    const jobId = (data as { jobId?: unknown } | null)?.jobId;
    if (typeof jobId === 'string') progress.emit(jobId);
  });
  await storage.init();
  // Files of jobs whose record has expired (`--keep-hours` after they ended) and uploads abandoned
  // by a crash are removed hourly.
  const sweep = (): void =>
    void storage
      .sweep(async (id) => (await store.state(id)) !== null, SWEEP_MIN_AGE_MS)
      .catch((e: Error) => process.stderr.write(`livestyle-service serve: sweeping old jobs: ${e.message}\n`));
  sweep();
  const sweeper = setInterval(sweep, 3600_000);
  sweeper.unref();

  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, requestTimeout: REQUEST_TIMEOUT_MS });
  await app.register(multipart, {
    // The client's names are checked as sent (busboy would strip `../`), and an oversized clip is
    // truncated and reported rather than thrown mid-stream.
    preservePath: true,
    throwFileSizeLimit: false,
    limits: { fileSize: limits.clipBytes, files: limits.styles + 1, fields: 20, fieldSize: 64 * 1024, parts: limits.styles + 22 },
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err instanceof HttpError ? err.status : (err.statusCode ?? 500);
    void reply.status(status).send({ error: status >= 500 ? `internal error: ${err.message}` : err.message });
  });
  app.setNotFoundHandler((req, reply) => void reply.status(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` }));

  /** Resolves the job of `:id` if the request carries its token, else a 404. */
  const authorised = async (req: FastifyRequest): Promise<string> => {
    const id = (req.params as { id: string }).id;
    const query = req.query as { token?: unknown };
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!/^[A-Za-z0-9_-]{22}$/.test(id) || !(await store.checkToken(id, query.token ?? bearer))) throw new HttpError(404, 'no such job');
    return id;
  };

  const receive = async (req: FastifyRequest, dir: string): Promise<ReceivedUpload> => {
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
        await receivePart(part, got, dir);
      } catch (e) {
        failure = e as Error;
        if (part.type === 'file') await discard(part.file);
      }
    }
    if (failure) throw failure;
    return got;
  };

  const receivePart = async (part: Multipart, got: ReceivedUpload, dir: string): Promise<void> => {
    if (part.type === 'field') {
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
      await pipeline(part.file, createWriteStream(path.join(dir, got.clip)));
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
      await pipeline(part.file, counter, createWriteStream(path.join(dir, file)));
      if (counter.over || part.file.truncated)
        throw new HttpError(413, `style ${JSON.stringify(part.filename)} is larger than the limit of ${limits.styleBytes} bytes`);
      got.styles.push({ kind: 'file', file, sent: part.filename });
    } else {
      throw new HttpError(400, `unknown file field ${JSON.stringify(part.fieldname)} (known: clip, style)`);
    }
  };

  /** Checks a received upload and writes its job.json; throws HttpError for anything wrong. */
  const check = async (dir: string, got: ReceivedUpload): Promise<JobSpec> => {
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
      info = await probeVideoAsync(clipFile, PROBE_TIMEOUT_MS);
    } catch (e) {
      if (e instanceof VideoIoError)
        throw new HttpError(
          415,
          `clip is not a readable video (${e.message
            .replace(`${clipFile}: `, '')
            .replace(/^unreadable video \((.*)\)$/, '$1')
            .replace(/\[[^\]]*@ 0x[0-9a-f]+\] /, '')})`,
        );
      throw e;
    }
    const frames = await countPacketsAsync(clipFile, PROBE_TIMEOUT_MS);
    if (!frames) throw new HttpError(422, 'clip has no video frames');
    if (Math.max(info.width, info.height) > limits.sidePx)
      throw new HttpError(422, `clip is ${info.width}x${info.height}; the limit is ${limits.sidePx} px on the longer side`);
    // The work is frames x pixels: a frame rate far above any camera's would make a short clip huge.
    if (info.fps > MAX_FPS) throw new HttpError(422, `clip is ${info.fps.toFixed(1)} frames/s; the limit is ${MAX_FPS}`);
    const durationS = frames / info.fps;
    if (durationS > limits.durationS)
      throw new HttpError(422, `clip is ${durationS.toFixed(1)} s long; the limit is ${limits.durationS} s`);
    // The output size counts too: a small clip scaled up is as much work as a large one.
    const scale = options.options.size > 0 ? options.options.size / Math.min(info.width, info.height) : 1;
    const outLongPx = Math.round(Math.max(info.width, info.height) * scale);
    if (outLongPx > limits.sidePx)
      throw new HttpError(
        422,
        `options.size ${options.options.size} makes the output ${outLongPx} px on its longer side; the limit is ${limits.sidePx} px`,
      );
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
      }
      styles.push({ file, weight: options.weights[i] ?? 1 });
    }
    const spec: JobSpec = { clip: got.clip, styles, options: options.options, chunking: settings.chunking, fps: info.fps };
    await writeFile(path.join(dir, JOB_SPEC_FILE), JSON.stringify(spec, null, 2));
    return spec;
  };

  app.post('/jobs', async (req, reply) => {
    const dir = await storage.createUploadDir();
    let committed = false;
    try {
      const got = await receive(req, dir);
      const spec = await check(dir, got);
      const id = newJobId();
      const token = newToken();
      await storage.commitUpload(dir, id);
      committed = true;
      try {
        await store.create(id, token, spec.options.format);
        await queue.add('plan', { jobId: id } satisfies PlanJobData, {
          jobId: `plan-${id}`,
          attempts: JOB_ATTEMPTS,
          backoff: JOB_BACKOFF,
          removeOnComplete: true,
          removeOnFail: { age: settings.keepSeconds },
        });
      } catch (e) {
        // Never a job that exists but was not queued: its record and files go.
        await store.remove(id).catch(() => undefined);
        await storage.removeJob(id);
        throw e;
      }
      return reply.status(201).send({ id, token });
    } catch (e) {
      if (!committed) await storage.discardUpload(dir);
      await drainRequest(req);
      const err = e as Error & { code?: string; statusCode?: number };
      if (err.code === 'FST_REQ_FILE_TOO_LARGE') throw new HttpError(413, `clip is larger than the limit of ${limits.clipBytes} bytes`);
      if (err.code?.startsWith('FST_') && err.statusCode && err.statusCode < 500) throw new HttpError(err.statusCode, err.message);
      throw e;
    }
  });

  const sendStatus = async (id: string): Promise<JobStatus> => {
    const s = await store.status(id);
    if (!s) throw new HttpError(404, 'no such job');
    return s;
  };

  app.get('/jobs/:id', async (req) => {
    const id = await authorised(req);
    return publicStatus(await sendStatus(id));
  });

  /** Open event streams, ended when the server closes (they would hold `app.close()` otherwise). */
  const streams = new Set<() => void>();
  app.get('/jobs/:id/events', async (req, reply: FastifyReply) => {
    const id = await authorised(req);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    let last = '';
    let closed = false;
    let busy = false;
    let again = false;
    // One read at a time, in order; a change during a read is read again after it.
    const push = async (): Promise<void> => {
      if (closed) return;
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      try {
        do {
          again = false;
          const s = await store.status(id).catch(() => null);
          if (closed) return;
          if (!s) return end();
          const text = JSON.stringify(publicStatus(s));
          if (text !== last) {
            last = text;
            res.write(`event: status\ndata: ${text}\n\n`);
          }
          if (['done', 'failed', 'cancelled'].includes(s.state)) return end();
        } while (again);
      } finally {
        busy = false;
      }
    };
    const onProgress = (): void => void push();
    // Progress events come from BullMQ; state changes without one (plan, stitch) are polled. A
    // comment line every 15 s keeps proxies from closing an idle stream.
    let ticks = 0;
    const timer = setInterval(() => {
      if (++ticks % 15 === 0 && !closed) res.write(': keep-alive\n\n');
      onProgress();
    }, 1000);
    const end = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      progress.off(id, onProgress);
      streams.delete(end);
      res.end();
    };
    streams.add(end);
    progress.on(id, onProgress);
    req.raw.on('close', end);
    await push();
  });

  app.get('/jobs/:id/output', async (req, reply) => {
    const id = await authorised(req);
    const s = await sendStatus(id);
    if (s.state !== 'done') throw new HttpError(409, `the job is ${s.state}; its output is ready when it is done`);
    const file = storage.outputPath(id, s.format);
    if (!existsSync(file)) throw new HttpError(410, 'the output has expired');
    return reply
      .header('content-type', s.format === 'mp4' ? 'video/mp4' : 'video/webm')
      .header('content-length', statSync(file).size)
      .header('content-disposition', `attachment; filename="livestyle-${id}.${s.format}"`)
      .send(createReadStream(file));
  });

  app.delete('/jobs/:id', async (req) => {
    const id = await authorised(req);
    const before = await store.state(id);
    const cancelled = await store.transition(id, 'cancelled', { finishedAtMs: Date.now() });
    // Waiting jobs are removed; a running chunk sees the state within a frame and stops.
    await removeJobFlow(queue, id);
    await storage.removeJob(id);
    if (cancelled) await store.expire(id, settings.keepSeconds);
    else await store.remove(id); // an ended job: nothing of it is kept
    return { state: cancelled ? 'cancelled' : before, removed: true };
  });

  app.get('/styles', () => styleCatalog(settings.stylesDir));
  app.get('/styles/:file', async (req, reply) => {
    const m = /^([A-Za-z0-9_-]+)\.jpg$/.exec((req.params as { file: string }).file);
    const src = m ? styleFile(settings.stylesDir, m[1] ?? '') : null;
    if (!src) throw new HttpError(404, 'no such style');
    const side = (req.query as { thumbnail?: string }).thumbnail ? 128 : 512;
    const jpeg = await sharp(src).rotate().resize(side, side, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 85 }).toBuffer();
    return reply.header('content-type', 'image/jpeg').header('cache-control', 'max-age=3600').send(jpeg);
  });
  app.get('/', async (_req, reply) => reply.header('content-type', 'text/html; charset=utf-8').send(servicePageHtml()));
  app.get('/page.js', async (_req, reply) =>
    reply.header('content-type', 'text/javascript; charset=utf-8').send(await servicePageScript(readFile)),
  );

  await app.listen({ port: settings.port, host: settings.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  return {
    url: `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`,
    app,
    async close() {
      clearInterval(sweeper);
      for (const end of [...streams]) end();
      await app.close();
      await queueEvents.close();
      await queue.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
