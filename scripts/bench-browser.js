// @ts-check
// `npm run bench:browser`: frames per second of the live path in headless Chromium, per preset and
// size, on the webgpu or webgl backend — the figure issue #6 asks for on a GPU machine. Each frame is
// stylizeVideoFrame (temporal smoothing on) + CanvasPresenter.draw, timed over runs of consecutive
// frames that end with one 1-pixel read (so the GPU has finished them); medians of the runs. The
// backend's 1024² matmul GFLOP/s is measured in the same run, and the renderer string is recorded,
// so a software renderer (SwiftShader here) is never mistaken for a GPU figure. Appends a summary to
// bench/history.jsonl.
// Usage: node scripts/bench-browser.js [--backend webgpu|webgl] [--sizes 256,512,1024]
//          [--presets realtime,balanced,best] [--runs 5] [--frames 10] [--flags "<extra chromium flags>"] [--no-history]
import path from 'node:path';
import os from 'node:os';
import { appendFileSync, existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'webgpu' },
    sizes: { type: 'string', default: '256,512,1024' },
    presets: { type: 'string', default: 'realtime,balanced,best' },
    runs: { type: 'string', default: '5' },
    frames: { type: 'string', default: '10' },
    flags: { type: 'string', default: '' },
    'no-history': { type: 'boolean', default: false },
  },
});
if (!['webgpu', 'webgl'].includes(values.backend)) throw new Error(`--backend must be webgpu or webgl (got ${values.backend})`);
const sizes = values.sizes.split(',').map(Number);
if (!sizes.every((s) => Number.isInteger(s) && s >= 32 && s <= 2048)) throw new Error('--sizes: integers in [32, 2048]');
const presets = values.presets.split(',');
if (!presets.every((p) => ['realtime', 'balanced', 'best'].includes(p))) throw new Error('--presets: realtime, balanced, best');
const runs = Number(values.runs);
const frames = Number(values.frames);
if (!(Number.isInteger(runs) && runs >= 1 && Number.isInteger(frames) && frames >= 1))
  throw new Error('--runs and --frames: integers >= 1');
if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (set CHROMIUM_PATH)`);
// The config's demo plugin serves /models/ (from $LIVESTYLE_MODELS_DIR or models/).
const server = await createServer({
  configFile: path.join(root, 'vite.config.ts'),
  root,
  logLevel: 'error',
  server: { port: 0, host: '127.0.0.1' },
});
let browser;
try {
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('no vite server address');
  const { port } = address;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      ...['--no-first-run', '--disable-quic', '--enable-unsafe-webgpu'],
      ...values.flags.split(' ').filter(Boolean),
    ],
  });
  const page = await browser.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const query = new URLSearchParams({
    backend: values.backend,
    sizes: values.sizes,
    presets: values.presets,
    runs: values.runs,
    frames: values.frames,
  });
  await page.goto(`http://127.0.0.1:${port}/scripts/bench-browser/page.html?${query}`);
  await page.waitForFunction(() => window.benchResult !== undefined, undefined, { timeout: 3 * 3600_000, polling: 1000 });
  const result = await page.evaluate(() => window.benchResult);
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  if (!result) throw new Error('benchmark page set no result');
  if (result.error) throw new Error(`benchmark failed: ${result.error}`);
  const software = /swiftshader|llvmpipe|software/i.test(result.renderer);
  console.log(`backend ${result.backend} on "${result.renderer}"${software ? ' (SOFTWARE renderer: not a GPU figure)' : ''}`);
  console.log(`matmul 1024²: ${result.peakGflops.toFixed(1)} GFLOP/s; median of ${runs} runs of ${frames} frames after 3 warm-up frames`);
  console.table(
    result.rows.map((r) => ({
      preset: r.preset,
      size: `${r.sizePx}x${r.sizePx}`,
      fps: +r.fpsMedian.toFixed(2),
      msPerFrame: +(1000 / r.fpsMedian).toFixed(1),
      draw: r.presentPath,
    })),
  );
  const summary = {
    date: new Date().toISOString(),
    kind: 'bench-browser',
    machine: `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}`,
    browser: browser.version(),
    backend: result.backend,
    renderer: result.renderer,
    software,
    runs,
    framesPerRun: frames,
    peakGflops: +result.peakGflops.toFixed(1),
    rows: result.rows.map((r) => ({ preset: r.preset, sizePx: r.sizePx, fps: +r.fpsMedian.toFixed(2), draw: r.presentPath })),
  };
  if (!values['no-history']) appendFileSync(path.join(root, 'bench', 'history.jsonl'), JSON.stringify(summary) + '\n');
} finally {
  await browser?.close();
  await server.close();
}
