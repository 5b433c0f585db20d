// @ts-check
// `npm run bench:service`: throughput of the clip job service on this machine. Starts a real Redis
// (Debian's redis-server, free loopback port), `livestyle-service serve` and 1, then 2, `livestyle-service worker`s;
// after one warm-up job per worker, submits N jobs at once and times them until all are done.
// Reports jobs/s, frames/s and the per-frame cost of one worker; writes bench-out/service.json.
// Usage: node scripts/bench-service.js [--jobs N] [--frames F] [--size PX] [--preset P] [--workers 1,2] [--split-threads]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.LIVESTYLE_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const bin = path.join(root, 'packages', 'service', 'bin', 'livestyle-service.js');
const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '6' },
    frames: { type: 'string', default: '48' },
    size: { type: 'string', default: '256' },
    preset: { type: 'string', default: 'realtime' },
    workers: { type: 'string', default: '1,2' },
    'chunk-frames': { type: 'string', default: '24' },
    // Each of N workers on this machine gets cores/N WASM threads (else every worker starts one per core).
    'split-threads': { type: 'boolean', default: false },
  },
});
const jobs = Number(values.jobs);
const frames = Number(values.frames);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'livestyle-bench-service-'));
/** @type {import('node:child_process').ChildProcess[]} */
const children = [];

/** @typedef {{ id: string; token: string }} SubmittedJob */

/** @returns {Promise<number>} */
const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      // Listening on a TCP host and port, so the address is an AddressInfo.
      const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });

/**
 * @param {string} cmd
 * @param {string[]} args
 * @param {RegExp} ready
 * @param {Record<string, string>} [env]
 * @returns {Promise<import('node:child_process').ChildProcess>}
 */
function start(cmd, args, ready, env = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    /** @param {Buffer} d */
    const on = (d) => {
      out += d.toString();
      if (ready.test(out)) resolve(child);
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.on('exit', (code) => reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`)));
  });
}

/**
 * @param {string} base
 * @param {string} clip
 * @param {string} style
 * @returns {Promise<SubmittedJob>}
 */
async function submit(base, clip, style) {
  const form = new FormData();
  form.append('clip', new Blob([readFileSync(clip)]), 'clip.mp4');
  form.append('style', new Blob([readFileSync(style)]), 'style.jpg');
  form.append('options', JSON.stringify({ size: Number(values.size), preset: values.preset, format: 'webm' }));
  const res = await fetch(`${base}/jobs`, { method: 'POST', body: form });
  if (res.status !== 201) throw new Error(`POST /jobs: ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * @param {string} base
 * @param {SubmittedJob} job
 */
async function waitDone(base, job) {
  for (;;) {
    const s = await (await fetch(`${base}/jobs/${job.id}?token=${job.token}`)).json();
    if (s.state === 'done') return;
    if (s.state === 'failed' || s.state === 'cancelled') throw new Error(`job ${job.id}: ${s.state} ${s.error ?? ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const results = [];
try {
  const clip = path.join(tmp, 'clip.mp4');
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-i',
    path.join(shared, 'data', 'video', 'adain_cutbunny', 'cutBunny.mp4'),
    '-frames:v',
    String(frames),
    '-c:v',
    'libx264',
    '-an',
    clip,
  ]);
  const style = path.join(shared, 'data', 'style', 'la_muse.jpg');
  for (const count of values.workers.split(',').map(Number)) {
    const redisPort = await freePort();
    const redis = `redis://127.0.0.1:${redisPort}`;
    const dir = path.join(tmp, `run-${count}`);
    mkdirSync(dir);
    await start(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes'],
      /Ready to accept connections/,
    );
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const storage = path.join(dir, 'storage');
    await start(
      'node',
      [bin, 'serve', '--port', String(port), '--redis', redis, '--storage', storage, '--chunk-frames', values['chunk-frames']],
      /listening on/,
    );
    const threads = values['split-threads'] ? String(Math.max(1, Math.floor(os.cpus().length / count))) : undefined;
    for (let i = 0; i < count; i++)
      await start(
        'node',
        [bin, 'worker', '--redis', redis, '--storage', storage, '--backend', 'wasm'],
        /ready/,
        threads ? { LIVESTYLE_WASM_THREADS: threads } : {},
      );
    // Warm-up: every worker loads its model.
    const warm = await Promise.all(Array.from({ length: count }, () => submit(base, clip, style)));
    for (const j of warm) await waitDone(base, j);
    const t0 = performance.now();
    const batch = await Promise.all(Array.from({ length: jobs }, () => submit(base, clip, style)));
    for (const j of batch) await waitDone(base, j);
    const seconds = (performance.now() - t0) / 1000;
    const r = {
      workers: count,
      wasmThreadsPerWorker: threads ?? process.env.LIVESTYLE_WASM_THREADS ?? 'default (one per core)',
      jobs,
      framesPerJob: frames,
      sizePx: Number(values.size),
      preset: values.preset,
      seconds,
      jobsPerS: jobs / seconds,
      framesPerS: (jobs * frames) / seconds,
    };
    results.push(r);
    console.log(
      `${count} worker(s): ${jobs} jobs x ${frames} frames in ${seconds.toFixed(1)} s: ${r.jobsPerS.toFixed(3)} jobs/s, ${r.framesPerS.toFixed(2)} frames/s`,
    );
    for (const c of children.splice(0)) c.kill('SIGKILL');
  }
} finally {
  for (const c of children) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
}
const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, wasm backend`;
mkdirSync(path.join(root, 'bench-out'), { recursive: true });
writeFileSync(path.join(root, 'bench-out', 'service.json'), JSON.stringify({ date: new Date().toISOString(), machine, results }, null, 2));
console.log(`\n| workers | WASM threads each | jobs/s | frames/s |\n|---|---|---|---|`);
for (const r of results)
  console.log(`| ${r.workers} | ${r.wasmThreadsPerWorker} | ${r.jobsPerS.toFixed(3)} | ${r.framesPerS.toFixed(2)} |`);
console.log(`\n${machine}; ${jobs} jobs of ${frames} frames at ${values.size} px, preset ${values.preset}; wrote bench-out/service.json`);
