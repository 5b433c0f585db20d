/**
 * The job service under hostile and unlucky conditions (issue 31), against a real Redis, ffmpeg and
 * a tmpfs: Redis down or not answering (503 within 5 s), Redis restarted with no persistence (jobs
 * rebuilt from disk), clients that leave, a full disk, a stuck request at shutdown, budgets,
 * truncated clips, DELETE during a plan, flat styles and flat results.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { SHARED } from '../helpers.js';
import { freePort, kill, spawnCli, startRedis, type CliProcess, type TestRedis } from '../support/services.js';
import { countFrames, ffmpeg, getJob, makeToneClip, postJob, storageContents, waitForJob } from '../support/service-client.js';
import { DEFAULT_CHUNKING } from '../../packages/service/src/config.js';
import { parseJobOptions } from '../../packages/service/src/config.js';
import { hashToken } from '../../packages/service/src/jobs.js';
import { writeJobRecord } from '../../packages/service/src/job-files.js';

const BUNNY = path.join(SHARED, 'data', 'video', 'adain_cutbunny', 'cutBunny.mp4');
const STYLE = path.join(SHARED, 'data', 'style', 'la_muse.jpg');
const OPTIONS = JSON.stringify({ size: 48, preset: 'realtime', styleSize: 256, format: 'mp4' });
const QUEUE_UNAVAILABLE = { error: 'queue unavailable, retry later' };

let tmp: string;
const procs: CliProcess[] = [];
const redises: TestRedis[] = [];

function clipOf(name: string, frames: number, width: number): string {
  const out = path.join(tmp, name);
  ffmpeg(['-i', BUNNY, '-frames:v', String(frames), '-vf', `scale=${width}:-2`, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-an', out]);
  return out;
}

interface Service {
  redis: TestRedis;
  storage: string;
  base: string;
  serve: CliProcess;
  worker(extra?: string[]): Promise<CliProcess>;
}

async function startService(opts: { persist?: boolean; storage?: string; serveFlags?: string[] } = {}): Promise<Service> {
  const redis = await startRedis({ persist: opts.persist ?? true });
  redises.push(redis);
  const storage = opts.storage ?? mkdtempSync(path.join(tmp, 'storage-'));
  const port = await freePort();
  const serve = spawnCli([
    'serve',
    '--port',
    String(port),
    '--redis',
    redis.url,
    '--storage',
    storage,
    '--chunk-frames',
    '8',
    ...(opts.serveFlags ?? []),
  ]);
  procs.push(serve);
  await serve.waitFor(/listening on/);
  return {
    redis,
    storage,
    base: `http://127.0.0.1:${port}`,
    serve,
    async worker(extra = []) {
      const w = spawnCli(['worker', '--redis', redis.url, '--storage', storage, '--backend', 'wasm', '--stall-ms', '5000', ...extra]);
      procs.push(w);
      await w.waitFor(/livestyle-service worker \S+: ready/);
      return w;
    },
  };
}

/** Resolves when `check` holds, polling every 100 ms; rejects with `what` after `timeoutMs`. */
async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sends a request's head and `bodyBytes` of a multipart body that claims to be much longer, then waits. */
async function stalledUpload(base: string, bodyBytes: number, chunked: boolean): Promise<net.Socket> {
  const { port } = new URL(base);
  const socket = net.connect(Number(port), '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const boundary = 'xyzzy';
  const head = `--${boundary}\r\ncontent-disposition: form-data; name="clip"; filename="a.mp4"\r\ncontent-type: video/mp4\r\n\r\n`;
  const body = Buffer.concat([Buffer.from(head), Buffer.alloc(bodyBytes, 7)]);
  const length = chunked ? 'transfer-encoding: chunked' : `content-length: ${10 * 1024 * 1024}`;
  socket.write(
    `POST /jobs HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\n${length}\r\n\r\n`,
  );
  socket.write(chunked ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')]) : body);
  socket.on('error', () => undefined);
  return socket;
}

const uploadsOf = (storage: string): string[] => storageContents(storage).filter((f) => f.startsWith('uploads/'));

beforeAll(() => {
  if (spawnSync('ffmpeg', ['-version']).status !== 0) throw new Error('ffmpeg is missing: install it (see .ci/run)');
  tmp = mkdtempSync(path.join(os.tmpdir(), 'livestyle-faults-'));
});

afterAll(async () => {
  for (const p of procs) await kill(p);
  for (const r of redises) await r.stop();
  for (const dir of [path.join(tmp, 'small-disk')]) spawnSync('umount', [dir]);
  rmSync(tmp, { recursive: true, force: true });
});

describe('Redis away', () => {
  it('every request that needs Redis answers 503 within 5 s, down or not answering; the job completes once it is back', async () => {
    const svc = await startService();
    const clip = clipOf('clip8.mp4', 8, 96);
    const job = await postJob(svc.base, { clip: { file: clip }, styles: [{ file: STYLE }], options: OPTIONS });
    expect(job.status).toBe(201);
    const { id, token } = job.body as { id: string; token: string };
    const requests: Array<[string, () => Promise<Response>]> = [
      ['GET /jobs/:id', () => fetch(`${svc.base}/jobs/${id}?token=${token}`)],
      ['GET /events', () => fetch(`${svc.base}/jobs/${id}/events?token=${token}`)],
      ['GET /output', () => fetch(`${svc.base}/jobs/${id}/output?token=${token}`)],
      ['DELETE', () => fetch(`${svc.base}/jobs/${id}?token=${token}`, { method: 'DELETE' })],
    ];
    const timed = async (send: () => Promise<Response>): Promise<{ status: number; body: unknown; ms: number }> => {
      const t0 = performance.now();
      const res = await send();
      return { status: res.status, body: await res.json(), ms: performance.now() - t0 };
    };
    for (const outage of ['down', 'not answering'] as const) {
      if (outage === 'down') await svc.redis.crash();
      else svc.redis.pause();
      const post = () =>
        postJob(svc.base, { clip: { file: clip }, styles: [{ file: STYLE }], options: OPTIONS }) as unknown as Promise<never>;
      for (const [what, send] of [...requests, ['POST /jobs', post] as const]) {
        const r = what === 'POST /jobs' ? await timedPost(post) : await timed(send);
        expect({ what, outage, status: r.status, body: r.body }).toEqual({ what, outage, status: 503, body: QUEUE_UNAVAILABLE });
        expect(r.ms, `${what} with Redis ${outage}`).toBeLessThan(5000);
      }
      if (outage === 'down') await svc.redis.start();
      else svc.redis.resume();
      await eventually(async () => (await getJob(svc.base, id, token)).status === 200, 'serve answers again after Redis is back');
    }
    // Nothing was half-made by the refused POSTs and DELETEs: one job, queued, and it completes.
    expect(storageContents(svc.storage).filter((f) => f.startsWith('jobs/'))).toHaveLength(1);
    await svc.worker();
    const done = await waitForJob(svc.base, id, token, (s) => s.state === 'done');
    expect(done.framesTotal).toBe(8);
    expect(svc.serve.output()).not.toMatch(/internal error|Unhandled|TypeError/);
  }, 180_000);

  it('a POST whose client leaves before its answer is never run: no job, no files, no queue entry', async () => {
    const svc = await startService();
    const clip = clipOf('clip8b.mp4', 8, 96);
    // Redis stops answering after the upload is received; the client gives up; Redis answers again
    // before the command times out, so the job is created, and must then be removed.
    const aborter = new AbortController();
    const gone = postJob(svc.base, { clip: { file: clip }, styles: [{ file: STYLE }], options: OPTIONS }, aborter.signal).catch(
      (e: Error) => e.name,
    );
    await eventually(() => uploadsOf(svc.storage).length > 0, 'the upload started');
    svc.redis.pause();
    await eventually(() => uploadsOf(svc.storage).length === 0, 'the upload became a job folder (record written)', 10_000);
    aborter.abort();
    expect(await gone).toBe('AbortError');
    svc.redis.resume();
    await svc.worker();
    await eventually(() => storageContents(svc.storage).length === 0, 'the abandoned job is removed');
    const keys = spawnSync('redis-cli', ['-p', String(svc.redis.port), '--scan', '--pattern', 'livestyle:job:*'], { encoding: 'utf8' });
    expect(keys.stdout.trim()).toBe('');
    const waiting = spawnSync('redis-cli', ['-p', String(svc.redis.port), '--scan', '--pattern', 'bull:livestyle:plan-*'], {
      encoding: 'utf8',
    });
    expect(waiting.stdout.trim()).toBe('');
  }, 120_000);
});

async function timedPost(post: () => Promise<never>): Promise<{ status: number; body: unknown; ms: number }> {
  const t0 = performance.now();
  const r = (await post()) as unknown as { status: number; body: unknown };
  return { ...r, ms: performance.now() - t0 };
}

describe('Redis without persistence', () => {
  it('serve and worker warn; after a Redis kill -9 every job is rebuilt from disk: done stays done, queued and running complete', async () => {
    const svc = await startService({ persist: false });
    expect(svc.serve.output()).toMatch(/livestyle-service serve: warning: Redis at \S+ keeps nothing on disk/);
    const worker = await svc.worker();
    expect(worker.output()).toMatch(/worker: warning: Redis at \S+ keeps nothing on disk/);
    const submit = async (frames: number): Promise<{ id: string; token: string }> => {
      const r = await postJob(svc.base, {
        clip: { file: clipOf(`np${frames}.mp4`, frames, 96) },
        styles: [{ file: STYLE }],
        options: OPTIONS,
      });
      expect(r.status).toBe(201);
      return r.body as { id: string; token: string };
    };
    const a = await submit(8);
    await waitForJob(svc.base, a.id, a.token, (s) => s.state === 'done');
    const c = await submit(30);
    const b = await submit(12);
    await waitForJob(svc.base, c.id, c.token, (s) => s.framesDone > 0);
    await svc.redis.crash();
    await svc.redis.start(); // empty: no AOF, no RDB
    await svc.serve.waitFor(/Redis is back: \d+ job\(s\) queued again and 1 ended job\(s\) restored from disk/);
    for (const j of [a, b, c]) expect((await getJob(svc.base, j.id, j.token)).status).toBe(200);
    for (const [j, frames] of [
      [a, 8],
      [b, 12],
      [c, 30],
    ] as const) {
      const s = await waitForJob(svc.base, j.id, j.token, (x) => x.state === 'done', 180_000);
      expect(s.framesTotal).toBe(frames);
      const res = await fetch(`${svc.base}/jobs/${j.id}/output?token=${j.token}`);
      expect(res.status).toBe(200);
      const file = path.join(tmp, `np-out-${frames}.mp4`);
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      expect(countFrames(file)).toBe(frames);
    }
    // Every record of an ended job expires (no key without a TTL, chunk counts included).
    const keys = spawnSync('redis-cli', ['-p', String(svc.redis.port), '--scan', '--pattern', 'livestyle:job:*'], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .filter(Boolean);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys)
      expect(Number(spawnSync('redis-cli', ['-p', String(svc.redis.port), 'ttl', k], { encoding: 'utf8' }).stdout), k).toBeGreaterThan(0);
  }, 400_000);
});

describe('Redis that loses its data without dropping the connection, and a misplaced worker', () => {
  it('after FLUSHALL a GET rebuilds the job from its folder at once, and it completes', async () => {
    const svc = await startService();
    const r = await postJob(svc.base, { clip: { file: clipOf('flush8.mp4', 8, 96) }, styles: [{ file: STYLE }], options: OPTIONS });
    expect(r.status).toBe(201);
    const { id, token } = r.body as { id: string; token: string };
    expect(spawnSync('redis-cli', ['-p', String(svc.redis.port), 'flushall'], { encoding: 'utf8' }).stdout.trim()).toBe('OK');
    const again = await getJob(svc.base, id, token);
    expect(again.status).toBe(200);
    expect(again.body['state']).toBe('queued');
    // A wrong token is still a 404 (the folder's token hash is checked).
    expect((await getJob(svc.base, id, 'x'.repeat(32))).status).toBe(404);
    await svc.worker();
    expect((await waitForJob(svc.base, id, token, (s) => s.state === 'done')).framesTotal).toBe(8);
  }, 120_000);

  it("a worker whose --storage is not serve's fails the job visibly, never a silent 404", async () => {
    const svc = await startService();
    const elsewhere = mkdtempSync(path.join(tmp, 'elsewhere-'));
    const w = spawnCli(['worker', '--redis', svc.redis.url, '--storage', elsewhere, '--backend', 'wasm']);
    procs.push(w);
    await w.waitFor(/ready/);
    const r = await postJob(svc.base, { clip: { file: clipOf('lost8.mp4', 8, 96) }, styles: [{ file: STYLE }], options: OPTIONS });
    const { id, token } = r.body as { id: string; token: string };
    const failed = await waitForJob(svc.base, id, token, (s) => s.state === 'failed');
    expect(failed.error).toMatch(
      /^plan: the job's folder is missing from this worker's storage \(\S+\): is --storage the folder serve uses\?$/,
    );
    expect(w.output()).toMatch(new RegExp(`job ${id}: plan failed`));
  }, 120_000);
});

describe('uploads are removed at once', () => {
  it('a client that leaves mid-upload (Content-Length or chunked) leaves no partial file', async () => {
    const svc = await startService();
    for (const chunked of [false, true]) {
      const socket = await stalledUpload(svc.base, 256 * 1024, chunked);
      await eventually(
        () => uploadsOf(svc.storage).some((u) => statSync(path.join(svc.storage, u, 'clip.mp4'), { throwIfNoEntry: false })),
        'the partial clip is on disk',
      );
      socket.destroy();
      await eventually(() => uploadsOf(svc.storage).length === 0, `the partial upload is removed (chunked: ${chunked})`, 5000);
    }
  }, 60_000);

  it('a full disk answers 507 in one line and keeps nothing; SIGTERM with a stuck upload exits within the drain time', async (ctx) => {
    const disk = path.join(tmp, 'small-disk');
    mkdirSync(disk);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk]).status !== 0) {
      ctx.skip('cannot mount a tmpfs here (needs root): the full-disk case is not exercised');
      return;
    }
    const svc = await startService({ storage: disk });
    const big = path.join(tmp, 'big.mp4');
    writeFileSync(big, Buffer.alloc(3 * 1024 * 1024, 1));
    const t0 = performance.now();
    const r = await postJob(svc.base, { clip: { file: big }, styles: [{ file: STYLE }], options: OPTIONS });
    expect(r).toEqual({ status: 507, body: { error: 'the server is out of disk space; try again later' } });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(uploadsOf(disk)).toEqual([]);
    // A request that never finishes does not hold the shutdown: cut after the drain time (10 s).
    const socket = await stalledUpload(svc.base, 64 * 1024, false);
    await eventually(() => uploadsOf(disk).length > 0, 'the stuck upload started');
    const t1 = performance.now();
    svc.serve.child.kill('SIGTERM');
    expect(await svc.serve.exit).toBe(0);
    expect(performance.now() - t1).toBeLessThan(15_000);
    expect(uploadsOf(disk)).toEqual([]);
    socket.destroy();
  }, 90_000);
});

