// @ts-check
// Is the project's .tflite reader (core's weights/tflite.ts + nets/segmenter.ts, run in tf.js) the same
// network as MediaPipe's own runtime? Runs @mediapipe/selfie_segmentation as it ships (its 5.6 MB WASM
// graph, on its own WebGL context) in Debian's headless Chromium on the shared portraits, reads its
// segmentation masks back, and compares them with the project's masks of the same pixels in Node:
// IoU at 0.5 and mean |difference|. Also times MediaPipe's send() per frame in that Chromium (software
// WebGL here: the absolute figure means nothing, see docs/subject.md). Prints a Markdown table.
// Usage: node scripts/segmentation-parity.js
import '@livestyle/core';
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { chromium } from 'playwright-core';
import { PersonSegmenter } from '@livestyle/core/internal/nets/segmenter.js';
import { initNodeWasm } from '@livestyle/core/internal/backend/node-wasm.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.LIVESTYLE_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const mediapipeDir = path.dirname(createRequire(import.meta.url).resolve('@mediapipe/selfie_segmentation/package.json'));
const PHOTOS = ['brad_pitt.jpg', 'avril.jpg', 'blonde_girl.jpg', 'chicago.jpg'];
/** Photos are scaled to this long side (both runtimes see the same pixels). */
const SIDE_PX = 384;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const PAGE = `<!doctype html><meta charset="utf-8"><script src="/mp/selfie_segmentation.js"></script>
<script>
window.segmentAll = async (names) => {
  const seg = new SelfieSegmentation({ locateFile: (f) => '/mp/' + f });
  seg.setOptions({ modelSelection: 0, selfieMode: false });
  let resolveResult;
  seg.onResults((r) => resolveResult(r));
  const out = [];
  for (const name of names) {
    const img = new Image();
    img.src = '/img/' + name;
    await img.decode();
    const times = [];
    let mask;
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now();
      const done = new Promise((r) => (resolveResult = r));
      await seg.send({ image: img });
      const r = await done;
      times.push(performance.now() - t0);
      mask = r.segmentationMask;
    }
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(mask, 0, 0, c.width, c.height);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const channels = [0, 1, 2, 3].map((k) => { let s = 0; for (let i = k; i < d.length; i += 4) s += d[i]; return s / (d.length / 4) / 255; });
    out.push({ name, width: c.width, height: c.height, rgba: Array.from(d), channels, times });
  }
  await seg.close();
  return out;
};
</script>`;

const images = new Map();
for (const name of PHOTOS)
  images.set(
    name,
    await sharp(path.join(shared, 'data', 'content', name))
      .resize(SIDE_PX, SIDE_PX, { fit: 'inside' })
      .jpeg({ quality: 95 })
      .toBuffer(),
  );

const server = createServer((req, res) => {
  const url = (req.url ?? '/').split('?')[0] ?? '/';
  let body = null;
  let type = 'application/octet-stream';
  if (url === '/') {
    body = Buffer.from(PAGE);
    type = 'text/html';
  } else if (url.startsWith('/img/')) {
    body = images.get(url.slice(5)) ?? null;
    type = 'image/jpeg';
  } else if (url.startsWith('/mp/')) {
    const file = path.join(mediapipeDir, path.basename(url));
    if (existsSync(file)) body = readFileSync(file);
    if (file.endsWith('.js')) type = 'text/javascript';
    if (file.endsWith('.wasm')) type = 'application/wasm';
  }
  if (!body) return void res.writeHead(404).end();
  res.writeHead(200, { 'Content-Type': type }).end(body);
});
await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
const address = server.address();
if (!address || typeof address === 'string') throw new Error('no address');
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--enable-unsafe-webgpu'],
});
let results;
try {
  const page = await browser.newPage();
  page.on('console', (m) => process.env.VERBOSE && console.log('page:', m.text()));
  await page.goto(`http://127.0.0.1:${address.port}/`);
  results = await page.evaluate((names) => /** @type {any} */ (window).segmentAll(names), PHOTOS);
} finally {
  await browser.close();
  server.close();
}

if (process.env.DUMP) (await import('node:fs')).writeFileSync(process.env.DUMP, JSON.stringify(results));
await initNodeWasm();
const net = PersonSegmenter.fromTflite(new Uint8Array(readFileSync(path.join(mediapipeDir, 'selfie_segmentation.tflite'))));
console.log(
  `MediaPipe ${JSON.parse(readFileSync(path.join(mediapipeDir, 'package.json'), 'utf8')).version} in Chromium vs the project's reader on ${tf.getBackend()}; photos at ${SIDE_PX} px long side`,
);
console.log('| photo | MediaPipe person share | ours | IoU (0.5) | mean abs diff | MediaPipe send() median |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of results) {
  // The mask's confidence is in the channel whose mean varies (MediaPipe writes it to one channel).
  const channel = r.channels.indexOf(Math.max(...r.channels.slice(0, 3)));
  const theirs = Float32Array.from({ length: r.width * r.height }, (_, i) => r.rgba[4 * i + channel] / 255);
  const { data, info } = await sharp(images.get(r.name)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== r.width || info.height !== r.height) throw new Error(`${r.name}: sizes differ`);
  const ours = tf.tidy(() => net.segment(tf.div(tf.tensor4d(Float32Array.from(data), [1, info.height, info.width, 3]), 255)).dataSync());
  let inter = 0;
  let union = 0;
  let diff = 0;
  let shareTheirs = 0;
  let shareOurs = 0;
  for (let i = 0; i < ours.length; i++) {
    const a = (theirs[i] ?? 0) > 0.5;
    const b = (ours[i] ?? 0) > 0.5;
    if (a && b) inter++;
    if (a || b) union++;
    if (a) shareTheirs++;
    if (b) shareOurs++;
    diff += Math.abs((theirs[i] ?? 0) - (ours[i] ?? 0));
  }
  const times = [...r.times.slice(2)].sort((x, y) => x - y);
  console.log(
    `| ${r.name} | ${(shareTheirs / ours.length).toFixed(3)} | ${(shareOurs / ours.length).toFixed(3)} | ${union ? (inter / union).toFixed(3) : 'no person in either'} | ${(diff / ours.length).toFixed(4)} | ${times[Math.floor(times.length / 2)]?.toFixed(0)} ms |`,
  );
  if (process.env.VERBOSE)
    console.log(r.name, 'channel means', r.channels.map((/** @type {number} */ c) => c.toFixed(3)).join(' '), 'using', channel);
}
net.dispose();
