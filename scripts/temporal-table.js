// `npm run temporal`: the README's temporal-consistency table. For each shared clip, stylises the
// first N frames at 256 px with and without temporal smoothing (`livestyle video`), then measures
// both with `livestyle eval temporal --style` (warping error, Lai et al. 2018; Gram style loss,
// vgg19 relu1_1..relu3_1). Writes bench-out/temporal/table.json and prints a Markdown table.
// Usage: node scripts/temporal-table.js [--frames N] [--size PX] [--clips a,b]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.LIVESTYLE_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const bin = path.join(root, 'bin', 'livestyle.js');
const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '12' },
    size: { type: 'string', default: '256' },
    clips: { type: 'string', default: 'sintel_mountain_2,sintel_raft_demo,sintel_ambush_4_clean,sam2_bedroom,adain_cutbunny' },
    style: { type: 'string', default: path.join(shared, 'data', 'style', 'starry_night.jpg') },
  },
});
const n = Number(values.frames);
const out = path.join(root, 'bench-out', 'temporal');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

/** A folder holding the clip's first n frames (links to the shared frames, or extracted by ffmpeg). */
function inputFolder(clip) {
  const dir = path.join(out, clip, 'input');
  mkdirSync(dir, { recursive: true });
  const src = path.join(shared, 'data', 'video', clip);
  const frameDir = readdirSync(src).includes('frames') ? path.join(src, 'frames') : src;
  const frames = readdirSync(frameDir)
    .filter((f) => /\.(png|jpe?g)$/i.test(f))
    .sort();
  if (frames.length > 0) {
    for (const f of frames.slice(0, n)) symlinkSync(path.join(frameDir, f), path.join(dir, f));
  } else {
    const video = readdirSync(src).find((f) => /\.(mp4|webm)$/i.test(f));
    execFileSync('ffmpeg', ['-v', 'error', '-i', path.join(src, video), '-frames:v', String(n), path.join(dir, 'frame_%04d.png')]);
  }
  return dir;
}

const cli = (args) => execFileSync('node', [bin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const rows = [];
for (const clip of values.clips.split(',')) {
  const input = inputFolder(clip);
  const row = { clip, frames: Math.min(n, readdirSync(input).length) };
  for (const mode of ['no-temporal', 'temporal']) {
    const dir = path.join(out, clip, mode);
    const t0 = Date.now();
    cli(['video', input, '--style', values.style, '--size', values.size, `--${mode}`, '--out', dir, '--quiet']);
    const ms = (Date.now() - t0) / row.frames;
    const json = path.join(out, clip, `${mode}.json`);
    cli(['eval', 'temporal', '--input', input, '--output', dir, '--style', values.style, '--json', json, '--quiet']);
    const r = JSON.parse(readFileSync(json, 'utf8'));
    row[mode] = { warpingError: r.warpingError, styleLoss: r.styleLoss, msPerFrame: ms };
    process.stderr.write(`${clip} ${mode}: warping error ${r.warpingError.toExponential(3)}, style loss ${r.styleLoss.toFixed(4)}\n`);
  }
  row.warpingReduction = 1 - row.temporal.warpingError / row['no-temporal'].warpingError;
  row.styleRise = row.temporal.styleLoss / row['no-temporal'].styleLoss - 1;
  rows.push(row);
}
writeFileSync(path.join(out, 'table.json'), `${JSON.stringify(rows, null, 2)}\n`);
const pct = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(0)}%`;
console.log('| clip | frames | warping error off → on | change | Gram style loss off → on | change |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(
    `| ${r.clip} | ${r.frames} | ${r['no-temporal'].warpingError.toExponential(2)} → ${r.temporal.warpingError.toExponential(2)} | ${pct(-r.warpingReduction)} | ${r['no-temporal'].styleLoss.toFixed(3)} → ${r.temporal.styleLoss.toFixed(3)} | ${pct(r.styleRise)} |`,
  );
}
