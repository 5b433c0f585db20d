// captureStream of <livestyle-camera> and <livestyle-video> in Debian's headless Chromium
// (playwright-core): the stylised stream goes through a real RTCPeerConnection (two in one page,
// loopback), a stream taken before the camera starts carries frames once it does, stopping or
// removing an element ends its streams, and the video element's stream carries the clip's audio.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServer, type ViteDevServer } from 'vite';
import type { Browser, Page } from 'playwright-core';
import { REPO_ROOT, SHARED } from '../helpers.js';
import { launchWithFakeCamera, requireChromium, stillCameraClip } from '../support/browser.js';
import { meanAbsDiff, waitFrames } from '../e2e/page.js';
import type { StreamInfo } from '../browser/capture-stream.js';

/** Side of the comparison picture: small, so codec detail and sub-pixel scaling barely count. */
const COMPARE_W = 32;
const COMPARE_H = 24;
/**
 * Received vs the element's canvas, mean |difference| in [0, 1] at 32x24 (VP8, Chromium's choice, through the loopback; the
 * stylised still converges, so the lag between the two barely matters): measured 0.0052–0.013 in six
 * runs on this machine and 0.021 once (a single early sample, before the codec's bit rate ramped up);
 * 0.04 leaves room for the codec while staying far below the stylisation's effect (0.22).
 */
const MATCH_TOLERANCE = 0.04;
/** Received vs the raw camera frame: the stylisation measured 0.221 in every run (starry_night, realtime, 64 px). */
const STYLISED_MIN_DIFF = 0.08;

let work: string;
let server: ViteDevServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args], { stdio: 'pipe' });
}

