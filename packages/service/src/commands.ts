/**
 * `livestyle-service serve` and `livestyle-service worker`: the clip stylisation service. Both find
 * Redis at --redis (default: a local one) and say how to start one when none answers; both print
 * one line when ready and shut down cleanly on SIGINT/SIGTERM.
 */
import { Redis } from 'ioredis';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SERVICE_ROOT } from './page.js';
import { DEFAULT_CHUNKING, DEFAULT_LIMITS, type ChunkingSettings, type UploadLimits } from './config.js';
import { LocalStorage } from './storage.js';
import { startServer } from './server.js';
import { startWorker } from './worker.js';
import { listenForInterrupt } from '@livestyle/cli/internal/interrupt.js';

/**
 * Fails with a clear message (and how to start one) when no Redis answers at `url` within 3 s.
 * Resolves with a one-line warning when that Redis keeps nothing on disk (neither AOF nor RDB), else
 * null (also when CONFIG is not allowed, as on some managed Redis services).
 */
export async function checkRedis(url: string): Promise<string | null> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3000, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    probe.disconnect();
    throw new Error(
      `no Redis answers at ${url} (${(e as Error).message}). Start one: \`redis-server --appendonly yes\` (Debian: apt-get install redis-server), or point --redis at yours`,
    );
  }
  try {
    const [, aof] = (await probe.config('GET', 'appendonly')) as string[];
    const [, save] = (await probe.config('GET', 'save')) as string[];
    if (aof === 'yes' || (save ?? '').trim() !== '') return null;
    return `warning: Redis at ${url} keeps nothing on disk (appendonly no, no save points): if it restarts, the queue is lost and unfinished jobs are queued again from storage, redoing their work (start it with --appendonly yes; README, "Job service")`;
  } catch {
    return null;
  } finally {
    probe.disconnect();
  }
}

/** The built-in styles: $LIVESTYLE_STYLES_DIR, else the shared style paintings beside a checkout. */
function defaultStylesDir(): string | null {
  const dir = process.env.LIVESTYLE_STYLES_DIR ?? path.join(SERVICE_ROOT, '..', '..', '..', 'shared', 'data', 'style');
  return existsSync(dir) ? dir : null;
}

export interface ServeFlags {
  port: number;
  host: string;
  redis: string;
  storage: string;
  styles?: string;
  maxClipMb: number;
  maxDuration: number;
  maxSide: number;
  maxFrames: number;
  maxMegapixels: number;
  chunkFrames: number;
  warmupFrames: number;
  fadeFrames: number;
  keepHours: number;
  allowOrigin: string[];
}

export async function serveCommand(flags: ServeFlags): Promise<void> {
  const warning = await checkRedis(flags.redis);
  if (warning) process.stderr.write(`livestyle-service serve: ${warning}\n`);
  const storage = new LocalStorage(flags.storage);
  const limits: UploadLimits = {
    ...DEFAULT_LIMITS,
    clipBytes: flags.maxClipMb * 1024 * 1024,
    durationS: flags.maxDuration,
    sidePx: flags.maxSide,
    frames: flags.maxFrames,
    outputMegapixels: flags.maxMegapixels,
  };
  const chunking: ChunkingSettings = {
    ...DEFAULT_CHUNKING,
    chunkFrames: flags.chunkFrames,
    warmupFrames: flags.warmupFrames,
    fadeFrames: flags.fadeFrames,
  };
  const server = await startServer({
    port: flags.port,
    host: flags.host,
    redisUrl: flags.redis,
    storage,
    limits,
    chunking,
    stylesDir: flags.styles ?? defaultStylesDir(),
    keepSeconds: Math.round(flags.keepHours * 3600),
    allowOrigins: flags.allowOrigin,
  });
  process.stdout.write(`livestyle-service serve: listening on ${server.url} (redis ${flags.redis}, storage ${storage.root})\n`);
  await new Promise<void>((resolve) => {
    const interrupt = listenForInterrupt(() => {
      interrupt.dispose();
      void server.close().finally(resolve);
    });
  });
}

export interface WorkerFlags {
  redis: string;
  storage: string;
  concurrency: number;
  backend: 'auto' | 'webgpu' | 'wasm';
  stallMs: number;
  maxJobsPerMinute: number;
  keepHours: number;
  quiet: boolean;
}

export async function workerCommand(flags: WorkerFlags): Promise<void> {
  const warning = await checkRedis(flags.redis);
  const storage = new LocalStorage(flags.storage);
  await storage.init();
  const log = (line: string): void => {
    if (!flags.quiet) process.stderr.write(`livestyle-service worker: ${line}\n`);
  };
  // Shown even with --quiet: it is about the data's safety, not progress.
  if (warning) process.stderr.write(`livestyle-service worker: ${warning}\n`);
  const worker = await startWorker({
    redisUrl: flags.redis,
    storage,
    concurrency: flags.concurrency,
    backend: flags.backend,
    stallMs: flags.stallMs,
    maxJobsPerMinute: flags.maxJobsPerMinute,
    keepSeconds: Math.round(flags.keepHours * 3600),
    log,
  });
  process.stdout.write(
    `livestyle-service worker ${worker.id}: ready (backend ${worker.backend}, concurrency ${flags.concurrency}, redis ${flags.redis}, storage ${storage.root})\n`,
  );
  // SIGTERM/SIGINT: take no new chunk, finish the ones in progress, exit 0. A second signal exits at
  // once; the chunk in progress then goes to another worker after the stall interval.
  await new Promise<void>((resolve) => {
    const interrupt = listenForInterrupt((signal) => {
      log(`${signal}: finishing the chunk in progress (send it again to stop now)`);
      void worker.close().finally(() => {
        interrupt.dispose();
        resolve();
      });
    });
  });
}
