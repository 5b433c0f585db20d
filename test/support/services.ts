/**
 * Real services for the job-service tests: Debian's redis-server on a free loopback port (AOF on,
 * so a restart keeps the queue), and `livestyle-service serve` / `livestyle-service worker` as child processes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../helpers.js';

export const BIN = path.join(REPO_ROOT, 'packages', 'cli', 'bin', 'livestyle.js');
/** The job service's command line (`serve`, `worker`). */
export const SERVICE_BIN = path.join(REPO_ROOT, 'packages', 'service', 'bin', 'livestyle-service.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Stops it (SIGTERM: Redis flushes its append-only file) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Kills it (SIGKILL: no flush) and leaves it down until `start()`. */
  crash(): Promise<void>;
  /** Starts it again on the same port and data (after `crash()`). */
  start(): Promise<void>;
  /** SIGSTOP: connected, but answering nothing until `resume()`. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

async function waitForPing(port: number, timeoutMs = 10000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
    if (r.stdout.trim() === 'PONG') return;
    if (Date.now() > until) throw new Error(`redis-server on port ${port} did not answer`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `persist: false` runs it with neither AOF nor RDB (a restart loses everything). */
export async function startRedis({ persist = true }: { persist?: boolean } = {}): Promise<TestRedis> {
  if (spawnSync('redis-server', ['--version']).status !== 0)
    throw new Error('redis-server is missing: install it (Debian: apt-get install redis-server; see .ci/run)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'livestyle-redis-'));
  const port = await freePort();
  let proc: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        persist ? 'yes' : 'no',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    await waitForPing(port);
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    if (signal === 'SIGKILL') p.kill('SIGCONT');
    p.kill(signal);
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async restart() {
      await stop();
      await start();
    },
    crash: () => stop('SIGKILL'),
    start,
    pause: () => void proc?.kill('SIGSTOP'),
    resume: () => void proc?.kill('SIGCONT'),
    async stop() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code (null: killed by a signal). */
  readonly exit: Promise<number | null>;
  /** Resolves when the process prints a line matching `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
}

/** Starts `livestyle-service <args>` (serve, worker) or, with `bin`, another command line. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}, bin = SERVICE_BIN): CliProcess {
  const child = spawn('node', [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exit,
    waitFor(re, timeoutMs = 60000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = re.exec(out);
          if (m) {
            cleanup();
            resolve(m[0]);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${re} in:\n${out}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        void exit.then((code) => {
          if (!re.test(out)) {
            cleanup();
            reject(new Error(`exited (${code}) before printing ${re}:\n${out}`));
          }
        });
        listeners.add(check);
        check();
      });
    },
  };
}

/** Sends SIGKILL (if still running) and waits for the exit. */
export async function kill(p: CliProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  await p.exit;
}
