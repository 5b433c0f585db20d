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
import { HttpError, QUEUE_UNAVAILABLE, reconcileContext, type ServerContext } from './server-context.js';
import { reconcile } from './reconcile.js';
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
/** On close, requests still open after this are cut (a stuck upload never holds a shutdown). */
export const DRAIN_MS = 10_000;
/**
 * A Redis command that has no answer within this fails (503), and while the connection is down
 * commands fail at once instead of waiting in ioredis's offline queue: a request never hangs on Redis.
 */
const REDIS_COMMAND_TIMEOUT_MS = 2000;

/** Errors of a Redis that is away or not answering (ioredis's wording), answered 503. */
const REDIS_AWAY = /enableOfflineQueue|Connection is closed|Command timed out|MaxRetriesPerRequest|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT/;

/** A connection for the routes: commands fail fast while Redis is away (see REDIS_COMMAND_TIMEOUT_MS). */
async function connectRedis(url: string): Promise<Redis> {
  const connection = new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  connection.on('error', () => undefined); // reported per request (503); ioredis reconnects on its own
  await new Promise<void>((resolve, reject) => {
    connection.once('ready', resolve);
    connection.once('end', () => reject(new Error(`no Redis answers at ${url}`)));
  });
  return connection;
}

/**
 * Disk is the source of truth (reconcile.ts): compared with Redis now, whenever Redis comes back,
 * when it lost its data without dropping the connection, and hourly before the sweep of expired
 * jobs and abandoned uploads. Resolves once the first comparison is done.
 */
async function startHousekeeping(
  ctx: ServerContext,
  connection: Redis,
  log: (line: string) => void,
): Promise<{ stop(): void; idle(): Promise<void> }> {
  const { settings, store } = ctx;
  const { storage } = settings;
  let reconciling: Promise<void> = Promise.resolve();
  const reconcileNow = (why: string): Promise<void> =>
    (reconciling = reconciling.then(async () => {
      const r = await reconcile(reconcileContext(ctx)).catch((e: Error) => {
        log(`reconciling jobs with Redis (${why}): ${e.message}`);
        return null;
      });
      if (r && r.requeued.length + r.restored.length + r.orphansRemoved > 0)
        log(
          `${why}: ${r.requeued.length} job(s) queued again and ${r.restored.length} ended job(s) restored from disk` +
            (r.orphansRemoved > 0 ? `, ${r.orphansRemoved} record(s) with no folder removed` : ''),
        );
    }));
  await reconcileNow('start');
  // A Redis that loses its data without dropping the connection (FLUSHALL, a failover behind a proxy)
  // loses this marker too: checked every 30 s (a GET meanwhile rebuilds its own job: server-context.ts).
  const MARKER = 'livestyle:serve-marker';
  await connection.set(MARKER, '1');
  const watchMarker = setInterval(() => {
    void connection.exists(MARKER).then(
      async (n) => {
        if (n === 1) return;
        await connection.set(MARKER, '1');
        await reconcileNow('Redis lost its data');
      },
      () => undefined, // Redis away: the reconnect reconciles
    );
  }, 30_000);
  watchMarker.unref();
  let wasReady = true;
  connection.on('ready', () => {
    if (!wasReady)
      void connection.set(MARKER, '1').then(
        () => reconcileNow('Redis is back'),
        () => undefined,
      );
    wasReady = true;
  });
  connection.on('close', () => (wasReady = false));
  const sweep = (): void =>
    void reconcileNow('hourly check').then(() =>
      storage
        .sweep(async (id) => (await store.state(id)) !== null, SWEEP_MIN_AGE_MS, settings.keepSeconds * 1000)
        .catch((e: Error) => log(`sweeping old jobs: ${e.message}`)),
    );
  sweep();
  const sweeper = setInterval(sweep, 3600_000);
  sweeper.unref();

  return {
    stop() {
      clearInterval(sweeper);
      clearInterval(watchMarker);
    },
    idle: () => reconciling,
  };
}

export async function startServer(settings: ServerSettings): Promise<RunningServer> {
  const { storage, limits } = settings;
  const connection = await connectRedis(settings.redisUrl);
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
  const closing = new AbortController();
  const ctx: ServerContext = {
    settings,
    store,
    queue,
    progress,
    streams: new Set(),
    uploads: new Set(),
    closing: closing.signal,
    redisReady: () => connection.status === 'ready',
  };
  await storage.init();
  const log = (line: string): void => void process.stderr.write(`livestyle-service serve: ${line}\n`);
  const housekeeping = await startHousekeeping(ctx, connection, log);

  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, requestTimeout: REQUEST_TIMEOUT_MS, forceCloseConnections: 'idle' });
  await app.register(multipart, {
    // The client's names are checked as sent (busboy would strip `../`), and an oversized clip is
    // truncated and reported rather than thrown mid-stream.
    preservePath: true,
    throwFileSizeLimit: false,
    limits: { fileSize: limits.clipBytes, files: limits.styles + 1, fields: 20, fieldSize: FIELD_BYTES, parts: limits.styles + 22 },
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const fromRedis = connection.status !== 'ready' || REDIS_AWAY.test(err.message) || err.name === 'MaxRetriesPerRequestError';
    // Errors with their own status (HttpError, Fastify's 4xx) are the request's, never Redis's.
    if (!(err instanceof HttpError) && err.statusCode === undefined && fromRedis)
      return void reply.status(503).header('retry-after', '5').send({ error: QUEUE_UNAVAILABLE });
    const status = err instanceof HttpError ? err.status : (err.statusCode ?? 500);
    if (status >= 500 && !(err instanceof HttpError)) log(`${req.method} ${req.url.split('?')[0]}: ${err.message}`);
    // Internal details stay in the server's log; HttpErrors are written for users.
    void reply.status(status).send({ error: status >= 500 && !(err instanceof HttpError) ? 'internal error' : err.message });
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
      housekeeping.stop();
      for (const end of [...ctx.streams]) end();
      // Requests in progress get DRAIN_MS to finish; then their connections are cut (an upload cut
      // so removes its partial files).
      const cut = setTimeout(() => {
        closing.abort();
        app.server.closeAllConnections();
      }, DRAIN_MS);
      await app.close().finally(() => clearTimeout(cut));
      // A cut upload's handler is still removing its partial files (its probes are killed): bounded.
      closing.abort();
      await Promise.race([Promise.allSettled([...ctx.uploads]), new Promise((r) => setTimeout(r, 5000).unref())]);
      await housekeeping.idle();
      await queueEvents.close();
      await queue.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
