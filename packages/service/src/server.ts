/**
 * `livestyle-service serve`: the HTTP API (Fastify) in front of the BullMQ queue. Uploads are streamed to a
 * fresh folder, checked (ffprobe for the clip, sharp for styles, the options' names and ranges) and
 * only then become a job; a refused upload leaves nothing behind. Every job URL needs the job's
 * token; without it the job does not exist (404), so ids cannot be probed.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { EventEmitter } from 'node:events';
import { QUEUE_NAME, type ChunkingSettings, type UploadLimits } from './config.js';
import { JobStore } from './jobs.js';
import type { LocalStorage } from './storage.js';
import { HttpError, type ServerContext } from './server-context.js';
import { FIELD_BYTES, registerUploadRoutes } from './routes-upload.js';
import { registerJobRoutes } from './routes-jobs.js';
import { registerStyleRoutes } from './routes-styles.js';
import { guardRequest } from './request-guard.js';

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
  /** Origins (`https://app.example`) whose pages may POST and DELETE besides the server's own. */
  readonly allowOrigins?: readonly string[];
}

export interface RunningServer {
  readonly url: string;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** A request (an upload) must complete within this. */
const REQUEST_TIMEOUT_MS = 30 * 60_000;
/** A job folder or upload younger than this is never swept (its record may be being written). */
const SWEEP_MIN_AGE_MS = 2 * REQUEST_TIMEOUT_MS;

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
  const ctx: ServerContext = { settings, store, queue, progress, streams: new Set() };
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
    limits: { fileSize: limits.clipBytes, files: limits.styles + 1, fields: 20, fieldSize: FIELD_BYTES, parts: limits.styles + 22 },
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err instanceof HttpError ? err.status : (err.statusCode ?? 500);
    void reply.status(status).send({ error: status >= 500 ? `internal error: ${err.message}` : err.message });
  });
  // Cross-site forms and DNS rebinding (request-guard.ts): refused before any route reads the body.
  app.addHook('onRequest', (req, _reply, done) => {
    const refused = guardRequest(req, settings.host, settings.allowOrigins ?? []);
    done(refused ? new HttpError(403, refused) : undefined);
  });
  app.setNotFoundHandler((req, reply) => void reply.status(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` }));

  registerUploadRoutes(app, ctx);
  registerJobRoutes(app, ctx);
  registerStyleRoutes(app, ctx);

  await app.listen({ port: settings.port, host: settings.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  return {
    url: `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`,
    app,
    async close() {
      clearInterval(sweeper);
      for (const end of [...ctx.streams]) end();
      await app.close();
      await queueEvents.close();
      await queue.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
