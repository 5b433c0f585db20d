// @ts-check
// `node scripts/first-frame.js`: cold and warm time to `styles-ready` and to the first stylised frame
// of the chromeless camera page (issue 32, item 4), in Debian's headless Chromium against a site
// build (`npm run build` first, or --site <dir>), with a fake camera playing a still. Four visits,
// each browser on its own profile folder:
//   before       — a fresh profile, the precomputed statistics hidden (404): the style is computed in
//                  the page and the models come from the network, as before the caches;
//   cold         — a fresh profile: the built-in style read from the precomputed statistics;
//   same browser — a second page in the cold visit's browser;
//   warm         — the cold visit's profile after a browser restart: models from the Cache API.
// Before and cold also time a built-in style change (the next style's `styles-ready`). Then the
// statistics the `before` visit computed in the page (IndexedDB) are compared with the build's
// precomputed (wasm) ones for the same style. Software GL here: compare the figures with each other only.
// --throttle <kbit/s> emulates a network (Chromium DevTools' network conditions, 40 ms latency) on every
// visit: the localhost server otherwise makes downloads free, which hides what the caches save.
// --tfjs-flags passes tf.js flags through the page URL (`tfjsflags=NAME:value,...`), for experiments.
// Usage: node scripts/first-frame.js [--site dist-site] [--backend webgpu|webgl] [--size 64] [--runs 1] [--throttle kbit/s] [--tfjs-flags F:v] [--json out.json]
import path from 'node:path';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { preview } from 'vite';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const { values } = parseArgs({
  options: {
    site: { type: 'string', default: path.join(root, 'dist-site') },
    size: { type: 'string', default: '64' },
    runs: { type: 'string', default: '1' },
    json: { type: 'string' },
    backend: { type: 'string', default: 'webgpu' },
    throttle: { type: 'string' },
    'tfjs-flags': { type: 'string' },
  },
});
const site = path.resolve(values.site);
if (!existsSync(path.join(site, 'camera.html'))) throw new Error(`no site build in ${site}: run \`npm run build\` (or pass --site)`);
if (!existsSync(path.join(site, 'styles', 'stats', 'index.json'))) throw new Error(`${site} has no precomputed style statistics`);
if (!['webgpu', 'webgl'].includes(values.backend)) throw new Error(`--backend must be webgpu or webgl (got ${values.backend})`);
if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (set CHROMIUM_PATH)`);
const QUERY =
  `style=starry_night&preset=realtime&size=${Number(values.size)}` +
  (values['tfjs-flags'] ? `&tfjsflags=${encodeURIComponent(values['tfjs-flags'])}` : '');
const throttleKbps = values.throttle === undefined ? null : Number(values.throttle);
if (throttleKbps !== null && !(throttleKbps > 0)) throw new Error(`--throttle must be a positive kbit/s (got ${values.throttle})`);

/** Records, from the page's start, the first `styles-ready` and the first `frame` (ms since navigation). */
function recordTimes() {
  /** @type {{ stylesReady: Array<{ t: number, labels: string[] }>, firstFrame: number | null, frames: number[] }} */
  const times = { stylesReady: [], firstFrame: null, frames: [] };
  Object.assign(window, { firstFrameTimes: times });
  document.addEventListener('styles-ready', (e) => {
    const detail = /** @type {CustomEvent<{ styles: Array<{ label?: string }> }>} */ (e).detail;
    times.stylesReady.push({ t: performance.now(), labels: detail.styles.map((s) => s.label ?? '') });
  });
  document.addEventListener('frame', () => {
    times.firstFrame ??= performance.now();
    if (times.frames.length < 3) times.frames.push(performance.now());
  });
}

/**
 * One visit of camera.html in `context`; with `change`, then the next built-in style's `styles-ready`.
 * @param {import('playwright-core').BrowserContext} context
 * @param {string} baseUrl
 * @param {boolean} change
 */
async function visit(context, baseUrl, change) {
  const page = await context.newPage();
  let weightRequests = 0;
  page.on('request', (r) => void (/\/models\/[^?]+\.bin$/.test(r.url()) && weightRequests++));
  await page.addInitScript(recordTimes);
  if (throttleKbps !== null) {
    const cdp = await context.newCDPSession(page);
    const bytesPerS = (throttleKbps * 1000) / 8;
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 40,
      downloadThroughput: bytesPerS,
      uploadThroughput: bytesPerS,
    });
  }
  await page.goto(`${baseUrl}camera.html?${QUERY}`);
  await page.waitForFunction(() => /** @type {any} */ (window).firstFrameTimes.firstFrame !== null, undefined, {
    timeout: 600_000,
    polling: 100,
  });
  /** @type {any} */
  const result = await page.evaluate(() => {
    const camera = /** @type {any} */ (document.querySelector('livestyle-camera'));
    const times = /** @type {any} */ (window).firstFrameTimes;
    return {
      stylesReadyMs: times.stylesReady[0].t,
      firstFrameMs: times.firstFrame,
      backend: camera.backend,
      ...camera.styleStatsSources,
      // The navigation's resource timing of the model weights: when the last one arrived.
      weightsDoneMs: Math.max(
        0,
        ...performance
          .getEntriesByType('resource')
          .filter((e) => /\/models\/.*\.bin/.test(e.name))
          .map((e) => /** @type {PerformanceResourceTiming} */ (e).responseEnd),
      ),
    };
  });
  // The frames after the first: what a frame costs once everything is compiled and loaded.
  await page.waitForFunction(() => /** @type {any} */ (window).firstFrameTimes.frames.length >= 3, undefined, { timeout: 600_000 });
  const frames = await page.evaluate(() => /** @type {any} */ (window).firstFrameTimes.frames);
  result.nextFramesMs = [frames[1] - frames[0], frames[2] - frames[1]];
  if (change) {
    result.changeMs = await page.evaluate(
      () =>
        new Promise((resolve) => {
          const t0 = performance.now();
          document.addEventListener('styles-ready', () => resolve(performance.now() - t0), { once: true });
          window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight' }));
        }),
    );
    result.afterChange = await page.evaluate(() => /** @type {any} */ (document.querySelector('livestyle-camera')).styleStatsSources);
  }
  await page.close();
  return { ...result, weightRequests };
}

/**
 * The header and float64 payload of a style-statistics entry (core's style-stats-cache.ts layout).
 * @param {Uint8Array} bytes
 */
function readEntry(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
  const start = Math.ceil((4 + length) / 8) * 8;
  // A copy: a Buffer from readFileSync may be a view into a larger pool.
  const values = new Float64Array(Uint8Array.from(bytes.subarray(start)).buffer);
  const c = header.channels;
  return { key: header.key, mean: values.subarray(0, c), std: values.subarray(c, 2 * c), colouring: values.subarray(2 * c) };
}

/**
 * Largest |a - b| relative to the largest |b|.
 * @param {Float64Array} a
 * @param {Float64Array} b
 */
function relativeDiff(a, b) {
  let diff = 0;
  let scale = 0;
  b.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(/** @type {number} */ (a[i]) - v));
    scale = Math.max(scale, Math.abs(v));
  });
  return diff / scale;
}

/**
 * The page's IndexedDB records (computed in the page) against the build's precomputed entries for the same key.
 * @param {import('playwright-core').BrowserContext} context
 * @param {string} baseUrl
 */
async function compareWithShipped(context, baseUrl) {
  const page = await context.newPage();
  await page.goto(`${baseUrl}styles/index.json`);
  /** @type {number[][]} */
  const records = await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('livestyle-style-stats');
        open.onerror = () => reject(new Error('no database'));
        open.onsuccess = () => {
          const all = open.result.transaction('style-stats-v1').objectStore('style-stats-v1').getAll();
          all.onsuccess = () => resolve(all.result.map((/** @type {ArrayBuffer} */ b) => [...new Uint8Array(b)]));
        };
      }),
  );
  await page.close();
  const index = JSON.parse(readFileSync(path.join(site, 'styles', 'stats', 'index.json'), 'utf8'));
  const shipped = new Map(
    index.entries.map((/** @type {string} */ id) => {
      const e = readEntry(readFileSync(path.join(site, 'styles', 'stats', `${id}.bin`)));
      return [e.key, e];
    }),
  );
  return records.map((r) => {
    const page = readEntry(Uint8Array.from(r));
    const [, , , level, backend] = page.key.split('|');
    const ref = shipped.get(page.key.replace(`|${backend}|`, `|${index.backend}|`));
    if (!ref) return { level, backend, shipped: false };
    const d = {
      mean: relativeDiff(page.mean, ref.mean),
      std: relativeDiff(page.std, ref.std),
      colouring: relativeDiff(page.colouring, ref.colouring),
    };
    return { level, backend, style: page.key.split('|').at(-1).slice(5, 13), ...d };
  });
}

const work = mkdtempSync(path.join(os.tmpdir(), 'livestyle-first-frame-'));
const y4m = path.join(work, 'camera.y4m');
execFileSync('ffmpeg', [
  ...['-v', 'error', '-y', '-loop', '1', '-i', path.join(root, '..', 'shared', 'data', 'content', 'golden_gate.jpg')],
  ...['-vf', 'scale=160:120', '-frames:v', '4', '-pix_fmt', 'yuv420p', y4m],
]);
const server = await preview({
  configFile: path.join(root, 'vite.config.ts'),
  logLevel: 'error',
  build: { outDir: site },
  preview: { port: 0, host: '127.0.0.1', strictPort: false },
});
const args = [
  ...['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  ...['--disable-quic', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${y4m}`],
  // Without the flag Chromium on Linux has no WebGPU, and the page runs on WebGL.
  ...(values.backend === 'webgpu' ? ['--enable-unsafe-webgpu'] : []),
];
let profiles = 0;
/**
 * A browser on a profile folder (a new one unless `dir` is given): a second launch on the same folder
 * is a visit after the browser was closed, with everything it keeps on disk.
 * @param {string} [dir]
 */
