/** The job service's parts that need no Redis or ffmpeg: chunk planning, job options, storage sweeping. */
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalStorage } from '../../packages/service/src/storage.js';
import { writeJobRecord } from '../../packages/service/src/job-files.js';
import { fadeWeight, planChunks } from '../../packages/service/src/plan.js';
import {
  DEFAULT_CHUNKING,
  DEFAULT_JOB_OPTIONS,
  JobOptionsError,
  parseJobOptions,
  parseWeights,
} from '../../packages/service/src/config.js';

const settings = { ...DEFAULT_CHUNKING, chunkFrames: 10, warmupFrames: 4, fadeFrames: 3 };
const spans = (chunks: ReturnType<typeof planChunks>): Array<[number, number]> => chunks.map((c) => [c.start, c.end]);

describe('planChunks', () => {
  it('cuts every chunkFrames frames, covering each frame once; warm-up and fades where no scene starts', () => {
    const chunks = planChunks(34, [], settings);
    expect(spans(chunks)).toEqual([
      [0, 10],
      [10, 20],
      [20, 34],
    ]);
    expect(chunks.map((c) => [c.warmupFrames, c.fadeInFrames, c.leadOutFrames])).toEqual([
      [0, 0, 3],
      [4, 3, 3],
      [4, 3, 0],
    ]);
  });

  it('a short tail joins the chunk before; a tail of half a chunk or more is its own', () => {
    expect(spans(planChunks(24, [], settings))).toEqual([
      [0, 10],
      [10, 24],
    ]);
    expect(spans(planChunks(25, [], settings))).toEqual([
      [0, 10],
      [10, 20],
      [20, 25],
    ]);
    expect(spans(planChunks(7, [], settings))).toEqual([[0, 7]]);
  });

  it('moves a boundary to the nearest scene cut within half a chunk; no warm-up or fade into a cut', () => {
    const chunks = planChunks(40, [13, 31], settings);
    expect(spans(chunks)).toEqual([
      [0, 13],
      [13, 23],
      [23, 31],
      [31, 40],
    ]);
    expect(chunks.map((c) => [c.warmupFrames, c.fadeInFrames, c.leadOutFrames])).toEqual([
      [0, 0, 0],
      [0, 0, 3],
      [4, 3, 0],
      [0, 0, 0],
    ]);
    // A cut too far from the nominal boundary is left to the smoother.
    expect(spans(planChunks(30, [3], settings))).toEqual([
      [0, 10],
      [10, 20],
      [20, 30],
    ]);
  });

  it('warm-up never reaches before frame 0 and a fade never outlasts its chunk', () => {
    const chunks = planChunks(12, [], { ...settings, chunkFrames: 3, warmupFrames: 16, fadeFrames: 16 });
    expect(chunks.map((c) => [c.start, c.warmupFrames, c.fadeInFrames])).toEqual([
      [0, 0, 0],
      [3, 3, 3],
      [6, 6, 3],
      [9, 9, 3],
    ]);
    expect(() => planChunks(0, [], settings)).toThrow(/not a positive integer/);
  });

  it('fade weights rise strictly inside (0, 1)', () => {
    expect([0, 1, 2].map((j) => fadeWeight(j, 3))).toEqual([0.25, 0.5, 0.75]);
  });
});

describe('job options', () => {
  it('defaults as documented; the CLI names are accepted', () => {
    expect(parseJobOptions(undefined)).toEqual(DEFAULT_JOB_OPTIONS);
    expect(parseJobOptions('{"preset":"realtime","method":"adain","alpha":0.5,"size":0,"temporal":false,"format":"mp4"}')).toEqual({
      ...DEFAULT_JOB_OPTIONS,
      preset: 'realtime',
      method: 'adain',
      alpha: 0.5,
      size: 0,
      temporal: false,
      format: 'mp4',
    });
  });

  it.each([
    ['[]', /must be a JSON object/],
    ['{"size":16}', /options.size must be 0 or an integer in \[32, 4096\] \(got 16\)/],
    ['{"format":"gif"}', /options.format must be "webm" or "mp4"/],
    ['{"temporal":"yes"}', /options.temporal must be true or false/],
    ['{"preset":"fast"}', /options.preset must be "realtime" \| "balanced" \| "best"/],
    ['{"__proto__":{"x":1}}', /unknown option "__proto__"/],
  ])('%s is refused', (text, message) => {
    expect(() => parseJobOptions(text)).toThrow(JobOptionsError);
    expect(() => parseJobOptions(text)).toThrow(message);
  });

  it('weights: one finite number >= 0 per style, not all 0', () => {
    expect(parseWeights(undefined, 2)).toEqual([1, 1]);
    expect(parseWeights(' 2, 0.5 ', 2)).toEqual([2, 0.5]);
    expect(() => parseWeights('1,,2', 3)).toThrow(/comma-separated numbers/);
    expect(() => parseWeights('1,-1', 2)).toThrow(/comma-separated numbers >= 0/);
    expect(() => parseWeights('NaN', 1)).toThrow(/comma-separated numbers/);
    expect(() => parseWeights('0,0', 2)).toThrow(/all 0/);
    // Each finite, their sum not: refused (it normalised to zeros, a flat grey video, before).
    expect(() => parseWeights('1e308,1e308', 2)).toThrow(/add up to more than the largest number/);
    expect(() => parseWeights('1e309', 1)).toThrow(/comma-separated numbers/);
  });
});

