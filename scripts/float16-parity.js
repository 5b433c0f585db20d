// @ts-check
// `node scripts/float16-parity.js`: does the models package keep parity with float16 weights? Converts
// cd16x both ways into a temporary folder, stylises the two reference pairs of
// ../shared/reference/wct-cd16x-512 at their own size with each, and prints the PSNR of each 8-bit
// output against the published float reference (8-bit rounding alone is ~59 dB) and the download size.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import { convertModel } from '@livestyle/core';
import { readNpy } from '@livestyle/core/internal/io/npy.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.LIVESTYLE_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const ref = path.join(shared, 'reference', 'wct-cd16x-512');
const work = mkdtempSync(path.join(os.tmpdir(), 'livestyle-f16-'));

/** @param {string} png @param {string} npy */
async function psnr(png, npy) {
  const r = readNpy(new Uint8Array(readFileSync(npy)));
  const [, h = 0, w = 0] = r.shape;
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  let se = 0;
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const v = Math.min(1, Math.max(0, r.data[(c * h + y) * w + x] ?? 0));
        se += (v - (data[(y * info.width + x) * info.channels + c] ?? 0) / 255) ** 2;
      }
  return 10 * Math.log10(1 / (se / (3 * h * w)));
}

/** @param {string} dir */
const bytes = (dir) => readdirSync(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);

try {
  for (const float16 of [false, true]) {
    const models = path.join(work, float16 ? 'f16' : 'f32');
    await convertModel('cd16x', path.join(shared, 'models', 'raw', 'cd16x'), path.join(models, 'cd16x'), { float16 });
    const line = [`${float16 ? 'float16' : 'float32'}: ${(bytes(path.join(models, 'cd16x')) / 1e6).toFixed(2)} MB`];
    for (const pair of ['sailboat__sketch', 'chicago__starry_night']) {
      const files = readdirSync(ref);
      const find = (/** @type {string} */ p) => path.join(ref, files.find((f) => f.startsWith(`${pair}__${p}_`)) ?? '');
      const out = path.join(work, `${pair}.${float16 ? 'f16' : 'f32'}.png`);
      execFileSync(
        'node',
        [
          path.join(root, 'packages', 'cli', 'bin', 'livestyle.js'),
          'stylize',
          find('content'),
          '--style',
          find('style'),
          '--size',
          '0',
          '--backend',
          'wasm',
          '-q',
          '--out',
          out,
        ],
        {
          env: { ...process.env, LIVESTYLE_MODELS_DIR: models },
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      line.push(`${pair} ${(await psnr(out, path.join(ref, `${pair}.npy`))).toFixed(1)} dB`);
    }
    console.log(line.join(', '));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
