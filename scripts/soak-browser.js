// @ts-check
// `npm run soak:browser`: the camera path itself for a long run, in Debian's headless Chromium. The
// production build of the demo is served; <livestyle-camera> captures a fake camera (the sam2_bedroom
// clip, ping-pong looped, as a .y4m), stylises every frame with the realtime preset and temporal
// smoothing on WebGL (WebGPU is left off: Chromium's software WebGPU here takes seconds per frame)
// and draws it through CanvasPresenter. Every window of frames the page records tf.memory(), the JS
// heap and the median time between drawn frames; at the end the script checks that tensors are flat,
// the heap does not grow and frame time does not grow, prints the table and appends a summary to
// bench/history.jsonl. Exit status 1 when a check fails.
// Usage: node scripts/soak-browser.js [--frames 5000] [--window 250] [--size 64] [--no-history]
import path from 'node:path';
import os from 'node:os';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { build, preview } from 'vite';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.LIVESTYLE_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '5000' },
    window: { type: 'string', default: '250' },
    size: { type: 'string', default: '64' },
    'no-history': { type: 'boolean', default: false },
  },
});
const totalFrames = Number(values.frames);
const windowFrames = Number(values.window);
const sizePx = Number(values.size);
if (!(totalFrames >= 2 * windowFrames && windowFrames >= 10)) throw new Error('--frames must be at least twice --window (>= 10)');
if (!(Number.isInteger(sizePx) && sizePx >= 32 && sizePx <= 512)) throw new Error('--size must be an integer in [32, 512]');

/**
 * What the page-side recorder below keeps in `window.soak`.
 * @typedef {{ frame: number; tensors: number; tensorMB: number; heapMB: number; medianFrameMs: number }} SoakWindow
 * @typedef {{ frames: number; windows: SoakWindow[]; gaps: number[]; last: number; paths: Record<string, number>; backend: string }} SoakRecord
 * @typedef {typeof window & { soak: SoakRecord }} SoakPageWindow
 */