async function launch(dir) {
  const userDataDir = dir ?? path.join(work, `profile-${profiles++}`);
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args,
    viewport: { width: 320, height: 240 },
  });
  return { context, userDataDir };
}
try {
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('no preview address');
  const baseUrl = `http://127.0.0.1:${address.port}/`;
  const runs = [];
  /** @type {unknown[]} */
  let parity = [];
  for (let run = 0; run < Number(values.runs); run++) {
    const hidden = await launch();
    await hidden.context.route('**/styles/stats/**', (route) => route.fulfill({ status: 404, body: 'hidden' }));
    const before = await visit(hidden.context, baseUrl, true);
    parity = await compareWithShipped(hidden.context, baseUrl);
    await hidden.context.close();
    const first = await launch();
    const cold = await visit(first.context, baseUrl, true);
    const sameBrowser = await visit(first.context, baseUrl, false);
    await first.context.close();
    const again = await launch(first.userDataDir);
    const warm = await visit(again.context, baseUrl, false);
    await again.context.close();
    runs.push({ before, cold, sameBrowser, warm });
    console.log(JSON.stringify({ run, before, cold, sameBrowser, warm }));
  }
  console.log(JSON.stringify({ parity }));
  const s = (/** @type {number} */ ms) => `${(ms / 1000).toFixed(1)} s`;
  for (const visits of runs) {
    console.log(`| visit | styles-ready | first frame | styles-ready -> first frame | style change | styles computed | weight requests |`);
    for (const [name, v] of Object.entries(visits))
      console.log(
        `| ${name} | ${s(v.stylesReadyMs)} | ${s(v.firstFrameMs)} | ${s(v.firstFrameMs - v.stylesReadyMs)} | ${v.changeMs === undefined ? '-' : s(v.changeMs)} | ${v.encoded} | ${v.weightRequests} |`,
      );
    const { before, cold, warm } = visits;
    console.log(
      `warm/cold first frame ${(warm.firstFrameMs / cold.firstFrameMs).toFixed(2)}, warm/before ${(warm.firstFrameMs / before.firstFrameMs).toFixed(2)}; ` +
        `styles-ready cold/before ${(cold.stylesReadyMs / before.stylesReadyMs).toFixed(3)}; style change cold/before ${(cold.changeMs / before.changeMs).toFixed(3)}`,
    );
  }
  if (values.json)
    writeFileSync(values.json, JSON.stringify({ query: QUERY, backend: values.backend, throttleKbps, runs, parity }, null, 2));
} finally {
  await new Promise((resolve) => server.httpServer.close(() => resolve(undefined)));
  rmSync(work, { recursive: true, force: true });
}
