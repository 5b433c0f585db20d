#!/usr/bin/env node
// @ts-check
// `npm run gpu-kit`: one archive (bench-out/livestyle-gpu-kit.tar, gitignored, <= 60 MiB) holding
// everything needed to run the GPU benchmark on a Linux x86-64 machine with a GPU and nothing
// else: a stripped, xz-compressed Node runtime, an esbuild bundle of the benchmark
// (src/bench/kit-entry.ts), Dawn's dawn.node (from the npm package webgpu) with Debian's Vulkan
// loader beside it, the converted cd16x model, two test images (PPM) and run.sh.
// On the GPU machine: tar xf livestyle-gpu-kit.tar && livestyle-gpu-kit/run.sh [--quick]
// Usage: node scripts/gpu-kit.js [--out FILE]
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { encodePpm } from '@livestyle/cli/internal/bench/ppm.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.LIVESTYLE_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const { values } = parseArgs({ options: { out: { type: 'string', default: path.join(root, 'bench-out', 'livestyle-gpu-kit.tar') } } });
const MAX_BYTES = 60 * 1024 * 1024;
const out = path.resolve(values.out);
const stage = path.join(path.dirname(out), 'gpu-kit-stage');
const kit = path.join(stage, 'livestyle-gpu-kit');
const log = (/** @type {string} */ m) => process.stderr.write(`gpu-kit: ${m}\n`);

if (process.platform !== 'linux' || process.arch !== 'x64')
  throw new Error("the kit carries this machine's Node and Dawn: build it on Linux x86-64");
const models = process.env.LIVESTYLE_MODELS_DIR ?? path.join(root, 'packages', 'models');
if (!existsSync(path.join(models, 'cd16x', 'manifest.json'))) throw new Error(`no converted cd16x model in ${models}: run npm run models`);
const dawnPkg = path.join(root, 'node_modules', 'webgpu');
const dawnNode = path.join(dawnPkg, 'dist', 'linux-x64', 'dawn.node');
if (!existsSync(dawnNode)) throw new Error(`${dawnNode} is missing: the optional package webgpu is not installed`);
const vulkan = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1'].find((f) =>
  existsSync(f),
);
if (!vulkan) throw new Error('no Vulkan loader libvulkan.so.1 on this machine to carry (apt-get install libvulkan1)');

rmSync(stage, { recursive: true, force: true });
mkdirSync(kit, { recursive: true });
const xz = (/** @type {string} */ file) => execFileSync('xz', ['-T2', '-6', '-f', file]); // replaces file with file.xz

log('bundling the benchmark');
await build({
  entryPoints: [path.join(root, 'packages', 'cli', 'dist', 'bench', 'kit-entry.js')],
  outfile: path.join(kit, 'bench.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // tfjs packages' ESM builds ("module"); their Node "main" builds are CommonJS with node-only requires.
  mainFields: ['module', 'main'],
  // Dawn is loaded at run time from node_modules/webgpu beside the bundle.
  external: ['webgpu'],
  banner: { js: "import { createRequire as __lsCreateRequire } from 'node:module'; const require = __lsCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
});

log('Node runtime (stripped, xz)');
copyFileSync(process.execPath, path.join(kit, 'node'));
chmodSync(path.join(kit, 'node'), 0o755);
execFileSync('strip', ['--strip-all', path.join(kit, 'node')]);
xz(path.join(kit, 'node'));

log('Dawn (dawn.node, xz) and the Vulkan loader');
const kitDawn = path.join(kit, 'node_modules', 'webgpu');
mkdirSync(path.join(kitDawn, 'dist', 'linux-x64'), { recursive: true });
for (const f of ['index.js', 'package.json', 'LICENSE.md'])
  if (existsSync(path.join(dawnPkg, f))) copyFileSync(path.join(dawnPkg, f), path.join(kitDawn, f));
copyFileSync(dawnNode, path.join(kitDawn, 'dist', 'linux-x64', 'dawn.node'));
xz(path.join(kitDawn, 'dist', 'linux-x64', 'dawn.node'));
mkdirSync(path.join(kit, 'lib'));
copyFileSync(realpathSync(vulkan), path.join(kit, 'lib', 'libvulkan.so.1'));

log('model and images');
cpSync(path.join(models, 'cd16x'), path.join(kit, 'models', 'cd16x'), { recursive: true });
mkdirSync(path.join(kit, 'data'));
const ppm = async (/** @type {string} */ file, /** @type {number} */ shortSide) => {
  const { data, info } = await sharp(file)
    .rotate()
    .resize({ width: shortSide, height: shortSide, fit: 'outside', kernel: 'lanczos3' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return encodePpm({ width: info.width, height: info.height, data });
};
writeFileSync(path.join(kit, 'data', 'photo.ppm'), await ppm(path.join(shared, 'data', 'content', 'golden_gate.jpg'), 1080));
writeFileSync(path.join(kit, 'data', 'style.ppm'), await ppm(path.join(shared, 'data', 'style', 'starry_night.jpg'), 512));
xz(path.join(kit, 'data', 'photo.ppm'));

copyFileSync(path.join(root, 'scripts', 'gpu-kit', 'run.sh'), path.join(kit, 'run.sh'));
chmodSync(path.join(kit, 'run.sh'), 0o755);
copyFileSync(path.join(root, 'scripts', 'gpu-kit', 'README.txt'), path.join(kit, 'README.txt'));

mkdirSync(path.dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
execFileSync('tar', ['-cf', tmp, '-C', stage, 'livestyle-gpu-kit']);
const bytes = statSync(tmp).size;
if (bytes > MAX_BYTES) {
  rmSync(tmp, { force: true });
  throw new Error(`the kit is ${(bytes / 2 ** 20).toFixed(1)} MiB, over its ${MAX_BYTES / 2 ** 20} MiB limit`);
}
execFileSync('mv', ['-f', tmp, out]);
rmSync(stage, { recursive: true, force: true });
log(`wrote ${out} (${(bytes / 2 ** 20).toFixed(1)} MiB)`);
process.stdout.write(`${out}\n`);
