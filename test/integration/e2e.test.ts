// End-to-end test of the web components in Debian's headless Chromium (playwright-core), against
// the production build of the demo site (`vite build` + `vite preview`, as `npm run build &&
// npm run preview` do): a fake camera plays a still photo, the style mixer drives the elements.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build, preview, type PreviewServer } from 'vite';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_FLAGS, REPO_ROOT, SHARED, countVideoFrames } from '../helpers.js';
import { activeStyleLabels, channelMeans, meanAbsDiff, readOutput, readRawCameraFrame, waitFrames } from '../e2e/page.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'e2e');
const CLIP_FRAMES = 8;
const PROCESSING_SIZE_PX = 64;
const STYLE_SIZE_PX = 128;

let work: string;
let server: PreviewServer;
let baseUrl: string;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const requests: string[] = [];

async function shot(name: string, target: Page = page): Promise<void> {
  await target.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args], { stdio: 'pipe' });
}

async function openPage(extraFlags: string[]): Promise<{ browser: Browser; page: Page }> {
  const b = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS, ...extraFlags] });
  const context = await b.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 1000 } });
  const p = await context.newPage();
  return { browser: b, page: p };
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (see .ci/run)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  work = mkdtempSync(path.join(os.tmpdir(), 'livestyle-e2e-'));
  // The fake camera: a still photo (so outputs differ only by style); the clip: real video frames.
  ffmpeg([
    '-loop',
    '1',
    '-i',
    path.join(SHARED, 'data', 'content', 'golden_gate.jpg'),
    '-vf',
    'scale=160:120',
    '-frames:v',
    '4',
    '-pix_fmt',
    'yuv420p',
    path.join(work, 'camera.y4m'),
  ]);
  ffmpeg([
    '-framerate',
    '8',
    '-start_number',
    '1',
    '-i',
    path.join(SHARED, 'data', 'video', 'sintel_mountain_2', 'frame_%04d.png'),
    '-frames:v',
    String(CLIP_FRAMES),
    '-vf',
    'scale=96:40',
    '-c:v',
    'libvpx',
    '-b:v',
    '1M',
    path.join(work, 'clip.webm'),
  ]);
  const outDir = path.join(work, 'site');
  await build({ configFile: path.join(REPO_ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir } });
  server = await preview({
    configFile: path.join(REPO_ROOT, 'vite.config.ts'),
    logLevel: 'error',
    build: { outDir },
    preview: { port: 0, host: '127.0.0.1', strictPort: false },
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('no preview address');
  baseUrl = `http://127.0.0.1:${address.port}/`;
  ({ browser, page } = await openPage([
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${path.join(work, 'camera.y4m')}`,
  ]));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  await page.goto(baseUrl);
  // Small processing size: Chromium's WebGPU/WebGL are software renderers here.
  await page.evaluate(
    ([size, styleSize]) => {
      for (const el of document.querySelectorAll('livestyle-camera, livestyle-video')) {
        el.setAttribute('processing-size', String(size));
        el.setAttribute('style-size', String(styleSize));
      }
    },
    [PROCESSING_SIZE_PX, STYLE_SIZE_PX] as const,
  );
  await page.locator('livestyle-style-mixer button.thumb').first().waitFor({ timeout: 30_000 });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.httpServer.close(() => resolve()) : resolve()));
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the demo page (production build)', () => {
  it('loads without console errors, and every image has alt text', async () => {
    await page.waitForLoadState('networkidle');
    const missingAlt = await page.evaluate(() => {
      const images: HTMLImageElement[] = [];
      const walk = (root: Document | ShadowRoot): void => {
        images.push(...root.querySelectorAll('img'));
        for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
      };
      walk(document);
      return { total: images.length, missing: images.filter((i) => !i.alt.trim()).map((i) => i.src) };
    });
    expect(missingAlt.total).toBeGreaterThan(10);
    expect(missingAlt.missing).toEqual([]);
    expect(consoleErrors).toEqual([]);
    // Models load lazily: not before the camera starts or a clip is opened.
    expect(requests.filter((r) => r.includes('/models/'))).toEqual([]);
    await shot('01-loaded');
  });

  it('is usable with the keyboard: Tab reaches the camera Start button and Enter starts the camera', async () => {
    let label = '';
    for (let i = 0; i < 80 && label !== 'camera:start'; i++) {
      await page.keyboard.press('Tab');
      label = await page.evaluate(() => {
        let el: Element | null = document.activeElement;
        let host = '';
        while (el?.shadowRoot?.activeElement) {
          host = el.tagName.toLowerCase();
          el = el.shadowRoot.activeElement;
        }
        return host === 'livestyle-camera' && el?.classList.contains('start') ? 'camera:start' : '';
      });
    }
    expect(label).toBe('camera:start');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('livestyle-camera')?.cameraState === 'running', undefined, { timeout: 30_000 });
  });

  it('the camera shows stylised frames that differ from the raw camera frame', async () => {
    await waitFrames(page, 'livestyle-camera', 3);
    expect(await activeStyleLabels(page, 'livestyle-camera')).toEqual(['starry_night@1']);
    const out = await readOutput(page, 'livestyle-camera');
    expect(Math.max(out.width, out.height)).toBe(PROCESSING_SIZE_PX);
    const raw = await readRawCameraFrame(page, out.width, out.height);
    expect(meanAbsDiff(out.rgb, raw)).toBeGreaterThan(0.08);
    await shot('02-camera-starry-night');
  });

  it('changing the style changes the picture, without reloading the model', async () => {
    await page.locator('livestyle-style-mixer input.temporal').uncheck();
    await waitFrames(page, 'livestyle-camera', 2);
    const starry = await readOutput(page, 'livestyle-camera');
    const modelRequests = requests.filter((r) => r.includes('/models/')).length;
    await page.locator('livestyle-style-mixer button.thumb[data-style="the_scream"]').click();
    await page.waitForFunction(() => document.querySelector('livestyle-camera')?.activeStyles[0]?.label === 'the_scream', undefined, {
      timeout: 60_000,
    });
    await waitFrames(page, 'livestyle-camera', 2);
    const scream = await readOutput(page, 'livestyle-camera');
    expect(meanAbsDiff(starry.rgb, scream.rgb)).toBeGreaterThan(0.05);
    expect(requests.filter((r) => r.includes('/models/')).length).toBe(modelRequests);
    await shot('03-camera-the-scream');
  });

  it('a 50/50 blend of two styles lies between the two single-style outputs', async () => {
    const single = async (name: string): Promise<number[]> => {
      await page.locator(`livestyle-style-mixer button.thumb[data-style="${name}"]`).click();
      await page.waitForFunction(
        (n) =>
          document
            .querySelector('livestyle-camera')
            ?.activeStyles.map((s) => s.label)
            .join() === n,
        name,
        { timeout: 60_000 },
      );
      await waitFrames(page, 'livestyle-camera', 2);
      return (await readOutput(page, 'livestyle-camera')).rgb;
    };
    const a = await single('starry_night');
    const b = await single('the_scream');
    await page.locator('livestyle-style-mixer input.blend-mode').check();
    await page.locator('livestyle-style-mixer button.thumb[data-style="starry_night"]').click();
    await page.waitForFunction(() => document.querySelector('livestyle-camera')?.activeStyles.length === 2, undefined, { timeout: 60_000 });
    expect(await activeStyleLabels(page, 'livestyle-camera')).toEqual(['the_scream@1', 'starry_night@1']);
    await waitFrames(page, 'livestyle-camera', 2);
    const mix = (await readOutput(page, 'livestyle-camera')).rgb;
    const dAB = meanAbsDiff(a, b);
    const dMA = meanAbsDiff(mix, a);
    const dMB = meanAbsDiff(mix, b);
    console.log(
      `blend distances: A-B ${dAB.toFixed(4)}, mix-A ${dMA.toFixed(4)}, mix-B ${dMB.toFixed(4)}; means A ${channelMeans(a)
        .map((v) => v.toFixed(3))
        .join(',')} B ${channelMeans(b)
        .map((v) => v.toFixed(3))
        .join(',')} mix ${channelMeans(mix)
        .map((v) => v.toFixed(3))
        .join(',')}`,
    );
    expect(dMA).toBeLessThan(dAB);
    expect(dMB).toBeLessThan(dAB);
    // Nearer the middle than either end: neither single style dominates.
    expect(Math.abs(dMA - dMB)).toBeLessThan(0.5 * dAB);
    await shot('04-camera-blend-50-50');

    // A weight slider applies to the next frame (no model or style image reloads).
    const before = requests.length;
    await page.locator('livestyle-style-mixer input.weight[data-style="the_scream"]').fill('0.2');
    await page.waitForFunction(() => document.querySelector('livestyle-camera')?.activeStyles[0]?.weight === 0.2, undefined, {
      timeout: 10_000,
    });
    await waitFrames(page, 'livestyle-camera', 2);
    const moved = (await readOutput(page, 'livestyle-camera')).rgb;
    expect(meanAbsDiff(moved, a)).toBeLessThan(dMA);
    expect(requests.slice(before)).toEqual([]);
  });

  it('changing styles while one is still loading ends with the last choice (latest call wins)', async () => {
    await page.locator('livestyle-style-mixer input.blend-mode').uncheck();
    const ready: string[] = [];
    await page.exposeFunction('recordReady', (labels: string) => ready.push(labels));
    await page.evaluate(() => {
      document.querySelector('livestyle-camera')?.addEventListener('styles-ready', (e) => {
        void (window as unknown as { recordReady: (l: string) => Promise<void> }).recordReady(
          e.detail.styles.map((s) => s.label).join('+'),
        );
      });
    });
    for (const name of ['mondrian', 'shipwreck', 'starry_night'])
      await page.locator(`livestyle-style-mixer button.thumb[data-style="${name}"]`).click({ delay: 0 });
    await page.waitForFunction(
      () =>
        document
          .querySelector('livestyle-camera')
          ?.activeStyles.map((s) => s.label)
          .join() === 'starry_night',
      undefined,
      { timeout: 60_000 },
    );
    await waitFrames(page, 'livestyle-camera', 3);
    expect(ready.at(-1)).toBe('starry_night');
    expect(await activeStyleLabels(page, 'livestyle-camera')).toEqual(['starry_night@1']);
  });

  it('pauses while the tab is hidden and resumes when it shows', async () => {
    const setVisibility = (state: 'hidden' | 'visible'): Promise<void> =>
      page.evaluate((s) => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => s });
        document.dispatchEvent(new Event('visibilitychange'));
      }, state);
    await setVisibility('hidden');
    await expect.poll(() => page.evaluate(() => document.querySelector('livestyle-camera')?.cameraState)).toBe('paused');
    await expect.poll(() => page.locator('livestyle-camera [part="message"]').textContent()).toContain('Paused');
    await shot('05-camera-paused');
    await setVisibility('visible');
    await expect.poll(() => page.evaluate(() => document.querySelector('livestyle-camera')?.cameraState)).toBe('running');
    await waitFrames(page, 'livestyle-camera', 2);
  });

  it('takes a PNG snapshot', async () => {
    const download = page.waitForEvent('download');
    await page.locator('livestyle-camera button.snapshot').click();
    const file = path.join(work, 'snapshot.png');
    await (await download).saveAs(file);
    expect(readFileSync(file).subarray(1, 4).toString()).toBe('PNG');
  });

  it('records the stylised stream to a WebM and toggles the stats overlay', async () => {
    await page.locator('livestyle-camera button.stats-toggle').click();
    await waitFrames(page, 'livestyle-camera', 1);
    await expect
      .poll(() => page.locator('livestyle-camera livestyle-stats [part="panel"]').textContent())
      .toMatch(
        /fps\s+web(gpu|gl)\s+\d+x\d+\ntotal [\d.]+ ms per frame\n(last timed: )?encode [\d.]+ {2}transform [\d.]+ {2}decode [\d.]+ ms/,
      );
    await shot('06-camera-stats');
    const download = page.waitForEvent('download', { timeout: 60_000 });
    await page.locator('livestyle-camera button.record').click();
    await waitFrames(page, 'livestyle-camera', 3);
    await page.locator('livestyle-camera button.record').click();
    const file = path.join(work, 'recording.webm');
    await (await download).saveAs(file);
    expect((await download).suggestedFilename()).toBe('livestyle-recording.webm');
    expect(countVideoFrames(file)).toBeGreaterThan(0);
    await page.locator('livestyle-camera button.stats-toggle').click();
    expect(await page.locator('livestyle-camera livestyle-stats').count()).toBe(0);
  });

  it("uses the user's own image as a style (file picker)", async () => {
    await page.locator('livestyle-style-mixer input[type="file"]').setInputFiles(path.join(SHARED, 'data', 'style', 'mondrian.jpg'));
    await page.waitForFunction(() => document.querySelector('livestyle-camera')?.activeStyles[0]?.label === 'mondrian.jpg', undefined, {
      timeout: 60_000,
    });
    expect(await page.locator('livestyle-style-mixer img[alt="Mondrian.jpg"]').count()).toBe(1);
    await waitFrames(page, 'livestyle-camera', 2);
    await shot('07-camera-user-style');
  });

  it('opens a dropped clip and stylises it while it plays (video mode)', async () => {
    const bytes = readFileSync(path.join(work, 'clip.webm')).toString('base64');
    await page.evaluate((b64) => {
      const el = document.querySelector('livestyle-video')!;
      const stamps: number[] = [];
      (window as unknown as { videoStamps: number[] }).videoStamps = stamps;
      el.addEventListener('frame', (e) => stamps.push(e.detail.timestampMs));
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], 'dropped.webm', { type: 'video/webm' }));
      el.shadowRoot!.querySelector('.dropzone')!.dispatchEvent(
        new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }),
      );
    }, bytes);
    await waitFrames(page, 'livestyle-video', 1);
    expect(await page.evaluate(() => document.querySelector('livestyle-video')?.videoFile?.name)).toBe('dropped.webm');
    // Slow playback down so that the software renderer sees several frames of the 1 s clip.
    const before = await page.evaluate(() => {
      document.querySelector('livestyle-video')!.shadowRoot!.querySelector('video')!.playbackRate = 0.1;
      return (window as unknown as { videoStamps: number[] }).videoStamps.length;
    });
    await page.locator('livestyle-video button.play').click();
    await waitFrames(page, 'livestyle-video', 2);
    const played = await page.evaluate((n) => {
      document.querySelector('livestyle-video')?.pause();
      return (window as unknown as { videoStamps: number[] }).videoStamps.slice(n);
    }, before);
    expect(played.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < played.length; i++) expect(played[i]!).toBeGreaterThan(played[i - 1]!);
  });

  it('dragging the seek slider draws the frame where it stops, once, and frames reach a host shadow root (composed)', async () => {
    // Paused on the dropped clip (previous test). Five slider moves in one go, as a drag makes:
    // each used to add a 'seeked' listener, and one seek then ran all of them at once.
    const seen = await page.evaluate(async () => {
      const el = document.querySelector('livestyle-video')!;
      el.pause();
      const slider = el.shadowRoot!.querySelector<HTMLInputElement>('input.seek')!;
      const video = el.shadowRoot!.querySelector('video')!;
      const frames: Array<{ composed: boolean; bubbles: boolean; atDocument: boolean }> = [];
      const onElement = (e: Event): void => void frames.push({ composed: e.composed, bubbles: e.bubbles, atDocument: false });
      const onDocument = (e: Event): void => {
        if (e.composedPath()[0] === el) frames.push({ composed: e.composed, bubbles: e.bubbles, atDocument: true });
      };
      el.addEventListener('frame', onElement);
      document.addEventListener('frame', onDocument);
      for (const v of [0.1, 0.2, 0.3, 0.4, 0.5]) {
        slider.value = String(v);
        slider.dispatchEvent(new Event('input', { bubbles: true }));
      }
      await new Promise<void>((resolve) => video.addEventListener('seeked', () => resolve(), { once: true }));
      // The first render of the seek (a software renderer on a busy machine can take seconds)...
      await new Promise<void>((resolve) => {
        const poll = (): void => void (frames.length > 0 ? resolve() : setTimeout(poll, 50));
        poll();
      });
      // ...then time for any further render that seek started (each slider move once started one).
      await new Promise((r) => setTimeout(r, 3000));
      el.removeEventListener('frame', onElement);
      document.removeEventListener('frame', onDocument);
      return { frames, position: video.currentTime };
    });
    expect(seen.position).toBeCloseTo(0.5, 1);
    const onElement = seen.frames.filter((f) => !f.atDocument);
    expect(onElement).toHaveLength(1); // one render per seek, however many slider moves led to it
    expect(onElement[0]).toMatchObject({ composed: true, bubbles: true });
    expect(seen.frames.filter((f) => f.atDocument)).toHaveLength(1); // it reached the document
  });

  it('exports an uploaded clip to a playable WebM with every frame, with progress', async () => {
    const clip = path.join(work, 'clip.webm');
    const clipBytes = readFileSync(clip);
    await page.locator('livestyle-video input.file').setInputFiles(clip);
    await waitFrames(page, 'livestyle-video', 1);
    const progress: number[] = [];
    await page.exposeFunction('recordProgress', (done: number) => progress.push(done));
    await page.evaluate(() => {
      document.querySelector('livestyle-video')?.addEventListener('export-progress', (e) => {
        void (window as unknown as { recordProgress: (n: number) => Promise<void> }).recordProgress(e.detail.framesDone);
      });
    });
    await page.locator('livestyle-video button.export').click();
    await page.locator('livestyle-video progress').waitFor({ timeout: 30_000 });
    await shot('08-video-exporting');
    const link = page.locator('livestyle-video a.download');
    await link.waitFor({ timeout: 240_000 });
    const download = page.waitForEvent('download');
    await link.click();
    const out = path.join(work, 'exported.webm');
    await (await download).saveAs(out);
    expect((await download).suggestedFilename()).toBe('clip-stylised.webm');
    expect(countVideoFrames(out)).toBe(CLIP_FRAMES);
    // Two stylizers on one page share tf.js's one backend ('auto' keeps the one in use).
    const backends = await page.evaluate(() => [
      document.querySelector('livestyle-camera')?.backend,
      document.querySelector('livestyle-video')?.backend,
    ]);
    expect(backends[0]).toMatch(/^web(gpu|gl)$/);
    expect(backends[1]).toBe(backends[0]);
    expect(progress).toEqual(Array.from({ length: CLIP_FRAMES }, (_, i) => i + 1));
    expect(readFileSync(clip).equals(clipBytes)).toBe(true);
    await shot('09-video-exported');
  }, 300_000);

  it('cancelling an export produces nothing', async () => {
    const started = page.evaluate(
      () =>
        new Promise<void>((resolve) => {
          document.querySelector('livestyle-video')?.addEventListener('export-progress', () => resolve(), { once: true });
        }),
    );
    await page.locator('livestyle-video button.export').click();
    await started;
    await page.locator('livestyle-video button.cancel').click();
    await expect
      .poll(() => page.locator('livestyle-video [part="message"]').textContent(), { timeout: 60_000 })
      .toContain('Export cancelled');
    expect(await page.locator('livestyle-video a.download').count()).toBe(0);
    await shot('10-video-export-cancelled');
  }, 120_000);

  it('shows a friendly state when the camera is unplugged', async () => {
    // What Chromium does when the device goes away: the track ends.
    await page.evaluate(() => {
      const video = document.querySelector('livestyle-camera')?.shadowRoot?.querySelector('video');
      const track = (video?.srcObject as MediaStream | null)?.getVideoTracks()[0];
      if (!track) throw new Error('no camera track');
      track.dispatchEvent(new Event('ended'));
    });
    const message = page.locator('livestyle-camera [part="message"]');
    await expect.poll(() => message.getAttribute('data-state')).toBe('unplugged');
    expect(await message.textContent()).toContain('The camera was disconnected');
    expect(await page.locator('livestyle-camera button.start').textContent()).toContain('Start');
    await shot('10b-camera-unplugged');
  });

  it('frees every tensor when the elements are removed', async () => {
    // A string, so that vitest does not rewrite the page's dynamic import.
    const tensors = await page.evaluate<{ running: number; after: number }>(`(async () => {
      const { tfMemory } = await import(new URL('./livestyle-elements.js', document.baseURI).href);
      const running = tfMemory().numTensors;
      for (const el of document.querySelectorAll('livestyle-camera, livestyle-video')) el.remove();
      // A frame still in flight finishes first (a few seconds on a software renderer).
      for (let i = 0; i < 60 && tfMemory().numTensors > 0; i++) await new Promise((r) => setTimeout(r, 500));
      return { running, after: tfMemory().numTensors };
    })()`);
    expect(tensors.running).toBeGreaterThan(0);
    expect(tensors.after).toBe(0);
    expect(consoleErrors).toEqual([]);
  });
});

describe('the README embed snippet (one script, one tag)', () => {
  it('stylises the camera with the standalone bundle and no mixer', async () => {
    const embed = await browser.newPage();
    try {
      const errors: string[] = [];
      embed.on('pageerror', (e) => errors.push(e.message));
      embed.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await embed.route(`${baseUrl}embed.html`, (route) =>
        route.fulfill({
          contentType: 'text/html',
          body: `<!doctype html><html lang="en"><title>embed</title>
<script type="module" src="./livestyle-elements.js"></script>
<livestyle-camera model-base-url="./models/" style-src="./styles/the_scream.jpg" processing-size="${PROCESSING_SIZE_PX}" style-size="${STYLE_SIZE_PX}"></livestyle-camera>`,
        }),
      );
      await embed.goto(`${baseUrl}embed.html`);
      await embed.locator('livestyle-camera button.start').click();
      await waitFrames(embed, 'livestyle-camera', 2);
      expect(await activeStyleLabels(embed, 'livestyle-camera')).toEqual(['the_scream@1']);
      await shot('11-embed-snippet', embed);
      expect(errors).toEqual([]);
    } finally {
      await embed.close();
    }
  });
});

describe('camera permission denied', () => {
  it('shows a visible, friendly error state', async () => {
    const denied = await openPage(['--use-fake-device-for-media-stream', '--deny-permission-prompts']);
    try {
      await denied.page.goto(baseUrl);
      await denied.page.locator('livestyle-camera button.start').click();
      const message = denied.page.locator('livestyle-camera [part="message"]');
      await expect.poll(() => message.getAttribute('data-state'), { timeout: 30_000 }).toBe('denied');
      expect(await message.getAttribute('role')).toBe('alert');
      expect(await message.textContent()).toContain('Camera access was denied');
      await shot('12-camera-denied', denied.page);
    } finally {
      await denied.browser.close();
    }
  });
});

describe('artefacts', () => {
  it('wrote a screenshot of each state', () => {
    for (const name of ['01-loaded', '02-camera-starry-night', '04-camera-blend-50-50', '09-video-exported', '12-camera-denied']) {
      expect(statSync(path.join(ARTIFACTS, `${name}.png`)).size).toBeGreaterThan(1000);
    }
  });
});
