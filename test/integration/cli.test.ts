// End-to-end through the built CLI (`npm test` builds dist/ first).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { readNpy } from '../../packages/core/src/io/npy.js';
import { REPO_ROOT, SHARED } from '../helpers.js';

const run = promisify(execFile);
const BIN = path.join(REPO_ROOT, 'packages', 'cli', 'bin', 'livestyle.js');
const REF = path.join(SHARED, 'reference', 'wct-cd16x-512');
let out: string;

beforeAll(() => {
  if (!existsSync(path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'main.js')))
    throw new Error('dist/ is missing: run `npm run build` first');
  out = mkdtempSync(path.join(os.tmpdir(), 'livestyle-cli-'));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('node', [BIN, ...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 20 });
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
    [['stylize', content, '--style', style, '--size', '-3'], 2, /"-3" is not 0 or an integer in \[32, 8192\]/],
    [['stylize', content, '--style', style, '--levels', '5,9'], 2, /bad --levels "5,9"/],
    [['stylize', content, '--style', style, '--model', 'vgg19', '--levels', '4'], 1, /level 4 is not available in vgg19/],
    [['stylize', content, '--style', 'missing.jpg'], 1, /missing\.jpg: cannot read \(ENOENT\)/],
    [['stylize', content, '--style', style, '--out', 'x.jpg'], 2, /--out must end in \.png/],
    [['stylize', content, '--style', style, '--tile', '10'], 2, /--tile "10" is not 0 or an integer in \[64, 8192\]/],
    [['stylize', content, '--style', style, '--preset', 'fast'], 2, /'fast' is invalid\. Allowed choices are realtime, balanced, best/],
  ])('%j exits %i', async (args, code, message) => {
    const target = path.join(out, 'never.png');
    const r = await cli([...args, ...(args.includes('--out') ? [] : ['--out', target])]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(target)).toBe(false);
  });

  it('--preset realtime runs its one level; --levels given with it wins', async () => {
    const target = path.join(out, 'preset.png');
    const r = await cli(['stylize', content, '--style', style, '--preset', 'realtime', '--size', '104', '--out', target]);
    expect(r.code, r.stderr).toBe(0);
    const meta = await sharp(target).metadata();
    expect(meta.height).toBe(104); // level 4 only: cropped to a multiple of 8 (the default's 16 would give 96)
    const overridden = path.join(out, 'preset-levels.png');
    const r2 = await cli([
      'stylize',
      content,
      '--style',
      style,
      '--preset',
      'realtime',
      '--levels',
      '1',
      '--size',
      '105',
      '--out',
      overridden,
    ]);
    expect(r2.code, r2.stderr).toBe(0);
    expect((await sharp(overridden).metadata()).height).toBe(105); // level 1 alone crops nothing
  });

  it('a second run with the same style reads its statistics from the cache; --no-style-cache encodes it again', async () => {
    const env = { LIVESTYLE_CACHE_DIR: path.join(out, 'style-cache') };
    const args = (name: string, ...more: string[]): string[] => [
      'stylize',
      content,
      '--style',
      style,
      '--size',
      '64',
      '--style-size',
      '64',
      '--out',
      path.join(out, name),
      ...more,
    ];
    const cold = await cli(args('cache-cold.png'), env);
    expect(cold.code, cold.stderr).toBe(0);
    expect(cold.stderr).toContain('style statistics: computed\n');
    const warm = await cli(args('cache-warm.png'), env);
    expect(warm.code, warm.stderr).toBe(0);
    expect(warm.stderr).toContain('style statistics: cached\n');
    expect(readFileSync(path.join(out, 'cache-warm.png'))).toEqual(readFileSync(path.join(out, 'cache-cold.png')));
    const off = await cli(args('cache-off.png', '--no-style-cache'), env);
    expect(off.stderr).toContain('style statistics: computed\n');
    expect(readdirSync(path.join(env.LIVESTYLE_CACHE_DIR, 'style-stats-v1'))).toHaveLength(5); // one per level, none added
  });

  it('--tile stylises a larger image tile by tile, matching the untiled output', async () => {
    const tiledPng = path.join(out, 'tiled.png');
    const wholePng = path.join(out, 'whole.png');
    const r = await cli(['stylize', content, '--style', style, '--tile', '64', '--size', '160', '--out', tiledPng]);
    expect(r.code, r.stderr).toBe(0);
    expect((await cli(['stylize', content, '--style', style, '--size', '160', '--out', wholePng])).code).toBe(0);
    const [a, b] = await Promise.all([sharp(tiledPng).raw().toBuffer(), sharp(wholePng).raw().toBuffer()]);
    expect(a.length).toBe(b.length);
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
    expect(sum / a.length).toBeLessThan(0.5); // in 8-bit levels
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

describe('livestyle optimize', () => {
  const content = path.join(SHARED, 'data', 'content', 'chicago.jpg'); // 712x474
  const style = path.join(SHARED, 'data', 'style', 'starry_night.jpg');

  it('writes the optimised PNG and the per-iteration losses (which fall)', async () => {
    const target = path.join(out, 'gatys.png');
    const json = path.join(out, 'gatys.json');
    const r = await cli(['optimize', content, '--style', style, '--size', '32', '--iters', '8', '--out', target, '--json', json]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/wrote .*gatys\.png \(8 iterations/);
    const meta = await sharp(target).metadata();
    expect([meta.width, meta.height]).toEqual([48, 32]);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { history: Array<{ total: number }>; parts: { total: number } };
    expect(report.history).toHaveLength(8);
    expect(report.history[7]!.total).toBeLessThan(0.5 * report.history[0]!.total);
    expect(report.parts.total).toBe(Math.min(...report.history.map((h) => h.total)));
  });

  it.each([
    [['--size', '8'], /--size.*"8" is not an integer in \[16, 2048\]/],
    [['--size', '4096'], /"4096" is not an integer in \[16, 2048\]/],
    [['--iters', '0'], /--iters.*"0" is not an integer in \[1, 5000\]/],
    [['--iters', '100000'], /\[1, 5000\]/],
    [['--style-weight', 'NaN'], /"NaN" is not a finite number >= 0/],
    [['--init', 'magic'], /Allowed choices are content, noise, wct/],
  ])('refuses %j with a message that states the limit (exit 2)', async (args, message) => {
    const r = await cli(['optimize', content, '--style', style, ...args, '--out', path.join(out, 'refused.png')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(path.join(out, 'refused.png'))).toBe(false);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s stops the run, writes the best image so far and exits %d', async (signal, exitCode) => {
    const target = path.join(out, `interrupted-${signal}.png`);
    const child = spawn('node', [BIN, 'optimize', content, '--style', style, '--size', '32', '--iters', '5000', '--out', target], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let interrupted = false;
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // Interrupt once progress shows (every 25 iterations when stderr is not a terminal).
      if (!interrupted && /^25\/5000 /m.test(stderr)) interrupted = child.kill(signal);
    });
    expect(await exited).toBe(exitCode);
    expect(stderr).toMatch(/stopping: writing the best image so far/);
    expect(stderr).toMatch(/wrote .*interrupted-SIG[A-Z]+\.png \(stopped after \d+ iterations: interrupted/);
    expect((await sharp(target).metadata()).width).toBe(48);
  });

  it('an Inf/NaN loss stops with an error and writes nothing', async () => {
    const target = path.join(out, 'overflow.png');
    const r = await cli(['optimize', content, '--style', style, '--size', '32', '--iters', '3', '--style-weight', '1e39', '--out', target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/optimisation stopped at iteration 1: loss is (Infinity|NaN)/);
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('livestyle eval quality', () => {
  it('puts WCT, AdaIN, Gatys and the hybrid side by side: index.html, metrics.json, comparison.jpg', async () => {
    const list = path.join(out, 'pairs.txt');
    writeFileSync(
      list,
      `# content style\n${path.join(SHARED, 'data', 'content', 'sailboat.jpg')} ${path.join(SHARED, 'data', 'style', 'sketch.png')}\n`,
    );
    const report = path.join(out, 'report');
    const r = await cli([
      'eval',
      'quality',
      '--pairs',
      list,
      '--out',
      report,
      '--size',
      '32',
      '--iters',
      '6',
      '--hybrid-iters',
      '3',
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(path.join(report, 'metrics.json'), 'utf8')) as {
      pairs: Array<{ name: string; methods: Record<string, { styleLoss: number; contentLoss: number; ssim: number; timeMs: number }> }>;
    };
    expect(metrics.pairs).toHaveLength(1);
    const m = metrics.pairs[0]!;
    expect(m.name).toBe('sailboat__sketch');
    expect(Object.keys(m.methods).sort()).toEqual(['adain', 'gatys', 'hybrid', 'wct']);
    for (const v of Object.values(m.methods)) {
      expect(v.styleLoss).toBeGreaterThan(0);
      expect(v.ssim).toBeGreaterThan(-1);
      expect(v.ssim).toBeLessThan(1);
      expect(v.timeMs).toBeGreaterThan(0);
    }
    // The optimiser minimises the style loss it is measured by: it beats the content image it starts from by far.
    expect(m.methods.gatys!.styleLoss).toBeLessThan(m.methods.adain!.styleLoss);
    const hybrid = m.methods.hybrid as unknown as {
      objective: number;
      gatysObjectiveAtSameIterations: number;
      iterationsToMatchGatys: number | null;
    };
    expect(hybrid.objective).toBeGreaterThan(0);
    expect(hybrid.gatysObjectiveAtSameIterations).toBeGreaterThan(0);
    expect(hybrid.iterationsToMatchGatys === null || hybrid.iterationsToMatchGatys >= 1).toBe(true);
    const html = readFileSync(path.join(report, 'index.html'), 'utf8');
    for (const method of ['wct', 'adain', 'gatys', 'hybrid']) {
      expect(html).toContain(`src="sailboat__sketch/${method}.png"`);
      expect(existsSync(path.join(report, 'sailboat__sketch', `${method}.png`))).toBe(true);
    }
    expect(html).toMatch(/alt="gatys image for sailboat__sketch"/);
    const grid = await sharp(path.join(report, 'comparison.jpg')).metadata();
    expect([grid.width, grid.height]).toEqual([4 * 192, 192]); // WCT, AdaIN, Gatys, hybrid
  });

  it('refuses a pairs file that does not parse, naming the line', async () => {
    const list = path.join(out, 'bad-pairs.txt');
    writeFileSync(list, 'only-one-path.jpg\n');
    const r = await cli(['eval', 'quality', '--pairs', list, '--out', path.join(out, 'bad-report')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-pairs\.txt:1: expected "content style"/);
    expect(existsSync(path.join(out, 'bad-report'))).toBe(false);
  });
});

describe('the Node library', () => {
  it('lets a script exit by itself once its work is done (the WASM pool threads do not hold Node)', async () => {
    // Before the fix, emscripten ref()'d every pthread worker and XNNPACK's pool threads never
    // return, so a script that stylised a 128 px image never exited.
    const script = `
      import { Stylizer, readImageFile } from '@livestyle/core';
      import { initNodeWasm } from '@livestyle/core/internal/backend/node-wasm.js';
      const { threads } = await initNodeWasm();
      const content = await readImageFile(${JSON.stringify(path.join(SHARED, 'data', 'content', 'golden_gate.jpg'))}, 128);
      const s = await Stylizer.create({ backend: 'wasm' });
      await s.setStyles([{ image: content }]);
      (await s.stylize(content)).dispose();
      s.dispose();
      console.log('threads', threads);`;
    // A script that does not exit is killed at the timeout, and then `run` rejects (killed, signal
    // SIGTERM): resolving at all is the assertion that it exited by itself, with status 0.
    const r = await run('node', ['--input-type=module', '-e', script], { cwd: REPO_ROOT, timeout: 60_000 }).catch(
      (e: { killed?: boolean; signal?: string }) => ({ stdout: `killed: ${String(e.killed)}, signal ${String(e.signal)}` }),
    );
    expect(r.stdout).toMatch(/threads [2-9]/); // exited by itself, and the pool was really in use
  }, 90_000);
});

describe('livestyle models --from', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'livestyle-models-from-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('converts from a folder of downloaded .pth files, verifying each sha256, and refuses a tampered or missing one', async () => {
    // A user's downloads: cd16x's files side by side (no <model>/ subfolder), nothing of vgg19.
    const downloads = path.join(dir, 'downloads');
    mkdirSync(downloads);
    const raw = path.join(SHARED, 'models', 'raw', 'cd16x');
    for (const f of readdirSync(raw).filter((x) => x.endsWith('.pth'))) copyFileSync(path.join(raw, f), path.join(downloads, f));
    const out = path.join(dir, 'models');
    const ok = await cli(['models', '--from', downloads, '--out', out]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/converted cd16x \(sha256 verified\): levels 1,2,3,4,5/);
    expect(ok.stderr).toMatch(/skipped: vgg19/);
    expect(existsSync(path.join(out, 'cd16x', 'manifest.json'))).toBe(true);
    // One flipped byte: refused by name, with both hashes, and no model written.
    const tampered = path.join(dir, 'tampered');
    mkdirSync(tampered);
    for (const f of readdirSync(downloads)) copyFileSync(path.join(downloads, f), path.join(tampered, f));
    const bytes = readFileSync(path.join(tampered, '3SE.pth'));
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 10) ^ 0xff, bytes.length - 10);
    writeFileSync(path.join(tampered, '3SE.pth'), bytes);
    const bad = await cli(['models', '--from', tampered, '--out', path.join(dir, 'bad-out')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/3SE\.pth: sha256 [0-9a-f]{64} does not match the published checkpoint \(269cdd0e/);
    expect(existsSync(path.join(dir, 'bad-out', 'cd16x', 'manifest.json'))).toBe(false);
    // A folder without any of them says what it expected.
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    const none = await cli(['models', '--from', empty, '--out', path.join(dir, 'none-out')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no raw checkpoints of cd16x or vgg19 in .*empty \(expected 1SD\.pth, 1SE\.pth, .*"Getting the weights"/);
    // The error a user meets before converting names the command.
    const missing = await cli(
      [
        'stylize',
        path.join(SHARED, 'data', 'content', 'golden_gate.jpg'),
        '--style',
        path.join(SHARED, 'data', 'style', 'la_muse.jpg'),
        '--out',
        path.join(dir, 'x.png'),
      ],
      {
        LIVESTYLE_MODELS_DIR: path.join(dir, 'no-models-here'),
      },
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/npx livestyle models --from/);
  }, 180_000);
});
