/**
 * The clip job service (`livestyle-service serve` + `livestyle-service worker`) against a real Redis (Debian's
 * redis-server on a free loopback port, AOF on) and real ffmpeg: uploads and their refusals, tokens,
 * progress events, chunked stylisation, a worker killed mid-chunk, a Redis restart mid-job,
 * cancellation, graceful worker shutdown, 20 jobs against 2 workers, and the page in Chromium.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, SHARED } from '../helpers.js';
import { freePort, kill, spawnCli, startRedis, type CliProcess, type TestRedis } from '../support/services.js';

const BUNNY = path.join(SHARED, 'data', 'video', 'adain_cutbunny', 'cutBunny.mp4');
const STYLE = path.join(SHARED, 'data', 'style', 'la_muse.jpg');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Stall interval of the test workers: a killed worker's chunk moves on after about this. */
const STALL_MS = 5000;
const OPTIONS = JSON.stringify({ size: 48, preset: 'realtime', styleSize: 256, format: 'mp4' });

let tmp: string;
let redis: TestRedis;
let storage: string;
let server: CliProcess;
let base: string;
const workers: CliProcess[] = [];

function ffmpeg(args: string[]): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr}`);
}

/** The first `frames` frames of the bunny clip at `width` px wide, H.264 with no audio. */
function makeClip(name: string, frames: number, width: number): string {
  const out = path.join(tmp, name);
  ffmpeg(['-i', BUNNY, '-frames:v', String(frames), '-vf', `scale=${width}:-2`, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-an', out]);
  return out;
}

/** One MD5 per decoded frame (ffmpeg's framemd5 muxer). */
function frameHashes(file: string): string[] {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:v:0', '-f', 'framemd5', '-'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').pop()!.trim());
}

interface Upload {
  clip?: { file: string; name?: string; type?: string };
  styles?: Array<{ file: string; name?: string }>;
  styleIds?: string[];
  weights?: string;
  options?: string;
  extra?: Record<string, string>;
}

async function post(upload: Upload, at = base): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new FormData();
  if (upload.clip)
    form.append(
      'clip',
      new Blob([readFileSync(upload.clip.file)], { type: upload.clip.type ?? 'video/mp4' }),
      upload.clip.name ?? path.basename(upload.clip.file),
    );
  for (const s of upload.styles ?? [])
    form.append('style', new Blob([readFileSync(s.file)], { type: 'image/jpeg' }), s.name ?? path.basename(s.file));
  for (const id of upload.styleIds ?? []) form.append('styleId', id);
  if (upload.weights !== undefined) form.append('weights', upload.weights);
  if (upload.options !== undefined) form.append('options', upload.options);
  for (const [k, v] of Object.entries(upload.extra ?? {})) form.append(k, v);
  const res = await fetch(`${at}/jobs`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

interface Status {
  state: string;
  framesDone: number;
  framesTotal: number;
  fps: number;
  etaSeconds: number | null;
  error?: string;
}

async function status(id: string, token: string): Promise<Status> {
  const res = await fetch(`${base}/jobs/${id}?token=${encodeURIComponent(token)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Status;
}

