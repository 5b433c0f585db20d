// End-to-end through the built CLI (`npm test` builds dist/ first).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { readNpy } from '../src/io/npy.js';
import { REPO_ROOT, SHARED } from './helpers.js';

const run = promisify(execFile);
const BIN = path.join(REPO_ROOT, 'bin', 'livestyle.js');
const REF = path.join(SHARED, 'reference', 'wct-cd16x-512');
let out: string;

beforeAll(() => {
  if (!existsSync(path.join(REPO_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  out = mkdtempSync(path.join(os.tmpdir(), 'livestyle-cli-'));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('node', [BIN, ...args], { env: { ...process.env }, maxBuffer: 1 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** PSNR of our 8-bit PNG against the float reference clamped to [0,1], over the reference's region. */
async function psnr(png: string, npy: string): Promise<number> {
  const ref = readNpy(new Uint8Array(readFileSync(npy)));
  const [, h = 0, w = 0] = ref.shape;
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  expect([info.width, info.height]).toEqual([w, h]);
  let se = 0;
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const r = Math.min(1, Math.max(0, ref.data[(c * h + y) * w + x]!));
        se += (r - data[(y * info.width + x) * info.channels + c]! / 255) ** 2;
      }
  return 10 * Math.log10(1 / (se / (3 * h * w)));
}

describe('livestyle stylize: end-to-end parity with the published cd16x WCT cascade', () => {
  it.each(['sailboat__sketch', 'chicago__starry_night'])('%s reproduces the reference at >= 40 dB PSNR', async (pair) => {
    const files = readdirSync(REF);
    const content = path.join(
      REF,
      files.find((f) => f.startsWith(`${pair}__content_`))!,
    );
    const style = path.join(
      REF,
      files.find((f) => f.startsWith(`${pair}__style_`))!,
    );
    const target = path.join(out, `${pair}.png`);
    const r = await cli(['stylize', content, '--style', style, '--size', '0', '--out', target]);
    expect(r.code, r.stderr).toBe(0);
    const db = await psnr(target, path.join(REF, `${pair}.npy`));
    expect(db).toBeGreaterThanOrEqual(40);
  });
});

describe('livestyle stylize: bad input gives one clear line and no output file', () => {
  const content = path.join(SHARED, 'data', 'content', 'sailboat.jpg');
  const style = path.join(
    SHARED,
    'data',
    'style',
    readdirSync(path.join(SHARED, 'data', 'style')).find((f) => /\.(jpg|png)$/.test(f))!,
  );

  it.each([
    [['stylize', content], 2, /at least one --style/],
    [['stylize', content, '--style', 'x.png@heavy'], 2, /bad style weight in "x.png@heavy"/],
    [['stylize', content, '--style', style, '--alpha', '1.5'], 2, /"1.5" is not a number in \[0, 1\]/],
    [['stylize', content, '--style', style, '--size', '-3'], 2, /is not an integer in \[0, 8192\]/],
    [['stylize', content, '--style', style, '--levels', '5,9'], 2, /bad --levels "5,9"/],
    [['stylize', content, '--style', style, '--model', 'vgg19', '--levels', '4'], 1, /level 4 is not available in vgg19/],
    [['stylize', content, '--style', 'missing.jpg'], 1, /missing\.jpg: cannot read \(ENOENT\)/],
    [['stylize', content, '--style', style, '--out', 'x.jpg'], 2, /--out must end in \.png/],
  ])('%j exits %i', async (args, code, message) => {
    const target = path.join(out, 'never.png');
    const r = await cli([...args, ...(args.includes('--out') ? [] : ['--out', target])]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(target)).toBe(false);
  });

  it('an unreadable image (text named .png) fails cleanly, leaving nothing behind', async () => {
    const fake = path.join(out, 'fake.png');
    writeFileSync(fake, 'not an image');
    const target = path.join(out, 'result.png');
    const r = await cli(['stylize', fake, '--style', style, '--out', target, '--size', '64']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/fake\.png: unreadable or unsupported image/);
    expect(readdirSync(out).filter((f) => f.includes('result'))).toEqual([]);
  });

  it('--size resizes the short side and keeps the aspect; blending and colour options work', async () => {
    const target = path.join(out, 'small.png');
    const wide = path.join(SHARED, 'data', 'content', 'chicago.jpg'); // 712x474
    const r = await cli([
      'stylize',
      wide,
      '--style',
      `${style}@0.7`,
      '--style',
      `${content}@0.3`,
      '--size',
      '64',
      '--preserve-color',
      '--method',
      'adain',
      '--out',
      target,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const meta = await sharp(target).metadata();
    // 64 px short side → 96x64 after resizing; the cascade keeps multiples of 16.
    expect([meta.width, meta.height]).toEqual([96, 64]);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