beforeAll(async () => {
  requireChromium();
  work = mkdtempSync(path.join(os.tmpdir(), 'livestyle-capture-'));
  // The fake camera: a still photo, so the stylised output settles and is comparable across the link.
  const clip = stillCameraClip(path.join(SHARED, 'data', 'content', 'golden_gate.jpg'), path.join(work, 'camera.y4m'));
  // A clip with sound (a 440 Hz tone) for the video element.
  ffmpeg(
    ['-f', 'lavfi', '-i', 'testsrc=size=96x64:rate=10:duration=3', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=3'].concat([
      '-c:v',
      'libvpx',
      '-b:v',
      '300k',
      '-c:a',
      'libopus',
      '-shortest',
      path.join(work, 'clip.webm'),
    ]),
  );
  // The config's demo plugin serves /models/ (from $LIVESTYLE_MODELS_DIR) and /styles/.
  server = await createServer({
    configFile: path.join(REPO_ROOT, 'vite.config.ts'),
    root: REPO_ROOT,
    logLevel: 'error',
    server: { port: 0, host: '127.0.0.1' },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('no server address');
  browser = await launchWithFakeCamera(clip, ['--autoplay-policy=no-user-gesture-required']);
  page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.route('**/clip.webm', (route) =>
    route.fulfill({ body: readFileSync(path.join(work, 'clip.webm')), contentType: 'video/webm' }),
  );
  await page.goto(`http://127.0.0.1:${address.port}/test/browser/capture-stream.html`);
  await page.waitForFunction(() => window.captureTest !== undefined, undefined, { timeout: 120_000 });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Track summary of a stream kept on `window[name]`. */
function streamInfo(name: string): Promise<StreamInfo> {
  return page.evaluate((n) => window.captureTest!.info((window as unknown as Record<string, MediaStream>)[n]!), name);
}

interface Comparison {
  receivedVsCanvas: number;
  receivedVsRaw: number;
  canvasVsRaw: number;
  /** Received video width, height; canvas width, height. */
  size: number[];
}

/** The received picture, the camera element's canvas and its raw (mirrored) camera frame, compared at 32x24. */
async function comparePictures(): Promise<Comparison> {
  const { received, output, raw, size } = await page.evaluate(
    ([w, h]) => {
      const t = window.captureTest!;
      const camera = document.querySelector('livestyle-camera')!;
      const canvas = camera.shadowRoot!.querySelector<HTMLCanvasElement>('canvas.output')!;
      const video = (window as unknown as Record<string, HTMLVideoElement>).received!;
      return {
        received: t.pixels(video, w, h),
        output: t.pixels(canvas, w, h),
        raw: t.pixels(camera.shadowRoot!.querySelector('video')!, w, h, true),
        size: [video.videoWidth, video.videoHeight, canvas.width, canvas.height],
      };
    },
    [COMPARE_W, COMPARE_H] as const,
  );
  return {
    receivedVsCanvas: meanAbsDiff(received, output),
    receivedVsRaw: meanAbsDiff(received, raw),
    canvasVsRaw: meanAbsDiff(output, raw),
    size,
  };
}

describe('<livestyle-camera> captureStream', () => {
  it('called before start, returns a live video track and does not throw (also before the element connects)', async () => {
    await page.evaluate(() => {
      const w = window as unknown as Record<string, unknown>;
      w.detached = document.createElement('livestyle-camera').captureStream(15);
      const camera = window.captureTest!.addCamera({
        'model-base-url': '/models/',
        'style-src': '/styles/starry_night.jpg',
        preset: 'realtime',
        'processing-size': '64',
        'style-size': '128',
      });
      w.early = camera.captureStream();
    });
    expect(await streamInfo('detached')).toEqual({ isMediaStream: true, videoTracks: 1, audioTracks: 0, states: ['video:live'] });
    expect(await streamInfo('early')).toEqual({ isMediaStream: true, videoTracks: 1, audioTracks: 0, states: ['video:live'] });
  });

  it('sends the stylised picture through an RTCPeerConnection: frames begin after start, differ from the camera and match the canvas', async () => {
    await page.evaluate(async () => {
      const w = window as unknown as Record<string, unknown>;
      w.received = await window.captureTest!.loopback(w.early as MediaStream);
    });
    await page.waitForTimeout(1000);
    const framesBeforeStart = await page.evaluate(() => window.captureTest!.receivedFrames());
    await page.evaluate(() => document.querySelector('livestyle-camera')!.start());
    // Stylised frames, then enough of them across the link for the codec to settle on the still.
    await waitFrames(page, 'livestyle-camera', 6, 120_000);
    const framesAtStyle = await page.evaluate(() => window.captureTest!.receivedFrames());
    await page.waitForFunction((n) => window.captureTest!.receivedFrames() >= n + 8, framesAtStyle, { timeout: 60_000 });
    // The codec's bit rate ramps up over the first seconds: sample for a while, report each sample.
    const samples: Comparison[] = [];
    for (let i = 0; i < 6; i++) {
      if (i) await page.waitForTimeout(500);
      samples.push(await comparePictures());
    }
    const codec = await page.evaluate(() => window.captureTest!.codec());
    const last = samples.at(-1)!;
    const matchDiffs = samples.map((c) => c.receivedVsCanvas);
    console.log(
      `captureStream loopback (${codec}): ${framesBeforeStart} frames before start; received ${last.size[0]}x${last.size[1]}, canvas ${last.size[2]}x${last.size[3]}; ` +
        `mean |received - canvas| per sample ${matchDiffs.map((d) => d.toFixed(4)).join(' ')}; ` +
        `|received - raw camera| ${last.receivedVsRaw.toFixed(4)}, |canvas - raw| ${last.canvasVsRaw.toFixed(4)}`,
    );
    const [matchDiff, rawDiff, size] = [last.receivedVsCanvas, last.receivedVsRaw, last.size];
    // The stream begins when frames begin: nothing before start (a blank canvas sends nothing), then the picture.
    expect(framesBeforeStart).toBe(0);
    expect(size[0]).toBeGreaterThan(0);
    expect(rawDiff).toBeGreaterThan(STYLISED_MIN_DIFF);
    expect(matchDiff).toBeLessThan(MATCH_TOLERANCE);
  });

  it('stop() ends every stream it gave (each track fires ended); a new call after a restart gives a live one', async () => {
    await page.evaluate(async () => {
      const w = window as unknown as Record<string, unknown>;
      const camera = document.querySelector('livestyle-camera')!;
      w.second = camera.captureStream(10);
      w.endedEvents = 0;
      for (const name of ['early', 'second'])
        (w[name] as MediaStream).getVideoTracks()[0]!.addEventListener('ended', () => (w.endedEvents as number)++);
      await camera.stop();
    });
    expect((await streamInfo('early')).states).toEqual(['video:ended']);
    expect((await streamInfo('second')).states).toEqual(['video:ended']);
    expect(await page.evaluate(() => (window as unknown as Record<string, number>).endedEvents)).toBe(2);
    await page.evaluate(async () => {
      const w = window as unknown as Record<string, unknown>;
      const camera = document.querySelector('livestyle-camera')!;
      await camera.start();
      w.third = camera.captureStream();
    });
    expect((await streamInfo('third')).states).toEqual(['video:live']);
    await page.evaluate(() => document.querySelector('livestyle-camera')!.remove());
    expect((await streamInfo('third')).states).toEqual(['video:ended']);
  });
});

describe('<livestyle-video> captureStream', () => {
  it("carries the clip's audio as well as the picture, and ends when the element is removed", async () => {
    await page.evaluate(async () => {
      const w = window as unknown as Record<string, unknown>;
      const el = window.captureTest!.addVideo({ 'processing-size': '64' });
      w.clipStream = el.captureStream(); // before any file: the picture only, for now
      w.beforeOpen = window.captureTest!.info(w.clipStream as MediaStream);
      const blob = await (await fetch('/clip.webm')).blob();
      await el.open(new File([blob], 'clip.webm', { type: 'video/webm' }));
      el.play();
    });
    expect(await page.evaluate(() => (window as unknown as Record<string, StreamInfo>).beforeOpen)).toEqual({
      isMediaStream: true,
      videoTracks: 1,
      audioTracks: 0,
      states: ['video:live'],
    });
    await expect.poll(async () => (await streamInfo('clipStream')).audioTracks, { timeout: 10_000 }).toBe(1);
    const level = await page.evaluate(() =>
      window.captureTest!.audioLevel((window as unknown as Record<string, MediaStream>).clipStream!, 600),
    );
    console.log(`captureStream of <livestyle-video>: audio RMS ${level.toFixed(4)} (a 440 Hz tone; silence is 0)`);
    expect(level).toBeGreaterThan(0.01);
    await page.evaluate(() => document.querySelector('livestyle-video')!.remove());
    expect((await streamInfo('clipStream')).states.sort()).toEqual(['audio:ended', 'video:ended']);
  });

  it('leaves no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
