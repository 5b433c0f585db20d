// `livestyle video`, `eval temporal` and `eval flow` end to end through the built CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { encodeFlo } from '../../packages/core/src/temporal/flo.js';
import { REPO_ROOT, SHARED, countVideoFrames } from '../helpers.js';

const run = promisify(execFile);
const BIN = path.join(REPO_ROOT, 'packages', 'cli', 'bin', 'livestyle.js');
const CLIP = path.join(SHARED, 'data', 'video', 'sintel_raft_demo'); // 10 frames + SOURCE.txt
const STYLE = path.join(SHARED, 'data', 'style', 'starry_night.jpg');
let out: string;

beforeAll(() => {
  if (!existsSync(path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'main.js')))
    throw new Error('dist/ is missing: run `npm run build` first');
  if (spawnSync('ffmpeg', ['-version']).status !== 0) throw new Error('ffmpeg is missing: install it (see .ci/run)');
  out = mkdtempSync(path.join(os.tmpdir(), 'livestyle-video-'));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('node', [BIN, ...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const leftovers = (dir: string): string[] => readdirSync(dir).filter((f) => f.includes('.tmp'));

describe('livestyle video', () => {
  it('a folder of frames to a folder of PNGs with the input names, with progress', async () => {
    const dir = path.join(out, 'frames-out');
    const r = await cli(['video', CLIP, '--style', STYLE, '--size', '32', '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    const names = readdirSync(dir).sort();
    expect(names).toEqual(
      readdirSync(CLIP)
        .filter((f) => f.endsWith('.png'))
        .sort(),
    );
    const meta = await sharp(path.join(dir, names[0] as string)).metadata();
    expect([meta.width, meta.height]).toEqual([64, 32]); // 75x32 cropped to multiples of 16
    expect(r.stderr).toMatch(/10\/10 [\d.]+ frames\/s/);
    expect(r.stderr).toMatch(/wrote 10 frames/);
  }, 120_000);

  it('to an .mp4 and back from it (--no-temporal), and to a .webm', async () => {
    const mp4 = path.join(out, 'clip.mp4');
    const r = await cli(['video', CLIP, '--style', STYLE, '--size', '32', '--out', mp4, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(countVideoFrames(mp4)).toBe(10);
    const back = path.join(out, 'from-mp4');
    const r2 = await cli(['video', mp4, '--style', STYLE, '--size', '32', '--no-temporal', '--out', back, '--quiet']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(readdirSync(back).sort()[0]).toBe('frame_000001.png');
    expect(readdirSync(back)).toHaveLength(10);
    const webm = path.join(out, 'clip.webm');
    const r3 = await cli(['video', CLIP, '--style', STYLE, '--size', '32', '--out', webm, '--quiet']);
    expect(r3.code, r3.stderr).toBe(0);
    expect(countVideoFrames(webm)).toBe(10);
    expect(leftovers(out)).toEqual([]);
  }, 120_000);

  it('refuses bad input with a clear message and writes nothing', async () => {
    const bad = path.join(out, 'bad');
    mkdirSync(bad);
    const garbage = path.join(bad, 'garbage.mp4');
    writeFileSync(garbage, 'not a video');
    const empty = path.join(bad, 'empty');
    mkdirSync(empty);
    const mixed = path.join(bad, 'mixed');
    mkdirSync(mixed);
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#808080' } })
      .png()
      .toFile(path.join(mixed, 'a.png'));
    await sharp({ create: { width: 41, height: 30, channels: 3, background: '#808080' } })
      .png()
      .toFile(path.join(mixed, 'b.png'));
    const notImages = path.join(bad, 'not-images');
    mkdirSync(notImages);
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#808080' } })
      .png()
      .toFile(path.join(notImages, 'a.png'));
    writeFileSync(path.join(notImages, 'b.bin'), 'x');
    const target = path.join(bad, 'out');
    const cases: Array<[string[], RegExp, NodeJS.ProcessEnv?]> = [
      [[garbage], /garbage\.mp4: unreadable video/],
      [[empty], /no frames/],
      [[mixed], /frames differ in size \(a\.png is 40x30, b\.png is 41x30\)/],
      [[notImages], /holds files that are not frames \(b\.bin\)/],
      [[garbage], /ffmpeg not found .*apt-get install ffmpeg/, { LIVESTYLE_FFMPEG: '/nonexistent/ffmpeg' }],
    ];
    for (const [args, message, env] of cases) {
      const r = await cli(['video', ...args, '--style', STYLE, '--out', target, '--quiet'], env);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(existsSync(target)).toBe(false);
    }
    // An .mp4 output without ffmpeg fails before any frame is stylised or any file appears.
    const mp4 = path.join(bad, 'never.mp4');
    const r = await cli(['video', CLIP, '--style', STYLE, '--size', '32', '--out', mp4], { LIVESTYLE_FFMPEG: '/nonexistent/ffmpeg' });
    expect(r.stderr).toMatch(/ffmpeg not found/);
    expect(readdirSync(bad).filter((f) => f.includes('never'))).toEqual([]);
    const usage = await cli(['video', CLIP, '--style', STYLE]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--out .* is required/);
    const flowSize = await cli(['video', CLIP, '--style', STYLE, '--flow-size', '10', '--out', target]);
    expect(flowSize.code).toBe(2);
    expect(flowSize.stderr).toMatch(/--flow-size.*not an integer in \[32, 4096\]/);
  }, 120_000);

  // Ctrl-C, SIGTERM and SIGKILL mid-clip: test/durability.test.ts, deterministic (the decoder stalls
  // after a known frame, so the signal arrives in a state the run stays in).
});

describe('livestyle eval temporal / eval flow', () => {
  it('prints the warping error, then per-pair JSON; accepts given flows', async () => {
    const stylised = path.join(out, 'frames-out');
    if (!existsSync(stylised)) await cli(['video', CLIP, '--style', STYLE, '--size', '32', '--out', stylised, '--quiet']);
    const r = await cli(['eval', 'temporal', '--input', CLIP, '--output', stylised, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const [first, ...rest] = r.stdout.split('\n');
    const value = Number(first);
    expect(value).toBeGreaterThan(0);
    const report = JSON.parse(rest.join('\n')) as { warpingError: number; pairs: unknown[]; width: number };
    expect(report.warpingError).toBe(value);
    expect(report.pairs).toHaveLength(9);
    expect(report.width).toBe(64);
    const flows = path.join(out, 'flows');
    mkdirSync(flows, { recursive: true });
    for (let i = 0; i < 9; i++)
      writeFileSync(path.join(flows, `f${i}.flo`), encodeFlo({ width: 64, height: 32, data: new Float32Array(64 * 32 * 2) }));
    const given = await cli(['eval', 'temporal', '--input', CLIP, '--output', stylised, '--flow', flows, '--quiet']);
    expect(given.code, given.stderr).toBe(0);
    rmSync(path.join(flows, 'f8.flo'));
    const short = await cli(['eval', 'temporal', '--input', CLIP, '--output', stylised, '--flow', flows, '--quiet']);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/--flow has 8 \.flo files; 10 frames need 9/);
  }, 120_000);

  it('measures the style at --style-size and reports it, with the blur equivalent of --per-frame', async () => {
    const stylised = path.join(out, 'frames-out');
    if (!existsSync(stylised)) await cli(['video', CLIP, '--style', STYLE, '--size', '32', '--out', stylised, '--quiet']);
    const perFrame = path.join(out, 'per-frame');
    const v = await cli(['video', CLIP, '--style', STYLE, '--size', '32', '--no-temporal', '--out', perFrame, '--quiet']);
    expect(v.code, v.stderr).toBe(0);
    const args = ['eval', 'temporal', '--input', CLIP, '--output', stylised, '--style', STYLE, '--style-size', '512'];
    const r = await cli([...args, '--per-frame', perFrame]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`style loss against ${STYLE} at 512x320 (--style-size 512)`);
    const report = JSON.parse(r.stdout.split('\n').slice(1).join('\n')) as {
      styleLoss: number;
      styleReference: unknown;
      blurEquivalent: { sigmaPx: number; atBound: boolean; perFrameStyleLoss: number };
    };
    expect(report.styleReference).toEqual({ widthPx: 512, heightPx: 320, styleMaxSizePx: 512 });
    expect(report.styleLoss).toBeGreaterThan(0);
    expect(report.blurEquivalent.sigmaPx).toBeGreaterThanOrEqual(0);
    expect(report.blurEquivalent.sigmaPx).toBeLessThanOrEqual(3);
    // Against itself the per-frame output is its own blur equivalent: σ 0.
    const self = await cli([...args, '--output', perFrame, '--per-frame', perFrame, '--quiet']);
    expect(self.code, self.stderr).toBe(0);
    expect(JSON.parse(self.stdout.split('\n').slice(1).join('\n'))).toMatchObject({ blurEquivalent: { sigmaPx: 0, atBound: true } });
  }, 240_000);

  it('bad input gets one line: a style too small at --style-size, frames that do not pair up in count or size', async () => {
    const stylised = path.join(out, 'frames-out');
    if (!existsSync(stylised)) await cli(['video', CLIP, '--style', STYLE, '--size', '32', '--out', stylised, '--quiet']);
    // The wasm backend: a WebGPU adapter may print its own warnings on stderr.
    const oneLine = (stderr: string): string => {
      expect(stderr.trim().split('\n')).toHaveLength(1);
      return stderr.trim();
    };
    // starry_night is 1024x640: at --style-size 32 it is 32x20, under the 32x32 the stylizer's level 5 needs.
    const small = await cli([
      'eval',
      'temporal',
      '--input',
      CLIP,
      '--output',
      stylised,
      '--style',
      STYLE,
      '--style-size',
      '32',
      '--backend',
      'wasm',
      '--quiet',
    ]);
    expect(small.code).toBe(1);
    expect(oneLine(small.stderr)).toMatch(
      /^livestyle: error: --style \S+starry_night\.jpg: style is 32x20 after scaling to --style-size 32: level 5 needs at least 32x32 pixels; no run stylised with it at this scale$/,
    );
    const fewer = path.join(out, 'fewer');
    mkdirSync(fewer, { recursive: true });
    for (const f of readdirSync(stylised).slice(0, 4)) copyFileSync(path.join(stylised, f), path.join(fewer, f));
    const count = await cli(['eval', 'temporal', '--input', CLIP, '--output', fewer, '--backend', 'wasm', '--quiet']);
    expect(count.code).toBe(1);
    expect(oneLine(count.stderr)).toContain(`--input ${CLIP} has 10 frames but --output ${fewer} has 4; they must pair up`);
    const square = path.join(out, 'square');
    mkdirSync(square, { recursive: true });
    for (const f of readdirSync(stylised))
      await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
        .png()
        .toFile(path.join(square, f));
    const size = await cli(['eval', 'temporal', '--input', CLIP, '--output', square, '--backend', 'wasm', '--quiet']);
    expect(size.code).toBe(1);
    expect(oneLine(size.stderr)).toContain(
      `--output ${path.join(square, 'frame_0016.png')} is 64x64 but --input ${path.join(CLIP, 'frame_0016.png')} is 1024x436: not the same frame scaled`,
    );
  }, 120_000);

  it('eval flow reports the end-point error of the shared alley_1 pair', async () => {
    const dir = path.join(SHARED, 'data', 'flow', 'sintel_alley_1_f0002');
    const frames = ['frame_0002.png', 'frame_0003.png'].map((f) => path.join(dir, 'clean', f));
    const r = await cli(['eval', 'flow', '--frames', ...frames, '--gt', path.join(dir, 'flow', 'frame_0002.flo')]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { epeAll: number; epeNonOccluded: number; zeroMotionEpe: number };
    expect(report.epeAll).toBeLessThanOrEqual(0.6);
    expect(report.epeNonOccluded).toBeLessThanOrEqual(report.epeAll);
    expect(report.zeroMotionEpe).toBeCloseTo(2.98, 1);
    const wrong = await cli(['eval', 'flow', '--frames', frames[0] as string, '--gt', path.join(dir, 'flow', 'frame_0002.flo')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/exactly two images/);
  }, 60_000);
});
