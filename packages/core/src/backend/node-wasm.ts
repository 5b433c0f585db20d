/**
 * Node-only: initialises tfjs's WASM backend with SIMD and real worker threads.
 *
 * tfjs-backend-wasm 4.x starts its pthread workers from `blob:` URLs, which Node's `worker_threads`
 * cannot load, and caps the pool at half the logical cores (1 thread on a 2-core machine). During
 * initialisation only, we (a) capture the worker and main-script blobs into temporary `.cjs` files,
 * (b) hand those paths to Node's Worker, and (c) report twice the cores so the requested thread
 * count is honoured. Everything is restored afterwards.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';
import { mkdtempSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Names the bundled wasm factory expects from its rollup wrapper (see tf-backend-wasm.node.js).
const FACTORY_PRELUDE =
  "var require$$0=require('fs'),require$$1=require('path'),require$$3=require('perf_hooks'),require$$4=require('os'),commonjsGlobal=globalThis;";

export interface NodeWasmInfo {
  readonly threads: number;
}

let initialised: Promise<NodeWasmInfo> | null = null;

/** Threads to use: LIVESTYLE_WASM_THREADS, else the machine's logical cores (at most 8). */
function wantedThreads(): number {
  const env = Number(process.env.LIVESTYLE_WASM_THREADS);
  if (Number.isInteger(env) && env >= 1) return env;
  return Math.max(1, Math.min(8, os.cpus().length));
}

/** Sets tfjs's backend to multi-threaded WASM (once per process). */
export function initNodeWasm(): Promise<NodeWasmInfo> {
  initialised ??= doInit();
  return initialised;
}

/** True when process `pid` is alive (a signal 0 reaches it, or it exists but is not ours). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the script folders of processes that are gone: a process killed by a signal never runs
 * its exit handler, and each folder holds ~600 KB.
 */
function sweepStaleScriptFolders(): void {
  let names: string[] = [];
  try {
    names = readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^livestyle-wasm-(\d+)-/.exec(name)?.[1] ?? NaN);
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid))
      rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

async function doInit(): Promise<NodeWasmInfo> {
  const threads = wantedThreads();
  sweepStaleScriptFolders();
  // The pid in the name lets a later process remove the folder if this one is killed.
  const dir = mkdtempSync(path.join(os.tmpdir(), `livestyle-wasm-${process.pid}-`));
  let n = 0;
  const OrigBlob = globalThis.Blob;
  class RecordingBlob extends OrigBlob {
    readonly parts: readonly unknown[];
    constructor(parts: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      this.parts = parts;
    }
  }
  // The pthread worker script is constant; remember its file for workers spawned after start-up.
  let workerScript: string | null = null;
  const toFile = (b: RecordingBlob): string => {
    const file = path.join(dir, `script${n++}.cjs`);
    writeFileSync(file, FACTORY_PRELUDE + b.parts.map(String).join(''));
    if (b.type === 'application/javascript') workerScript = file;
    return file;
  };
  class FileWorker extends NodeWorker {
    constructor(file: string | URL, options?: WorkerOptions) {
      super(typeof file === 'string' && file.startsWith('blob:') && workerScript ? workerScript : file, options);
    }
    // emscripten ref()s a worker while a pthread runs on it; XNNPACK's pool threads never return,
    // so the process could never exit. The main thread blocks on them inside every kernel call, so
    // they need not keep Node alive: ignore ref() and keep them unref'd.
    override ref(): void {
      this.unref();
    }
    override postMessage(message: unknown, transfer?: readonly Transferable[]): void {
      const m = message as { urlOrBlob?: unknown } | null;
      const fixed = m && m.urlOrBlob instanceof RecordingBlob ? { ...m, urlOrBlob: toFile(m.urlOrBlob) } : message;
      super.postMessage(fixed, transfer as never);
    }
  }
  const origCreate = URL.createObjectURL.bind(URL);
  const origCpus = os.cpus.bind(os);
  globalThis.Blob = RecordingBlob as typeof Blob;
  URL.createObjectURL = (obj: Blob | MediaSource) => (obj instanceof RecordingBlob ? toFile(obj) : origCreate(obj));
  os.cpus = () => {
    const c = origCpus();
    return [...c, ...c];
  };
  Object.defineProperty(globalThis, 'Worker', { configurable: true, get: () => FileWorker, set: () => undefined });
  try {
    // tfjs probes for threads with browser-only checks; Node has SharedArrayBuffer and workers.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threads > 1);
    setThreadsCount(threads);
    const ok = await tf.setBackend('wasm');
    if (!ok) throw new Error('WASM backend failed to initialise');
    await tf.ready();
  } finally {
    globalThis.Blob = OrigBlob;
    URL.createObjectURL = origCreate;
    os.cpus = origCpus;
    // The Worker class stays: emscripten spawns further pthread workers lazily through it.
    // Workers have read their scripts by now; the files are not needed after start-up.
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return { threads: getThreadsCount() };
}