describe('LocalStorage.sweep', () => {
  it('removes old folders of jobs that no longer exist and old uploads; keeps live and recent ones', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'livestyle-sweep-'));
    try {
      const storage = new LocalStorage(root);
      await storage.init();
      const ids = ['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBB', 'CCCCCCCCCCCCCCCCCCCCCC'];
      for (const id of ids) mkdirSync(path.join(storage.jobDir(id), 'frames'), { recursive: true });
      const oldUpload = await storage.createUploadDir();
      const newUpload = await storage.createUploadDir();
      const hourAgo = new Date(Date.now() - 3600_000);
      for (const p of [storage.jobDir(ids[0]!), storage.jobDir(ids[1]!), oldUpload]) utimesSync(p, hourAgo, hourAgo);
      // ids[0]: expired and old; ids[1]: old but its record exists; ids[2]: expired but recent.
      // Jobs with a record on disk: ended long ago (swept), ended just now (kept), not ended and old
      // with no Redis record (kept: reconcile queues it again, never a sweep).
      const rec = { tokenHash: 'a'.repeat(64), format: 'webm' as const, createdAtMs: Date.now() - 7200_000 };
      const [endedOld, endedNew, unended] = ['DDDDDDDDDDDDDDDDDDDDDD', 'EEEEEEEEEEEEEEEEEEEEEE', 'FFFFFFFFFFFFFFFFFFFFFF'];
      for (const id of [endedOld, endedNew, unended]) mkdirSync(storage.jobDir(id), { recursive: true });
      await writeJobRecord(storage.jobDir(endedOld), { ...rec, ended: { state: 'done', finishedAtMs: Date.now() - 3 * 3600_000 } });
      await writeJobRecord(storage.jobDir(endedNew), { ...rec, ended: { state: 'failed', finishedAtMs: Date.now(), error: 'x' } });
      await writeJobRecord(storage.jobDir(unended), rec);
      utimesSync(storage.jobDir(unended), hourAgo, hourAgo);
      const removed = await storage.sweep(async (id) => Promise.resolve(id === ids[1]), 15 * 60_000, 2 * 3600_000);
      expect(removed.sort()).toEqual([`jobs/${ids[0]}`, `jobs/${endedOld}`, `uploads/${path.basename(oldUpload)}`]);
      expect(readdirSync(path.join(root, 'jobs')).sort()).toEqual([ids[1], ids[2], endedNew, unended]);
      expect(readdirSync(path.join(root, 'uploads'))).toEqual([path.basename(newUpload)]);
      expect(() => storage.jobDir('../../etc')).toThrow(/invalid job id/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('job errors as users see them', () => {
  it('carry no server paths, decoder addresses or tool output beyond one line', async () => {
    const { publicError } = await import('../../packages/service/src/worker.js');
    const raw =
      '/srv/livestyle-jobs/jobs/Ab3_x/clip.mp4: scene scan failed ([h264 @ 0x560d9c4c8e40] Invalid NAL unit size (1234 > 567).)\nmore ffmpeg output';
    const shown = publicError('plan', raw);
    expect(shown).toBe('plan: clip.mp4: scene scan failed (Invalid NAL unit size (1234 > 567).)');
    expect(shown).not.toMatch(/\/srv|0x[0-9a-f]|\n/);
    expect(publicError('chunk', 'C:\\jobs\\a\\frames\\frame_000017.png: cannot write (ENOSPC)')).toBe(
      'chunk: frame_000017.png: cannot write (ENOSPC)',
    );
  });
});

describe('cross-site and rebinding guard', () => {
  it('refuses foreign origins on POST/DELETE and non-loopback hosts on a loopback bind', async () => {
    const { guardRequest } = await import('../../packages/service/src/request-guard.js');
    const req = (method: string, headers: Record<string, string>) => ({ method, headers });
    const host = { host: '127.0.0.1:8787' };
    expect(guardRequest(req('POST', host), '127.0.0.1', [])).toBeNull(); // curl: no Origin
    expect(guardRequest(req('POST', { ...host, origin: 'http://127.0.0.1:8787' }), '127.0.0.1', [])).toBeNull(); // its own page
    expect(guardRequest(req('POST', { ...host, origin: 'https://evil.example' }), '127.0.0.1', [])).toMatch(
      /^cross-site request refused \(Origin https:\/\/evil.example\)/,
    );
    expect(guardRequest(req('DELETE', { ...host, origin: 'https://evil.example' }), '127.0.0.1', [])).not.toBeNull();
    expect(guardRequest(req('GET', { ...host, origin: 'https://evil.example' }), '127.0.0.1', [])).toBeNull(); // reads need the token
    expect(guardRequest(req('POST', { ...host, origin: 'https://app.example' }), '127.0.0.1', ['https://app.example'])).toBeNull();
    // DNS rebinding: a loopback-bound server reached under another name.
    expect(guardRequest(req('GET', { host: 'evil.example:8787' }), '127.0.0.1', [])).toMatch(/loopback host/);
    for (const h of ['localhost:8787', '127.0.0.2', '[::1]:8787', 'app.localhost'])
      expect(guardRequest(req('GET', { host: h }), '::1', [])).toBeNull();
    // Bound to all interfaces: any host name.
    expect(guardRequest(req('GET', { host: 'media.example' }), '0.0.0.0', [])).toBeNull();
  });
});