async function waitFor(id: string, token: string, until: (s: Status) => boolean, timeoutMs = 120_000): Promise<Status> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    // While Redis restarts the service answers 503 (queue unavailable, retry later): a client retries.
    const res = await fetch(`${base}/jobs/${id}?token=${encodeURIComponent(token)}`);
    if (res.status === 503 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    expect(res.status).toBe(200);
    const s = (await res.json()) as Status;
    if (until(s)) return s;
    if (['failed', 'cancelled'].includes(s.state) && !until(s)) throw new Error(`job ${id} ended ${s.state}: ${s.error ?? ''}`);
    if (Date.now() > end) throw new Error(`job ${id} still ${JSON.stringify(s)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function submit(clip: string, options = OPTIONS): Promise<{ id: string; token: string }> {
  let r = await post({ clip: { file: clip }, styles: [{ file: STYLE }], options });
  // Just after a Redis restart the service may answer 503 for a moment: a client retries.
  for (let i = 0; r.status === 503 && i < 50; i++) {
    await new Promise((res) => setTimeout(res, 200));
    r = await post({ clip: { file: clip }, styles: [{ file: STYLE }], options });
  }
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { id: string; token: string };
}

async function output(id: string, token: string, name: string): Promise<string> {
  const res = await fetch(`${base}/jobs/${id}/output?token=${token}`);
  expect(res.status).toBe(200);
  const file = path.join(tmp, name);
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  return file;
}

/** `livestyle-service serve` on `port` against the test Redis and storage. */
function spawnServe(port: number, extra: string[]): CliProcess {
  return spawnCli(['serve', '--port', String(port), '--redis', redis.url, '--storage', storage, ...extra]);
}

async function startWorker(extra: string[] = []): Promise<CliProcess> {
  const w = spawnCli(['worker', '--redis', redis.url, '--storage', storage, '--backend', 'wasm', '--stall-ms', String(STALL_MS), ...extra]);
  workers.push(w);
  await w.waitFor(/livestyle-service worker \S+: ready/);
  return w;
}

const leftovers = (): string[] => [
  ...readdirSync(path.join(storage, 'uploads')).map((f) => `uploads/${f}`),
  ...readdirSync(path.join(storage, 'jobs')).map((f) => `jobs/${f}`),
];

let clip8: string;
let clip12: string;
let clip30: string;

beforeAll(async () => {
  if (spawnSync('ffmpeg', ['-version']).status !== 0) throw new Error('ffmpeg is missing: install it (see .ci/run)');
  tmp = mkdtempSync(path.join(os.tmpdir(), 'livestyle-service-'));
  storage = path.join(tmp, 'storage');
  redis = await startRedis();
  clip8 = makeClip('clip8.mp4', 8, 96);
  clip12 = makeClip('clip12.mp4', 12, 96);
  clip30 = makeClip('clip30.mp4', 30, 96);
  const port = await freePort();
  server = spawnServe(port, ['--chunk-frames', '8', '--warmup-frames', '4', '--fade-frames', '4']);
  await server.waitFor(/listening on (\S+)/);
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const w of workers) await kill(w);
  if (server) await kill(server, 'SIGTERM');
  await redis?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('livestyle-service serve: uploads', () => {
  it('refuses bad uploads with one clear 4xx message and leaves no files', async () => {
    const text = path.join(tmp, 'notes.mp4');
    writeFileSync(text, 'this is not a video\n'.repeat(50));
    const svg = path.join(tmp, 'style.svg');
    writeFileSync(svg, '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>');
    const noVideo = path.join(tmp, 'sound.mp4');
    ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', noVideo]);
    const cases: Array<[Upload, number, RegExp]> = [
      [{ clip: { file: text }, styles: [{ file: STYLE }] }, 415, /clip is not a readable video/],
      [{ clip: { file: clip12, name: 'clip.txt' }, styles: [{ file: STYLE }] }, 415, /not a video file/],
      [{ clip: { file: noVideo }, styles: [{ file: STYLE }] }, 415, /no video stream/],
      [{ clip: { file: clip12 }, styles: [{ file: text, name: 'style.jpg' }] }, 415, /style "style.jpg" is not an image/],
      [
        { clip: { file: clip12 }, styles: [{ file: svg, name: 'style.svg' }] },
        415,
        /style "style.svg" is not an image \(JPEG, PNG or WebP\)/,
      ],
      [{ clip: { file: clip12 }, styles: [{ file: STYLE }], options: '{"sise":64}' }, 400, /unknown option "sise"/],
      [{ clip: { file: clip12 }, styles: [{ file: STYLE }], options: '{"alpha":2}' }, 400, /options.alpha must be a number in \[0, 1\]/],
      [{ clip: { file: clip12 }, styles: [{ file: STYLE }], options: 'not json' }, 400, /options is not valid JSON/],
      [{ clip: { file: clip12 }, styles: [{ file: STYLE }], weights: '1,2' }, 400, /weights gives 2 numbers for 1 style/],
      [
        { clip: { file: clip12 }, styles: [{ file: STYLE }, { file: STYLE }], weights: '1e308,1e308' },
        400,
        /weights "1e308,1e308" add up to more than the largest number/,
      ],
      // Over the 64 KiB field limit: refused, not cut short and read.
      [
        { clip: { file: clip12 }, styles: [{ file: STYLE }], options: `{"alpha":1${' '.repeat(70 * 1024)}}` },
        413,
        /field "options" is larger than the limit of 65536 bytes/,
      ],
      [{ clip: { file: clip12 }, styleIds: ['no_such_style'] }, 400, /styleId "no_such_style" is not a built-in style/],
      [{ clip: { file: clip12, name: '../../x.mp4' }, styles: [{ file: STYLE }] }, 400, /not a plain file name/],
      [{ clip: { file: clip12 }, styles: [{ file: STYLE, name: '../../x.jpg' }] }, 400, /not a plain file name/],
      [{ clip: { file: clip12 } }, 400, /no style/],
      [{ styles: [{ file: STYLE }] }, 400, /no clip/],
      [{ clip: { file: clip12 }, styles: [{ file: STYLE }], extra: { sneaky: '1' } }, 400, /unknown field "sneaky"/],
    ];
    for (const [upload, code, message] of cases) {
      const r = await post(upload);
      expect([r.status, r.body.error], JSON.stringify(upload)).toEqual([code, expect.stringMatching(message)]);
      expect(Object.keys(r.body)).toEqual(['error']);
    }
    // A cross-site form post and a rebound host name: 403, before the body is read.
    const foreign = await fetch(`${base}/jobs`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
      body: 'x',
    });
    expect([foreign.status, ((await foreign.json()) as { error: string }).error]).toEqual([
      403,
      expect.stringMatching(/^cross-site request refused/),
    ]);
    // Bodies that are not valid multipart: 400 with one line, not 500.
    const malformed: Array<[string, string]> = [
      ['multipart/form-data', '--x\r\nContent-Disposition: form-data; name="options"\r\n\r\n{}\r\n--x--\r\n'], // no boundary
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="options"\r\n\r\n{"al'], // cut short
    ];
    for (const [type, body] of malformed) {
      const r = await fetch(`${base}/jobs`, { method: 'POST', headers: { 'content-type': type }, body });
      expect([type, r.status, ((await r.json()) as { error: string }).error]).toEqual([
        type,
        400,
        expect.stringMatching(/^the body is not valid multipart\/form-data \(/),
      ]);
    }
    expect(leftovers()).toEqual([]);
  });

  it('refuses clips over the configured limits (bytes, resolution, duration) and zero-frame clips', async () => {
    const port = await freePort();
    const strict = spawnServe(port, ['--max-clip-mb', '1', '--max-side', '80', '--max-duration', '2']);
    try {
      await strict.waitFor(/listening on/);
      const at = `http://127.0.0.1:${port}`;
      const big = path.join(tmp, 'big.mp4');
      writeFileSync(big, Buffer.alloc(1.5 * 1024 * 1024, 7));
      const small = makeClip('small72.mp4', 72, 64); // 3 s at 24 fps, 64 px wide
      const empty = path.join(tmp, 'empty.mp4');
      ffmpeg(['-f', 'lavfi', '-i', 'color=c=red:s=64x64:d=1', '-frames:v', '0', '-c:v', 'libx264', empty]);
      const fast = path.join(tmp, 'fast.mp4');
      ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=32x32:rate=300', '-frames:v', '10', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', fast]);
      const short = makeClip('short24.mp4', 24, 64); // 1 s, 64x36
      const cases: Array<[string, string | undefined, number, RegExp]> = [
        [big, undefined, 413, /larger than the limit of 1048576 bytes/],
        [clip12, undefined, 422, /clip is 96x54; the limit is 80 px on the longer side/],
        [small, undefined, 422, /clip is 3\.0 s long; the limit is 2 s/],
        [fast, undefined, 422, /clip is 300\.0 frames\/s; the limit is 240/],
        // A small clip scaled up is as much work as a large one.
        [short, '{"size":48}', 422, /options.size 48 makes the output 85 px on its longer side; the limit is 80 px/],
        // ffmpeg writes no video stream for a clip of zero frames.
        [empty, undefined, 415, /clip is not a readable video \(no video stream\)/],
      ];
      for (const [file, options, code, message] of cases) {
        const r = await post({ clip: { file }, styles: [{ file: STYLE }], ...(options ? { options } : {}) }, at);
        expect([r.status, r.body.error], file).toEqual([code, expect.stringMatching(message)]);
      }
      expect(leftovers()).toEqual([]);
    } finally {
      await kill(strict, 'SIGTERM');
    }
  });

  it('serve and worker say how to start Redis when none answers, and exit 1', async () => {
    const port = await freePort(); // nothing listens there
    for (const command of ['serve', 'worker']) {
      const p = spawnCli(
        [command, '--redis', `redis://127.0.0.1:${port}`, '--storage', storage, '--port', '0'].slice(0, command === 'serve' ? 7 : 5),
      );
      expect(await p.exit).toBe(1);
      expect(p.output()).toMatch(
        new RegExp(
          `livestyle-service: error: no Redis answers at redis://127\\.0\\.0\\.1:${port} .*Start one: \`redis-server --appendonly yes\``,
        ),
      );
    }
  });

  it('answers 404 without the right token, for every job URL; ids and tokens are long and random', async () => {
    const a = await submit(clip12);
    const b = await submit(clip12);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(a.id).not.toBe(b.id);
    for (const url of [
      `/jobs/${a.id}`,
      `/jobs/${a.id}?token=${b.token}`,
      `/jobs/${a.id}/events?token=x`,
      `/jobs/${a.id}/output?token=${b.token}`,
      `/jobs/nope?token=${a.token}`,
    ]) {
      const res = await fetch(base + url);
      expect([url, res.status, await res.json()]).toEqual([url, 404, { error: 'no such job' }]);
    }
    const del = await fetch(`${base}/jobs/${a.id}?token=${b.token}`, { method: 'DELETE' });
    expect(del.status).toBe(404);
    // The status needs no worker: both are queued. The token may come as a bearer token.
    expect((await status(a.id, a.token)).state).toBe('queued');
    // Auth schemes are case-insensitive (RFC 9110, section 11.1).
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const bearer = await fetch(`${base}/jobs/${a.id}`, { headers: { authorization: `${scheme} ${a.token}` } });
      expect([scheme, bearer.status, ((await bearer.json()) as Status).state]).toEqual([scheme, 200, 'queued']);
    }
    for (const j of [a, b]) expect((await fetch(`${base}/jobs/${j.id}?token=${j.token}`, { method: 'DELETE' })).status).toBe(200);
    expect(leftovers()).toEqual([]);
  });
});

