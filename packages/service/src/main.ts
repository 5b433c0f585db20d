#!/usr/bin/env node
/**
 * `livestyle-service serve` and `livestyle-service worker`: the clip job service's command line. Usage
 * errors and failures print one line on stderr and exit non-zero, as `livestyle` does.
 */
// The Node entry, for its defaults: Node backends, models from @livestyle/models.
import '@livestyle/core';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { parseIntInRange, parseNonNegativeNumber, wrap } from '@livestyle/cli/internal/args.js';
import { releaseNodeWebGpu } from '@livestyle/core/internal/backend/node-webgpu.js';
import { serveCommand, workerCommand, type ServeFlags, type WorkerFlags } from './commands.js';
import { DEFAULT_CHUNKING, DEFAULT_HOST, DEFAULT_LIMITS, DEFAULT_PORT, DEFAULT_REDIS_URL } from './config.js';

/** The `livestyle-service` program: `serve` and `worker`. */
export function buildServiceProgram(): Command {
  const program = new Command('livestyle-service')
    .description('clip stylisation job service: an HTTP API (serve) and queue workers (worker) on Redis')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'livestyle-service: error: ')) });
  const storageOption = (): Option =>
    new Option('--storage <dir>', 'job files: one folder that serve and every worker reach under the same path').default(
      process.env.LIVESTYLE_STORAGE ?? path.resolve('livestyle-jobs'),
    );
  const keepOption = (): Option =>
    new Option('--keep-hours <h>', 'how long finished jobs (records, outputs) are kept (at least 0.1)')
      .argParser(
        wrap((v) => {
          const h = parseNonNegativeNumber(v);
          if (h < 0.1) throw new Error(`"${v}" is under 0.1 hours: a finished job's output must stay long enough to be fetched`);
          return h;
        }),
      )
      .default(24);
  program
    .command('serve')
    .description('HTTP job service for clips: POST /jobs, GET /jobs/:id, /events, /output, DELETE; a page at /')
    .addOption(new Option('--port <n>', 'port').argParser(wrap((v) => parseIntInRange(v, 0, 65535))).default(DEFAULT_PORT))
    .option('--host <address>', 'address to listen on', DEFAULT_HOST)
    .addOption(
      new Option('--allow-origin <origin>', 'an origin (https://app.example) whose pages may POST and DELETE jobs; repeatable')
        .argParser((v: string, prev: string[]) => {
          if (!/^https?:\/\/[^/\s]+$/.test(v)) throw new InvalidArgumentError(`"${v}" is not an origin such as https://app.example`);
          return [...prev, v];
        })
        .default([]),
    )
    .option('--redis <url>', 'Redis URL', DEFAULT_REDIS_URL)
    .addOption(storageOption())
    .option('--styles <dir>', 'folder of built-in style images (GET /styles); default: $LIVESTYLE_STYLES_DIR or ../shared/data/style')
    .addOption(
      new Option('--max-clip-mb <n>', 'largest clip upload, MiB')
        .argParser(wrap((v) => parseIntInRange(v, 1, 1024 * 1024)))
        .default(DEFAULT_LIMITS.clipBytes / 1024 / 1024),
    )
    .addOption(
      new Option('--max-duration <s>', 'longest clip, seconds')
        .argParser(wrap((v) => parseIntInRange(v, 1, 24 * 3600)))
        .default(DEFAULT_LIMITS.durationS),
    )
    .addOption(
      new Option('--max-side <px>', 'largest clip side, px')
        .argParser(wrap((v) => parseIntInRange(v, 32, 16384)))
        .default(DEFAULT_LIMITS.sidePx),
    )
    .addOption(
      new Option('--max-frames <n>', 'most frames per job')
        .argParser(wrap((v) => parseIntInRange(v, 1, 100_000_000)))
        .default(DEFAULT_LIMITS.frames),
    )
    .addOption(
      new Option('--max-megapixels <n>', 'most work per job: frames x output width x height, in megapixels')
        .argParser(wrap((v) => parseIntInRange(v, 1, 1_000_000_000)))
        .default(DEFAULT_LIMITS.outputMegapixels),
    )
    .addOption(
      new Option('--chunk-frames <n>', 'frames per chunk (a job for any worker)')
        .argParser(wrap((v) => parseIntInRange(v, 2, 100000)))
        .default(DEFAULT_CHUNKING.chunkFrames),
    )
    .addOption(
      new Option('--warmup-frames <n>', 'frames each chunk runs through the smoother before its first written frame')
        .argParser(wrap((v) => parseIntInRange(v, 0, 1000)))
        .default(DEFAULT_CHUNKING.warmupFrames),
    )
    .addOption(
      new Option('--fade-frames <n>', "frames over which each chunk's start is cross-faded with the previous chunk's continuation")
        .argParser(wrap((v) => parseIntInRange(v, 0, 1000)))
        .default(DEFAULT_CHUNKING.fadeFrames),
    )
    .addOption(keepOption())
    .action(async (flags: ServeFlags) => serveCommand(flags));

  program
    .command('worker')
    .description('stylise clip chunks from the job queue (run any number, on any machines that reach Redis and the storage)')
    .option('--redis <url>', 'Redis URL', DEFAULT_REDIS_URL)
    .addOption(storageOption())
    .addOption(new Option('--concurrency <n>', 'jobs at once').argParser(wrap((v) => parseIntInRange(v, 1, 64))).default(1))
    .addOption(
      new Option('--backend <name>', 'auto = a hardware GPU through WebGPU (Dawn) when present, else multi-threaded wasm')
        .choices(['auto', 'webgpu', 'wasm'])
        .default('auto'),
    )
    .addOption(
      new Option(
        '--stall-ms <ms>',
        "a chunk whose worker stops answering for this long goes to another worker (longer than two frames' time)",
      )
        .argParser(wrap((v) => parseIntInRange(v, 1000, 3600_000)))
        .default(60000),
    )
    .addOption(
      new Option('--max-jobs-per-minute <n>', 'rate limit: jobs started per minute across all workers of the queue (0 = none)')
        .argParser(wrap((v) => parseIntInRange(v, 0, 1_000_000)))
        .default(0),
    )
    .addOption(keepOption())
    .option('-q, --quiet', 'no log lines', false)
    .action(async (flags: WorkerFlags) => workerCommand(flags));

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildServiceProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    // commander has already printed its message (help and version exit 0)
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const err = e as Error;
    process.stderr.write(`livestyle-service: error: ${err.message || err.name || String(e)}\n`);
    if (process.env.LIVESTYLE_DEBUG) process.stderr.write(`${String(err.stack)}\n`);
    return 1;
  } finally {
    releaseNodeWebGpu();
  }
}