const work = mkdtempSync(path.join(os.tmpdir(), 'livestyle-soak-'));
let server;
let browser;
try {
  // The fake camera: the real clip forwards then backwards (no jump when Chromium loops the file).
  const camera = path.join(work, 'camera.y4m');
  execFileSync(
    process.env.LIVESTYLE_FFMPEG ?? 'ffmpeg',
    [
      ...['-loglevel', 'error', '-y', '-framerate', '30', '-i'],
      path.join(shared, 'data', 'video', 'sam2_bedroom', 'frames', '%05d.jpg'),
      ...['-filter_complex', '[0:v]scale=128:72,split[a][b];[b]reverse[r];[a][r]concat=n=2:v=1[out]', '-map', '[out]'],
      ...['-pix_fmt', 'yuv420p', camera],
    ],
    { stdio: 'inherit' },
  );
  const outDir = path.join(work, 'site');
  await build({ configFile: path.join(root, 'vite.config.ts'), logLevel: 'error', build: { outDir } });
  server = await preview({
    configFile: path.join(root, 'vite.config.ts'),
    logLevel: 'error',
    build: { outDir },
    preview: { port: 0, host: '127.0.0.1', strictPort: false },
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('no preview server address');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      ...['--no-first-run', '--disable-quic', '--enable-precise-memory-info'],
      ...['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${camera}`],
    ],
  });
  const page = await browser.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${address.port}/`);
  await page.locator('livestyle-style-mixer button.thumb[data-style="starry_night"]').waitFor({ timeout: 60_000 });
  // Page-side recorder: one checkpoint per window, taken inside the frame event (no polling gaps).
  await page.evaluate(
    `(async () => {
      const { tfMemory } = await import(new URL('./livestyle-elements.js', document.baseURI).href);
      const cam = document.querySelector('livestyle-camera');
      cam.setAttribute('processing-size', '${sizePx}');
      cam.setAttribute('style-size', '128');
      cam.setAttribute('preset', 'realtime');
      const soak = { frames: 0, windows: [], gaps: [], last: 0, paths: {}, backend: '' };
      window.soak = soak;
      cam.addEventListener('frame', (e) => {
        const now = performance.now();
        if (soak.last) soak.gaps.push(now - soak.last);
        soak.last = now;
        soak.frames++;
        soak.backend = e.detail.backend;
        soak.paths[e.detail.presentPath] = (soak.paths[e.detail.presentPath] ?? 0) + 1;
        if (soak.frames % ${windowFrames} === 0) {
          const m = tfMemory();
          const sorted = [...soak.gaps].sort((a, b) => a - b);
          soak.windows.push({
            frame: soak.frames,
            tensors: m.numTensors,
            tensorMB: m.numBytes / 1e6,
            heapMB: performance.memory.usedJSHeapSize / 1e6,
            medianFrameMs: sorted[Math.floor(sorted.length / 2)],
          });
          soak.gaps = [];
        }
      });
    })()`,
  );
  await page.locator('livestyle-style-mixer button.thumb[data-style="starry_night"]').click();
  await page.locator('livestyle-camera button.start').click();
  const t0 = performance.now();
  let lastReport = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 2000));
    const s = await page.evaluate(() => {
      const { soak } = /** @type {SoakPageWindow} */ (window);
      return { frames: soak.frames, windows: soak.windows.length };
    });
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    if (s.frames >= totalFrames) break;
    if (performance.now() - lastReport > 30_000) {
      lastReport = performance.now();
      const elapsedS = (performance.now() - t0) / 1000;
      const eta = s.frames ? (elapsedS * (totalFrames - s.frames)) / s.frames : NaN;
      console.log(`${s.frames}/${totalFrames} frames, ${elapsedS.toFixed(0)} s, ETA ${eta.toFixed(0)} s`);
    }
    if (performance.now() - t0 > 3 * 3600_000) throw new Error('soak: over 3 hours, stopped');
  }
  const soak = await page.evaluate(() => /** @type {SoakPageWindow} */ (window).soak);
  const wallS = (performance.now() - t0) / 1000;
  await page.locator('livestyle-camera button.start').click(); // stop

  const windows = soak.windows.filter((w) => w.frame <= totalFrames);
  console.table(
    windows.map((w) => ({
      ...w,
      tensorMB: +w.tensorMB.toFixed(2),
      heapMB: +w.heapMB.toFixed(1),
      medianFrameMs: +w.medianFrameMs.toFixed(1),
    })),
  );
  // The first window includes warm-up (shader compilation, first allocations): compare from the second.
  const ref = windows[1];
  const last = windows.at(-1);
  if (!ref || !last) throw new Error(`soak: fewer than two windows of ${windowFrames} frames recorded`);
  const tensorsFlat = windows.slice(1).every((w) => w.tensors === ref.tensors && Math.abs(w.tensorMB - ref.tensorMB) < 1e-6);
  const heapGrowthMB = last.heapMB - ref.heapMB;
  const frameTimeRatio = last.medianFrameMs / ref.medianFrameMs;
  const checks = {
    tensorsFlat,
    heapGrowthUnder20MB: heapGrowthMB < 20,
    frameTimeRatioUnder1_25: frameTimeRatio < 1.25,
    drawnFromGpu: (soak.paths.gpu ?? 0) >= totalFrames && !soak.paths.readback,
  };
  const summary = {
    date: new Date().toISOString(),
    kind: 'soak-browser',
    machine: `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}`,
    browser: browser.version(),
    backend: soak.backend,
    preset: 'realtime',
    processingSizePx: sizePx,
    frames: soak.frames,
    wallS: +wallS.toFixed(0),
    tensors: ref.tensors,
    tensorMB: +ref.tensorMB.toFixed(2),
    heapGrowthMB: +heapGrowthMB.toFixed(1),
    medianFrameMsFirst: +ref.medianFrameMs.toFixed(1),
    medianFrameMsLast: +last.medianFrameMs.toFixed(1),
    frameTimeRatio: +frameTimeRatio.toFixed(2),
    presentPaths: soak.paths,
    checks,
  };
  console.log(JSON.stringify(summary));
  if (!values['no-history']) appendFileSync(path.join(root, 'bench', 'history.jsonl'), JSON.stringify(summary) + '\n');
  if (!Object.values(checks).every(Boolean)) {
    console.error('soak FAILED:', JSON.stringify(checks));
    process.exitCode = 1;
  }
} finally {
  await browser?.close();
  await server?.close();
  rmSync(work, { recursive: true, force: true });
}