describe('livestyle-service worker: jobs', () => {
  /** Frame hashes of clip30 stylised by one worker, uninterrupted. */
  let reference: string[] = [];

  afterEach(async () => {
    for (const w of workers.splice(0)) await kill(w);
  });

  const jobDir = (id: string): string => path.join(storage, 'jobs', id);

  it('stylises a clip in chunks with progress as server-sent events; the output has every frame', async () => {
    await startWorker();
    const job = await submit(clip30);
    const res = await fetch(`${base}/jobs/${job.id}/events?token=${job.token}`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    // The stream ends when the job does.
    const events = (await res.text())
      .split('\n\n')
      .filter((e) => e.startsWith('event: status'))
      .map((e) => JSON.parse(e.split('data: ')[1]!) as Status);
    const last = events.at(-1)!;
    expect([last.state, last.framesDone, last.framesTotal, last.etaSeconds, Object.keys(last).sort()]).toEqual([
      'done',
      30,
      30,
      0,
      ['etaSeconds', 'fps', 'framesDone', 'framesTotal', 'state'],
    ]);
    expect(last.fps).toBeGreaterThan(0);
    const partial = events.filter((e) => e.state === 'running' && e.framesDone > 0 && e.framesDone < 30);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.every((e) => e.fps > 0 && e.etaSeconds !== null && e.etaSeconds > 0)).toBe(true);
    const done = events.map((e) => e.framesDone);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    const out = await output(job.id, job.token, 'reference.mp4');
    reference = frameHashes(out);
    expect(reference).toHaveLength(30);
    expect(new Set(reference).size).toBe(30);
    // A done job keeps its output and its records; the clip, styles and frames are gone.
    expect(readdirSync(jobDir(job.id)).sort()).toEqual(['job.json', 'output.mp4', 'record.json']);
    const del = await fetch(`${base}/jobs/${job.id}?token=${job.token}`, { method: 'DELETE' });
    expect(await del.json()).toEqual({ state: 'done', removed: true });
    expect(existsSync(jobDir(job.id))).toBe(false);
    expect((await fetch(`${base}/jobs/${job.id}?token=${job.token}`)).status).toBe(404);
  });

  it('a worker killed with SIGKILL mid-chunk: another takes the chunk after the stall interval; every frame exactly once', async () => {
    expect(reference).toHaveLength(30);
    const job = await submit(clip30);
    const first = await startWorker();
    await waitFor(job.id, job.token, (s) => s.framesDone >= 2);
    await kill(first);
    expect((await status(job.id, job.token)).framesDone).toBeLessThan(30);
    await startWorker();
    await waitFor(job.id, job.token, (s) => s.state === 'done');
    expect(frameHashes(await output(job.id, job.token, 'killed.mp4'))).toEqual(reference);
  });

  it('Redis restarted mid-job (append-only file on): the job completes with every frame', async () => {
    await startWorker();
    const job = await submit(clip30);
    await waitFor(job.id, job.token, (s) => s.framesDone >= 2);
    await redis.restart();
    await waitFor(job.id, job.token, (s) => s.state === 'done', 180_000);
    expect(frameHashes(await output(job.id, job.token, 'restarted.mp4'))).toEqual(reference);
  });

  it('SIGTERM: the worker finishes its chunk and exits 0; another worker completes the job', async () => {
    const job = await submit(clip30);
    const first = await startWorker();
    await waitFor(job.id, job.token, (s) => s.framesDone >= 1);
    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    // Chunks are 8 frames: the one in progress was finished, not cut short.
    expect([8, 16, 24, 30]).toContain((await status(job.id, job.token)).framesDone);
    await startWorker();
    await waitFor(job.id, job.token, (s) => s.state === 'done');
    expect(frameHashes(await output(job.id, job.token, 'sigterm.mp4'))).toEqual(reference);
  });

  it('DELETE of a running job stops its chunks within seconds and removes its files', async () => {
    const long = makeClip('clip60.mp4', 60, 96);
    await startWorker();
    const job = await submit(long);
    await waitFor(job.id, job.token, (s) => s.framesDone >= 2);
    const del = await fetch(`${base}/jobs/${job.id}?token=${job.token}`, { method: 'DELETE' });
    expect([del.status, await del.json()]).toEqual([200, { state: 'cancelled', removed: true }]);
    expect(existsSync(jobDir(job.id))).toBe(false);
    const queue = new Queue('livestyle', { connection: new Redis(redis.url, { maxRetriesPerRequest: null }) });
    const ofJob = async (states: Parameters<Queue['getJobs']>[0]): Promise<string[]> =>
      (await queue.getJobs(states)).filter((j) => (j.data as { jobId?: string }).jobId === job.id).map((j) => String(j.id));
    // At once: nothing of it waits in the queue (the running chunk stops at its next frame).
    expect(await ofJob(['waiting', 'delayed', 'prioritized'])).toEqual([]);
    // The stitch waits for the locked chunk, which fails as cancelled at its next frame.
    expect((await ofJob(['waiting-children'])).filter((j) => j !== `stitch-${job.id}`)).toEqual([]);
    await new Promise((r) => setTimeout(r, 3000));
    const a = await status(job.id, job.token);
    await new Promise((r) => setTimeout(r, 1500));
    const b = await status(job.id, job.token);
    expect(a.state).toBe('cancelled');
    expect(b.framesDone).toBe(a.framesDone);
    expect(a.framesDone).toBeLessThan(60);
    try {
      expect(await ofJob(['active', 'waiting', 'delayed', 'waiting-children', 'prioritized'])).toEqual([]);
    } finally {
      await queue.close();
      await (await queue.client).quit();
    }
    expect(existsSync(jobDir(job.id))).toBe(false);
    // The worker goes on with other jobs.
    const next = await submit(clip12);
    await waitFor(next.id, next.token, (s) => s.state === 'done');
  });

  it('20 jobs at once against 2 workers: all complete; tensors and RSS of the workers stay flat', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push(/worker (\S+): ready/.exec(await (await startWorker()).waitFor(/worker \S+: ready/))![1]!);
    const stats = async (): Promise<Array<Record<string, number>>> => {
      const r = new Redis(redis.url);
      try {
        return await Promise.all(
          ids.map(async (id) =>
            Object.fromEntries(Object.entries(await r.hgetall(`livestyle:worker:${id}`)).map(([k, v]) => [k, Number(v)])),
          ),
        );
      } finally {
        r.disconnect();
      }
    };
    // Warm-up: both workers load their model and style.
    const warm = await Promise.all([0, 1, 2, 3].map(() => submit(clip12)));
    for (const j of warm) await waitFor(j.id, j.token, (s) => s.state === 'done');
    const before = await stats();
    const t0 = performance.now();
    const jobs = await Promise.all(Array.from({ length: 20 }, () => submit(clip8)));
    for (const j of jobs) await waitFor(j.id, j.token, (s) => s.state === 'done', 300_000);
    const seconds = (performance.now() - t0) / 1000;
    const after = await stats();
    for (const j of jobs.slice(0, 3)) expect(frameHashes(await output(j.id, j.token, `batch-${j.id}.mp4`))).toHaveLength(8);
    console.log(`20 jobs x 8 frames, 2 workers: ${(20 / seconds).toFixed(2)} jobs/s, ${((20 * 8) / seconds).toFixed(1)} frames/s`);
    for (const [i, a] of after.entries()) {
      const b = before[i]!;
      console.log(
        `worker ${ids[i]}: tensors ${b['numTensors']} -> ${a['numTensors']}, rss ${(b['rssBytes']! / 2 ** 20).toFixed(0)} -> ${(a['rssBytes']! / 2 ** 20).toFixed(0)} MiB, jobs ${b['jobs']} -> ${a['jobs']}`,
      );
      expect(a['jobs']).toBeGreaterThan(b['jobs']!);
      expect(a['numTensors']).toBe(b['numTensors']);
      expect(a['numBytes']).toBe(b['numBytes']);
      expect(a['rssBytes']! - b['rssBytes']!).toBeLessThan(120 * 2 ** 20);
    }
  }, 400_000);

  it("the page at / uploads a clip with the mixer's style, follows progress and offers the download", async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (see .ci/run)`);
    await startWorker();
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    try {
      const page = await browser.newPage();
      await page.goto(`${base}/`);
      await page.waitForFunction(
        () => (document.getElementById('mixer') as unknown as { settings: { styles: unknown[] } }).settings.styles.length > 0,
      );
      await page.setInputFiles('#clip', clip12);
      await page.selectOption('#size', '256');
      await page.click('#submit');
      await page.waitForSelector('#download:not([hidden])', { timeout: 180_000 });
      expect(await page.textContent('#status')).toMatch(/^done: 12 of 12 frames/);
      const href = await page.getAttribute('#download', 'href');
      const res = await fetch(new URL(href!, base));
      expect([res.status, res.headers.get('content-type')]).toEqual([200, 'video/webm']);
      const file = path.join(tmp, 'page.webm');
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      expect(frameHashes(file)).toHaveLength(12);
      expect(await page.textContent('#error')).toBe('');
    } finally {
      await browser.close();
    }
  }, 240_000);
});
