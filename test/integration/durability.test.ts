// Issue 21: nothing lost, nothing silently wrong. Faults are real: ffmpeg faults through the fake
// $LIVESTYLE_FFMPEG wrapper (test/support/fake-ffmpeg.sh: a killed or hung decoder, an encoder that
// dies), signals sent to the whole process group as a terminal does, and a full disk through a small
// tmpfs (mounted where the test runs as root; skipped with a message where it cannot mount).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { REPO_ROOT, SHARED, countVideoFrames } from '../helpers.js';

const run = promisify(execFile);
const BIN = path.join(REPO_ROOT, 'packages', 'cli', 'bin', 'livestyle.js');
const CLIP = path.join(SHARED, 'data', 'video', 'sintel_raft_demo'); // 10 frames, 1024x436
const STYLE = path.join(SHARED, 'data', 'style', 'starry_night.jpg');
const CONTENT = path.join(SHARED, 'data', 'content', 'avril.jpg');
/** The 40-frame test clips (128x54) at `--size 32` become 64x32 frames (76x32 cropped to 16s): rgb24 bytes. */
const FRAME_BYTES_32 = 64 * 32 * 3;

let dir: string;
let fakeDir: string; // holds `ffmpeg` (the wrapper) and `ffprobe` (the real one)
let webm: string; // 40 frames; WebM stores no frame count (checked by duration)
let mp4: string; // 40 frames; MP4 stores the count

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  try {
    const r = await run('node', [BIN, ...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 24, timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const fake = (settings: Record<string, string>): NodeJS.ProcessEnv => ({ LIVESTYLE_FFMPEG: path.join(fakeDir, 'ffmpeg'), ...settings });
const hidden = (d: string): string[] => readdirSync(d).filter((f) => f.startsWith('.') || f.includes('.tmp'));

/** Resolves once `ready()` holds (a state the run reaches and then stays in), polling the file system. */
async function until(ready: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (ready()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function spawnCli(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
  // detached: the CLI leads its own process group, as a shell's foreground job does, so a signal to
  // -pid reaches every process of that group, as a terminal's Ctrl-C does.
  const child = spawn('node', [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

beforeAll(() => {
  if (spawnSync('ffmpeg', ['-version']).status !== 0) throw new Error('ffmpeg is missing: install it (see .ci/run)');
  if (!existsSync(path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'main.js')))
    throw new Error('dist/ is missing: run `npm run build` first');
  dir = mkdtempSync(path.join(os.tmpdir(), 'livestyle-durability-'));
  fakeDir = path.join(dir, 'fake-ffmpeg');
  mkdirSync(fakeDir);
  symlinkSync(path.join(REPO_ROOT, 'test', 'support', 'fake-ffmpeg.sh'), path.join(fakeDir, 'ffmpeg'));
  const ffprobe = spawnSync('sh', ['-c', 'command -v ffprobe'], { encoding: 'utf8' }).stdout.trim();
  symlinkSync(ffprobe, path.join(fakeDir, 'ffprobe'));
  // 40 frames: the shared clip four times over, 128 px wide.
  const list = path.join(dir, 'list.txt');
  const frames = readdirSync(CLIP)
    .filter((f) => f.endsWith('.png'))
    .sort();
  writeFileSync(list, Array.from({ length: 4 }, () => frames.map((f) => `file '${path.join(CLIP, f)}'\n`).join('')).join(''));
  webm = path.join(dir, 'clip.webm');
  mp4 = path.join(dir, 'clip.mp4');
  for (const [out, codec] of [
    [webm, ['-c:v', 'libvpx-vp9', '-b:v', '0', '-crf', '40']],
    [mp4, ['-c:v', 'libx264', '-pix_fmt', 'yuv420p']],
  ] as const) {
    const r = spawnSync('ffmpeg', [
      '-v',
      'error',
      '-f',
      'concat',
      '-safe',
      '0',
      '-r',
      '25',
      '-i',
      list,
      '-vf',
      'scale=128:-2',
      ...codec,
      out,
    ]);
    if (r.status !== 0) throw new Error(`could not make ${out}: ${r.stderr.toString()}`);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('video outputs exist only when complete (items 1-3)', () => {
  it('a full disk while encoding: exit 1, "disk full", no video and no temporary file', async (ctx) => {
    const disk = path.join(dir, 'small-disk');
    mkdirSync(disk);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]).status !== 0) {
      ctx.skip('cannot mount a tmpfs here (needs root): the full-disk case is not exercised');
      return;
    }
    try {
      // Leave ~4 KiB: less than either video of 10 frames needs.
      writeFileSync(path.join(disk, 'filler'), Buffer.alloc(60 * 1024));
      for (const ext of ['webm', 'mp4']) {
        const target = path.join(disk, `v.${ext}`);
        const r = await cli(['video', CLIP, '--style', STYLE, '--size', '32', '--out', target, '--quiet']);
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`v\\.${ext}: disk full: .*no video written`));
        expect(readdirSync(disk)).toEqual(['filler']);
      }
    } finally {
      spawnSync('umount', [disk]);
    }
  }, 120_000);

  it('a decoder killed by a signal mid-clip is a failure naming the frame, and leaves no frames', async () => {
    const target = path.join(dir, 'killed-decoder');
    const r = await cli(
      ['video', webm, '--style', STYLE, '--size', '32', '--out', target, '--quiet'],
      fake({ FAKE_DECODE_FRAMES: '5', FAKE_DECODE_THEN: 'kill' }),
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/clip\.webm: the decoder \(ffmpeg\) was killed by SIGKILL after frame 5/);
    expect(existsSync(target)).toBe(false); // the frames this run wrote are removed, and the folder it made
  }, 60_000);

  it('an input that ends early is refused: a truncated WebM (by its duration) and an MP4 short of its frame count', async () => {
    const truncated = path.join(dir, 'truncated.webm');
    copyFileSync(webm, truncated);
    truncateSync(truncated, Math.floor(statSync(webm).size / 2));
    const a = await cli(['video', truncated, '--style', STYLE, '--size', '32', '--out', path.join(dir, 'from-truncated.mp4'), '--quiet']);
    expect(a.code, a.stderr).toBe(1);
    expect(a.stderr).toMatch(/truncated\.webm: input truncated at frame \d+ of 40 \(by its duration\)/);
    const b = await cli(
      ['video', mp4, '--style', STYLE, '--size', '32', '--out', path.join(dir, 'from-short.mp4'), '--quiet'],
      fake({ FAKE_DECODE_FRAMES: '6', FAKE_DECODE_THEN: 'end' }),
    );
    expect(b.code, b.stderr).toBe(1);
    expect(b.stderr).toMatch(/clip\.mp4: input truncated at frame 6 of 40/);
    expect(readdirSync(dir).filter((f) => f.startsWith('from-') || f.includes('.tmp'))).toEqual([]);
  }, 60_000);

  it('an encoder that dies mid-run: exit 1 with the cause on stderr, no hidden temporary file, no hang', async () => {
    const out = path.join(dir, 'encoder-dies');
    mkdirSync(out);
    const r = await cli(
      ['video', webm, '--style', STYLE, '--size', '32', '--out', path.join(out, 'v.webm'), '--quiet'],
      fake({ FAKE_ENCODE_DIE_AFTER_BYTES: String(2 * FRAME_BYTES_32) }),
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /v\.webm: encoding failed after \d+ frames \(the encoder \(ffmpeg\) was killed by SIGKILL\); no video written/,
    );
    expect(readdirSync(out)).toEqual([]);
  }, 60_000);
});

describe('signals (items 4-5)', () => {
  // The decoder sends `frames` frames and then hangs (as a stalled source would): the run reaches a
  // state it stays in (those frames encoded or written) before the signal, so the result is exact.
  async function interrupted(
    kind: 'mp4' | 'folder',
    signal: NodeJS.Signals,
    wholeGroup: boolean,
  ): Promise<{ code: number | null; target: string; stderr: string }> {
    const name = `${signal}-${wholeGroup ? 'group' : 'node'}`;
    const target = kind === 'mp4' ? path.join(dir, `${name}.mp4`) : path.join(dir, name);
    const tee = path.join(dir, `${name}.raw`);
    const cliRun = spawnCli(
      ['video', webm, '--style', STYLE, '--size', '32', '--out', target],
      fake({ FAKE_DECODE_FRAMES: '3', FAKE_DECODE_THEN: 'stall', FAKE_ENCODE_TEE: tee }),
    );
    if (kind === 'mp4') await until(() => existsSync(tee) && statSync(tee).size >= 3 * FRAME_BYTES_32, 'three frames at the encoder');
    else
      await until(() => existsSync(target) && readdirSync(target).filter((f) => f.endsWith('.png')).length === 3, 'three frames written');
    if (wholeGroup) process.kill(-cliRun.child.pid!, signal);
    else cliRun.child.kill(signal);
    return { code: await cliRun.exit, target, stderr: cliRun.stderr() };
  }

  it.each([
    ['mp4', 'SIGINT', true, 130],
    ['mp4', 'SIGTERM', false, 143],
    ['folder', 'SIGINT', true, 130],
    ['folder', 'SIGTERM', true, 143],
  ] as const)(
    '%s output: %s (to the whole group: %s) keeps exactly the frames done and exits %d',
    async (kind, signal, group, exitCode) => {
      const r = await interrupted(kind, signal, group);
      expect(r.code, r.stderr).toBe(exitCode);
      expect(r.stderr).toMatch(/wrote 3 frames to .*\(interrupted\)/);
      if (kind === 'mp4') {
        expect(countVideoFrames(r.target)).toBe(3);
        expect(hidden(dir)).toEqual([]);
      } else {
        const files = readdirSync(r.target).sort();
        expect(files).toEqual(['frame_000001.png', 'frame_000002.png', 'frame_000003.png']);
        expect((await sharp(path.join(r.target, files[0]!)).metadata()).width).toBe(64);
      }
    },
    90_000,
  );

  it('SIGKILL leaves a temporary file; the next run into that folder removes it (its process is gone)', async () => {
    const out = path.join(dir, 'killed');
    mkdirSync(out);
    const tee = path.join(dir, 'killed.raw');
    const target = path.join(out, 'v.mp4');
    const first = spawnCli(
      ['video', webm, '--style', STYLE, '--size', '32', '--out', target],
      fake({ FAKE_DECODE_FRAMES: '2', FAKE_DECODE_THEN: 'stall', FAKE_ENCODE_TEE: tee }),
    );
    await until(() => existsSync(tee) && statSync(tee).size >= 2 * FRAME_BYTES_32, 'two frames at the encoder');
    process.kill(-first.child.pid!, 'SIGKILL'); // node and the hung decoder; the encoder has its own group
    await first.exit;
    const stale = `.v.${first.child.pid}.tmp.mp4`;
    await until(() => existsSync(path.join(out, stale)), 'the killed run’s temporary file');
    // A live process's temporary file (this test runner's pid) must stay.
    const live = `.frame.png.${process.pid}.1.tmp`;
    writeFileSync(path.join(out, live), 'in progress');
    const r = await cli(['video', CLIP, '--style', STYLE, '--size', '32', '--out', target, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(countVideoFrames(target)).toBe(10);
    expect(readdirSync(out).sort()).toEqual([live, 'v.mp4'].sort());
  }, 90_000);
});

describe('inputs are never clobbered, frames never lost (items 6-9)', () => {
  it('refuses an output that is an input (also through a link), before any work', async () => {
    const work = path.join(dir, 'clobber');
    mkdirSync(work);
    const photo = path.join(work, 'photo.png');
    await sharp(CONTENT).resize(64).png().toFile(photo);
    const before = readFileSync(photo);
    symlinkSync(photo, path.join(work, 'alias.png'));
    const style = path.join(work, 'style.png');
    copyFileSync(photo, style);
    const frames = path.join(work, 'frames');
    mkdirSync(frames);
    copyFileSync(photo, path.join(frames, 'f1.png'));
    for (const [args, input] of [
      [['stylize', photo, '--style', STYLE, '--out', photo], 'photo.png'],
      [['stylize', photo, '--style', STYLE, '--out', path.join(work, 'alias.png')], 'photo.png'],
      [['stylize', photo, '--style', style, '--out', style], 'style.png'],
      [['optimize', photo, '--style', STYLE, '--out', photo], 'photo.png'],
      [['video', frames, '--style', STYLE, '--out', frames], 'frames'],
      [['video', frames, '--style', STYLE, '--out', `${frames}/`], 'frames'],
    ] as const) {
      const r = await cli([...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`is the input .*${input}: refusing to overwrite it`));
    }
    expect(readFileSync(photo).equals(before)).toBe(true);
    expect(readdirSync(frames)).toEqual(['f1.png']);
  }, 60_000);

  it('refuses frames whose output names collide (a.png and a.jpg), and broken links', async () => {
    const frames = path.join(dir, 'collide');
    mkdirSync(frames);
    await sharp(CONTENT).resize(64, 32).png().toFile(path.join(frames, 'a.png'));
    await sharp(CONTENT).resize(64, 32).jpeg().toFile(path.join(frames, 'a.jpg'));
    await sharp(CONTENT).resize(64, 32).png().toFile(path.join(frames, 'b.png'));
    const out = path.join(dir, 'collide-out');
    const r = await cli(['video', frames, '--style', STYLE, '--size', '32', '--out', out]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/a\.jpg and a\.png would both be written as a\.png; rename one/);
    expect(existsSync(out)).toBe(false);
    rmSync(path.join(frames, 'a.jpg'));
    symlinkSync(path.join(frames, 'gone.png'), path.join(frames, 'c.png'));
    const broken = await cli(['video', frames, '--style', STYLE, '--size', '32', '--out', out]);
    expect(broken.code, broken.stderr).toBe(1);
    expect(broken.stderr).toMatch(/c\.png: a broken link/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it('a frame that fails mid-clip (truncated PNG) leaves no partial set of frames', async () => {
    const frames = path.join(dir, 'damaged');
    mkdirSync(frames);
    for (let i = 1; i <= 4; i++)
      await sharp(CONTENT)
        .resize(64, 32)
        .png()
        .toFile(path.join(frames, `frame_000${i}.png`));
    const third = path.join(frames, 'frame_0003.png');
    truncateSync(third, Math.floor(statSync(third).size / 2)); // the header (size) still reads
    const out = path.join(dir, 'damaged-out');
    const r = await cli(['video', frames, '--style', STYLE, '--size', '32', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/frame_0003\.png/);
    expect(existsSync(out)).toBe(false);
    // Into an existing folder: the folder and what was there before stay; this run's frames go.
    mkdirSync(out);
    writeFileSync(path.join(out, 'notes.txt'), 'mine');
    const again = await cli(['video', frames, '--style', STYLE, '--size', '32', '--out', out, '--quiet']);
    expect(again.code).toBe(1);
    expect(readdirSync(out)).toEqual(['notes.txt']);
  }, 60_000);
});

describe('argument mistakes and sizes (items 11, 14, 17)', () => {
  it('video refuses argument mistakes with exit 2 before the model loads, as stylize does', async () => {
    const existing = path.join(dir, 'a-file');
    writeFileSync(existing, 'x');
    for (const [args, message] of [
      [['--out', path.join(dir, 'x.mov')], /--out video must be \.webm or \.mp4/],
      [['--out', path.join(dir, 'missing', 'v.mp4')], /--out folder .*missing does not exist/],
      [['--out', existing], /is an existing file, not a folder/],
      [['--out', path.join(dir, 'o'), '--size', '16'], /--size.*"16" is not 0 or an integer in \[32, 8192\]/],
    ] as const) {
      const r = await cli(['video', CLIP, '--style', STYLE, ...args], { LIVESTYLE_MODELS_DIR: '/nonexistent' });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    for (const command of [
      ['video', CLIP, '--out', path.join(dir, 'o')],
      ['stylize', CONTENT, '--out', path.join(dir, 'o.png')],
    ]) {
      const r = await cli([...command, '--style', `${STYLE}@0`], { LIVESTYLE_MODELS_DIR: '/nonexistent' });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/style weights are all 0/);
    }
  }, 60_000);

  it('a style image too small for the deepest level names the file; --style-size 1 is refused', async () => {
    const tiny = path.join(dir, 'tiny.png');
    await sharp(CONTENT).resize(16, 16).png().toFile(tiny);
    const r = await cli(['stylize', CONTENT, '--style', tiny, '--size', '64', '--out', path.join(dir, 'tiny-out.png'), '--quiet']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/tiny\.png \(style 1 is 16x16: level 5 needs at least 32x32 pixels\)/);
    const small = await cli(['stylize', CONTENT, '--style', STYLE, '--style-size', '1', '--out', path.join(dir, 'tiny-out.png')]);
    expect(small.code).toBe(2);
    expect(small.stderr).toMatch(/--style-size.*"1" is not 0 or an integer in \[32, 8192\]/);
    expect(existsSync(path.join(dir, 'tiny-out.png'))).toBe(false);
  }, 60_000);

  it('a pixel budget: a 7100x7100 (50.4 MP) image at native size is refused naming it; as a style it is scaled while decoding (item 10)', async () => {
    const huge = path.join(dir, 'huge.jpg');
    // Textured (a flat style is refused on its own account: see the next test).
    await sharp({
      create: { width: 7100, height: 7100, channels: 3, background: '#5080b0', noise: { type: 'gaussian', mean: 128, sigma: 40 } },
    })
      .jpeg()
      .toFile(huge);
    const asContent = await cli(['stylize', huge, '--style', STYLE, '--size', '0', '--out', path.join(dir, 'huge-out.png'), '--quiet']);
    expect(asContent.code, asContent.stderr).toBe(1);
    expect(asContent.stderr).toMatch(/huge\.jpg: 7100x7100 is 50\.4 MP, over the 50\.0 MP budget; read it scaled down \(the CLI's --size/);
    const nativeStyle = await cli([
      'stylize',
      CONTENT,
      '--style',
      huge,
      '--style-size',
      '0',
      '--size',
      '64',
      '--out',
      path.join(dir, 'huge-out.png'),
      '--quiet',
    ]);
    expect(nativeStyle.code).toBe(1);
    expect(nativeStyle.stderr).toMatch(/huge\.jpg: 7100x7100 is 50\.4 MP, over the 50\.0 MP budget/);
    // The default --style-size (2048) scales it while decoding: it works.
    const scaled = await cli([
      'stylize',
      CONTENT,
      '--style',
      huge,
      '--size',
      '64',
      '--preset',
      'realtime',
      '--out',
      path.join(dir, 'huge-out.png'),
      '--quiet',
    ]);
    expect(scaled.code, scaled.stderr).toBe(0);
    expect((await sharp(path.join(dir, 'huge-out.png')).metadata()).height).toBe(64);
  }, 120_000);

  it('a style over the pixel budget that cannot be scaled while decoding (a 16000x16000 PNG) is refused before decoding, in bounded memory; a flat style is named', async () => {
    const huge = path.join(dir, 'huge-style.png');
    await sharp({ create: { width: 16000, height: 16000, channels: 3, background: '#000000' } })
      .png({ compressionLevel: 9 })
      .toFile(huge);
    const out = path.join(dir, 'huge-style-out.png');
    // GNU time's %M: the peak resident set size of the whole run, KiB.
    const r = spawnSync(
      '/usr/bin/time',
      ['-f', 'maxrss=%M', 'node', BIN, 'stylize', CONTENT, '--style', huge, '--size', '64', '--out', out, '--quiet'],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /huge-style\.png: 16000x16000 PNG is 256\.0 MP, over the 50\.0 MP budget for images that are decoded whole \(only JPEG is scaled while decoding\); scale it first/,
    );
    const peakKiB = Number(/maxrss=(\d+)/.exec(r.stderr)?.[1]);
    expect(peakKiB).toBeLessThan(1024 * 1024);
    expect(existsSync(out)).toBe(false);
    // A small flat style: its own message, not the model's.
    const black = path.join(dir, 'black-style.png');
    await sharp({ create: { width: 300, height: 200, channels: 3, background: '#102030' } })
      .png()
      .toFile(black);
    for (const command of ['stylize', 'video']) {
      const input = command === 'stylize' ? CONTENT : CLIP;
      const target = command === 'stylize' ? out : path.join(dir, 'flat-out.webm');
      const f = spawnSync('node', [BIN, command, input, '--style', black, '--size', '32', '--out', target, '--quiet'], {
        encoding: 'utf8',
      });
      expect(f.status, f.stderr).toBe(1);
      expect(f.stderr).toMatch(/black-style\.png: the style is one flat colour \(RGB 16, 32, 48\): it has no texture to transfer/);
      expect(f.stderr).not.toMatch(/model|weights/);
    }
  }, 180_000);

  it('optimize --style-weight 1e38 runs to its iterations and lowers the loss (1e39 overflows: see cli.test.ts)', async () => {
    const target = path.join(dir, 'heavy.png');
    const json = path.join(dir, 'heavy.json');
    const r = await cli([
      'optimize',
      CONTENT,
      '--style',
      STYLE,
      '--size',
      '32',
      '--iters',
      '10',
      '--style-weight',
      '1e38',
      '--out',
      target,
      '--json',
      json,
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { stopReason: string; iterations: number; history: Array<{ total: number }> };
    expect(report.stopReason).toBe('iterations');
    expect(report.iterations).toBe(10);
    expect(report.history.at(-1)!.total).toBeLessThan(0.7 * report.history[0]!.total);
    expect(Number.isFinite(report.history.at(-1)!.total)).toBe(true);
  }, 60_000);
});

describe('one clear line for write and read failures (items 12, 17)', () => {
  it('stylize: a full disk and a read-only folder say so in one line; --decoder <folder> names it', async (ctx) => {
    const decoderDir = path.join(dir, 'a-folder');
    mkdirSync(decoderDir);
    const d = await cli([
      'stylize',
      CONTENT,
      '--style',
      STYLE,
      '--size',
      '64',
      '--decoder',
      decoderDir,
      '--out',
      path.join(dir, 'd.png'),
      '--quiet',
    ]);
    expect(d.code, d.stderr).toBe(1);
    expect(d.stderr).toMatch(/--decoder .*a-folder: cannot read \(a folder, not a \.pth file\)/);
    const disk = path.join(dir, 'small-disk-2');
    const ro = path.join(dir, 'read-only');
    mkdirSync(disk);
    mkdirSync(ro);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]).status !== 0) {
      ctx.skip('cannot mount a tmpfs here (needs root): the full-disk and read-only cases are not exercised');
      return;
    }
    try {
      writeFileSync(path.join(disk, 'filler'), Buffer.alloc(62 * 1024));
      const full = await cli(['stylize', CONTENT, '--style', STYLE, '--size', '64', '--out', path.join(disk, 'o.png'), '--quiet']);
      expect(full.code, full.stderr).toBe(1);
      // One line from livestyle (Dawn's own adapter warnings may precede it when --backend is auto).
      expect(full.stderr.split('\n').filter((l) => l.startsWith('livestyle: error'))).toEqual([
        expect.stringMatching(/o\.png: cannot write \(disk full\)$/),
      ]);
      expect(full.stderr).not.toMatch(/vips|\.tmp/);
      expect(readdirSync(disk)).toEqual(['filler']);
      expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', ro]).status).toBe(0);
      const r = await cli(['stylize', CONTENT, '--style', STYLE, '--out', path.join(ro, 'o.png')], {
        LIVESTYLE_MODELS_DIR: '/nonexistent',
      });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/--out folder .*read-only is not writable \(read-only file system\)/);
    } finally {
      spawnSync('umount', [disk]);
      spawnSync('umount', [ro]);
    }
  }, 60_000);

  it('a NaN or flat result from a content that is not flat is refused before writing', async () => {
    await tf.setBackend('cpu');
    const { checkStylised } = await import('../../packages/cli/src/output-check.js');
    const content = { width: 2, height: 1, data: new Uint8Array([0, 0, 0, 255, 255, 255]) };
    const flatContent = { width: 2, height: 1, data: new Uint8Array([9, 9, 9, 9, 9, 9]) };
    const good = tf.tensor3d([0.1, 0.2, 0.3, 0.9, 0.8, 0.7], [1, 2, 3]);
    const nan = tf.tensor3d([0.1, NaN, 0.3, 0.9, 0.8, 0.7], [1, 2, 3]);
    const flat = tf.fill<tf.Rank.R3>([1, 2, 3], 1);
    await expect(checkStylised(good, content, 'model cd16x')).resolves.toBeUndefined();
    await expect(checkStylised(nan, content, 'model cd16x')).rejects.toThrow(/NaN or infinite values \(model cd16x: damaged weights\?\)/);
    await expect(checkStylised(flat, content, 'model cd16x with --decoder x.pth')).rejects.toThrow(/one flat colour .*--decoder x\.pth/);
    await expect(checkStylised(flat, flatContent, 'model cd16x')).resolves.toBeUndefined(); // flat in, flat out is fine
    tf.dispose([good, nan, flat]);
  });
});
