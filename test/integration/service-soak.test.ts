/**
 * A bounded soak of the job service (issue 31): 200 small jobs from 4 concurrent clients against 2
 * workers, with a Redis restart and a worker killed (SIGKILL) in the middle. Every job ends done with
 * its exact frame count; nothing is left on disk but each job's output and its small records; the
 * surviving worker's tensors stay flat and its RSS bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { SHARED } from '../helpers.js';
import { freePort, kill, spawnCli, startRedis, type CliProcess, type TestRedis } from '../support/services.js';
import { countFrames, ffmpeg, postJob, storageContents, waitForJob } from '../support/service-client.js';

const BUNNY = path.join(SHARED, 'data', 'video', 'adain_cutbunny', 'cutBunny.mp4');
const STYLE = path.join(SHARED, 'data', 'style', 'la_muse.jpg');
const JOBS = 200;
const CLIENTS = 4;
const FRAMES = 3;
const OPTIONS = JSON.stringify({ size: 0, preset: 'realtime', styleSize: 128, format: 'mp4' });

let tmp: string;
let redis: TestRedis;
let storage: string;
let base: string;
const procs: CliProcess[] = [];

async function startWorker(): Promise<{ proc: CliProcess; id: string }> {
  const proc = spawnCli(['worker', '--redis', redis.url, '--storage', storage, '--backend', 'wasm', '--stall-ms', '10000', '--quiet']);
  procs.push(proc);
  const line = await proc.waitFor(/livestyle-service worker \S+: ready/);
  return { proc, id: /worker (\S+): ready/.exec(line)![1]! };
}

async function workerStats(id: string): Promise<Record<string, number>> {
  const r = new Redis(redis.url);
  try {
    return Object.fromEntries(Object.entries(await r.hgetall(`livestyle:worker:${id}`)).map(([k, v]) => [k, Number(v)]));
  } finally {
    r.disconnect();
  }
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'livestyle-soak-'));
  storage = path.join(tmp, 'storage');
  redis = await startRedis();
  const port = await freePort();
  const serve = spawnCli(['serve', '--port', String(port), '--redis', redis.url, '--storage', storage]);
  procs.push(serve);
  await serve.waitFor(/listening on/);
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const p of procs) await kill(p);
  await redis?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('soak', () => {
  it(`${JOBS} jobs from ${CLIENTS} clients, 2 workers, a Redis restart and a worker kill: all done, exact frames, nothing left over`, async () => {
    const clip = path.join(tmp, 'clip.mp4');
    ffmpeg(['-i', BUNNY, '-frames:v', String(FRAMES), '-vf', 'scale=32:-2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-an', clip]);
    const doomed = await startWorker();
    const survivor = await startWorker();
    const jobs: Array<{ id: string; token: string }> = [];
    let submitted = 0;
    let faultsDone: Promise<void> = Promise.resolve();
    let warm: Record<string, number> | null = null;
    const faults = async (): Promise<void> => {
      await redis.restart();
      doomed.proc.child.kill('SIGKILL');
      await startWorker();
    };
    // Each client submits its share one after another, waiting for each to finish (as a user would).
    const client = async (): Promise<void> => {
      while (submitted < JOBS) {
        submitted++;
        if (submitted === JOBS / 2) faultsDone = faults();
        let r = await postJob(base, { clip: { file: clip }, styles: [{ file: STYLE }], options: OPTIONS });
        // During the Redis restart the service answers 503: a client retries, as the answer says.
        while (r.status === 503) {
          await new Promise((res) => setTimeout(res, 500));
          r = await postJob(base, { clip: { file: clip }, styles: [{ file: STYLE }], options: OPTIONS });
        }
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        const job = r.body as { id: string; token: string };
        jobs.push(job);
        const s = await waitForJob(base, job.id, job.token, (x) => x.state === 'done', 300_000);
        expect(s.framesTotal).toBe(FRAMES);
        // The first job to finish once 20 are submitted takes the warm snapshot (an exact count can be
        // skipped: two clients may finish before either submits again).
        if (warm === null && jobs.length >= 20) warm = await workerStats(survivor.id);
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, () => client()));
    await faultsDone;
    expect(jobs).toHaveLength(JOBS);
    // Exact frame counts in every output.
    for (const [i, j] of jobs.entries()) {
      const res = await fetch(`${base}/jobs/${j.id}/output?token=${j.token}`);
      expect(res.status).toBe(200);
      const file = path.join(tmp, `out-${i % 4}.mp4`);
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      expect(countFrames(file), j.id).toBe(FRAMES);
    }
    // Nothing on disk but each job's output and its records.
    expect(readdirSync(path.join(storage, 'uploads'))).toEqual([]);
    const folders = storageContents(storage).filter((f) => f.startsWith('jobs/'));
    expect(folders).toHaveLength(JOBS);
    for (const f of folders) expect(f).toMatch(/^jobs\/\S+: job\.json output\.mp4 record\.json$/);
    const end = await workerStats(survivor.id);
    console.log(
      `soak: survivor tensors ${warm!['numTensors']} -> ${end['numTensors']}, rss ${(warm!['rssBytes']! / 2 ** 20).toFixed(0)} -> ${(end['rssBytes']! / 2 ** 20).toFixed(0)} MiB, jobs ${warm!['jobs']} -> ${end['jobs']}`,
    );
    expect(end['numTensors']).toBe(warm!['numTensors']);
    expect(end['rssBytes']! - warm!['rssBytes']!).toBeLessThan(150 * 2 ** 20);
  }, 1_500_000);
});