describe('refused at POST, naming the figures', () => {
  let svc: Service;
  beforeAll(async () => {
    svc = await startService({ serveFlags: ['--max-frames', '5000', '--max-megapixels', '30'] });
  });

  it('budgets: frames per job, and frames x output pixels', async () => {
    const fast = path.join(tmp, 'fast.mp4');
    // 30 s at 240 frames/s, 32x32: a 7200-frame job from a small upload.
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=32x32:rate=240', '-t', '30', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', fast]);
    const r1 = await postJob(svc.base, { clip: { file: fast }, styles: [{ file: STYLE }], options: OPTIONS });
    expect(r1).toEqual({ status: 422, body: { error: 'clip has 7200 frames; the limit is 5000 frames per job' } });
    const wide = clipOf('wide100.mp4', 100, 96); // 96x54: at size 512, 910x512
    const r2 = await postJob(svc.base, { clip: { file: wide }, styles: [{ file: STYLE }], options: JSON.stringify({ size: 512 }) });
    expect(r2).toEqual({
      status: 422,
      body: { error: 'the job is 100 frames of 910x512 (47 megapixels); the limit is 30 megapixels per job' },
    });
    expect(uploadsOf(svc.storage)).toEqual([]);
  }, 60_000);

  it('a clip cut short (faststart MP4 to a third, WebM to a half) is refused with 422 at POST', async () => {
    const whole = path.join(tmp, 'whole.mp4');
    ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=96x64:rate=25',
      '-t',
      '4',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      '-movflags',
      '+faststart',
      whole,
    ]);
    const webm = path.join(tmp, 'whole.webm');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=96x64:rate=25', '-t', '4', '-c:v', 'libvpx-vp9', webm]);
    for (const [file, share] of [
      [whole, 1 / 3],
      [webm, 1 / 2],
    ] as const) {
      const data = readFileSync(file);
      const cut = path.join(tmp, `cut${path.extname(file)}`);
      writeFileSync(cut, data.subarray(0, Math.floor(data.length * share)));
      const r = await postJob(svc.base, { clip: { file: cut }, styles: [{ file: STYLE }], options: OPTIONS });
      expect(r.status, JSON.stringify(r.body)).toBe(422);
      expect(String(r.body['error'])).toMatch(/^clip cannot be used: (it is cut short or damaged|its first frame cannot be decoded)/);
      expect(String(r.body['error'])).not.toMatch(/0x[0-9a-f]|\/tmp|@/);
      // The whole file is accepted.
      const ok = await postJob(svc.base, { clip: { file }, styles: [{ file: STYLE }], options: OPTIONS });
      expect(ok.status, JSON.stringify(ok.body)).toBe(201);
      const { id, token } = ok.body as { id: string; token: string };
      expect((await fetch(`${svc.base}/jobs/${id}?token=${token}`, { method: 'DELETE' })).status).toBe(200);
    }
  }, 60_000);

  it('a flat style is refused naming its colour', async () => {
    const black = path.join(tmp, 'black.png');
    await sharp({ create: { width: 640, height: 480, channels: 3, background: '#000000' } })
      .png()
      .toFile(black);
    const r = await postJob(svc.base, { clip: { file: clipOf('c8f.mp4', 8, 96) }, styles: [{ file: black }], options: OPTIONS });
    expect(r).toEqual({
      status: 422,
      body: { error: 'style "black.png" is one flat colour (RGB 0, 0, 0): it has no texture to transfer' },
    });
  }, 60_000);

  it("DELETE during the plan stops the plan's ffmpeg within a second", async () => {
    await svc.worker();
    const long = path.join(tmp, 'long.mp4');
    ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x180:rate=25',
      '-t',
      '160',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      long,
    ]);
    const r = await postJob(svc.base, { clip: { file: long }, styles: [{ file: STYLE }], options: OPTIONS });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const { id, token } = r.body as { id: string; token: string };
    const scanning = (): boolean => spawnSync('pgrep', ['-f', `jobs/${id}/clip.mp4`]).status === 0;
    await eventually(scanning, 'the scene scan started');
    const del = await fetch(`${svc.base}/jobs/${id}?token=${token}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    await eventually(() => !scanning(), "the scan's ffmpeg is gone", 1500);
  }, 120_000);
});

describe('audio through the service', () => {
  it("an mp4 job keeps the clip's audio: 1.0 s in, 1.0 s out (within one AAC frame)", async () => {
    const svc = await startService();
    await svc.worker();
    const clip = makeToneClip(path.join(tmp, 'tone.mp4'), 1);
    const r = await postJob(svc.base, { clip: { file: clip }, styles: [{ file: STYLE }], options: OPTIONS });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const { id, token } = r.body as { id: string; token: string };
    await waitForJob(svc.base, id, token, (s) => s.state === 'done');
    const out = path.join(tmp, 'tone-out.mp4');
    writeFileSync(out, Buffer.from(await (await fetch(`${svc.base}/jobs/${id}/output?token=${token}`)).arrayBuffer()));
    const audioS = (file: string): number =>
      Number(
        spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=duration', '-of', 'csv=p=0', file], {
          encoding: 'utf8',
        }).stdout.trim(),
      );
    expect(Math.abs(audioS(out) - audioS(clip))).toBeLessThanOrEqual(1024 / 44100 + 1e-3);
    expect(countFrames(out)).toBe(25);
  }, 120_000);
});

describe('a flat result is never done', () => {
  it('a job whose frames come out one flat colour from a content that is not fails, saying so', async () => {
    // Made on disk as serve would (the POST refuses a flat style): serve queues it from disk at start.
    const storage = mkdtempSync(path.join(tmp, 'storage-'));
    const id = 'FLATFLATFLATFLATFLATFL';
    const token = 'flat-token-flat-token-flat-token';
    const dir = path.join(storage, 'jobs', id);
    mkdirSync(dir, { recursive: true });
    copyFileSync(clipOf('flat8.mp4', 8, 96), path.join(dir, 'clip.mp4'));
    await sharp({ create: { width: 256, height: 256, channels: 3, background: '#000000' } })
      .png()
      .toFile(path.join(dir, 'style-0.png'));
    // `balanced` decodes a flat style to an exactly flat image (range 1e-5; `realtime`'s is 2/255).
    const spec = {
      clip: 'clip.mp4',
      styles: [{ file: 'style-0.png', weight: 1 }],
      options: parseJobOptions(JSON.stringify({ size: 48, preset: 'balanced', styleSize: 256, format: 'mp4' })),
      chunking: DEFAULT_CHUNKING,
      fps: 25,
    };
    writeFileSync(path.join(dir, 'job.json'), JSON.stringify(spec));
    await writeJobRecord(dir, { tokenHash: hashToken(token), format: 'mp4', createdAtMs: Date.now() });
    const svc = await startService({ storage });
    await svc.worker();
    const failed = await waitForJob(svc.base, id, token, (s) => s.state === 'failed');
    expect(failed.error).toMatch(/^chunk: frame \d+: the output is one flat colour from a content that is not/);
    // Its files go right after the failure is recorded; the record (with the error) stays.
    await eventually(() => storageContents(storage).join() === `jobs/${id}: record.json`, 'only the record is left', 10_000);
  }, 120_000);
});
