/**
 * Entry point of the GPU benchmark kit (`npm run gpu-kit`; bundled by esbuild into `bench.mjs`):
 * WebGPU through Dawn only, models read from the kit's folder, images from PPM files, so the
 * bundle needs neither the WASM backend nor an image codec. Usage (run.sh passes the paths):
 *   node bench.mjs --models DIR --photo photo.ppm --style style.ppm [GPU bench options] [--json FILE]
 */
// The Node entry, for its defaults: Node backends, models from @livestyle/models.
import '@livestyle/core';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setDefaultEnvironment } from '@livestyle/core/internal/pipeline/stylizer.js';
import { OptionsError } from '@livestyle/core/internal/pipeline/options.js';
import { initNodeWebGpu, releaseNodeWebGpu } from '@livestyle/core/internal/backend/node-webgpu.js';
import { parsePpm } from './ppm.js';
import { GPU_BENCH_USAGE, gpuBenchMain, parseGpuBenchArgs } from './gpu-bench-main.js';

/** Removes `--name value` from argv and returns the value. */
function take(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
  argv.splice(i, 2);
  return v;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    process.stdout.write(`run.sh [options]\n${GPU_BENCH_USAGE}\n`);
    return;
  }
  const models = take(argv, '--models');
  const photoFile = take(argv, '--photo');
  const styleFile = take(argv, '--style');
  if (!models || !photoFile || !styleFile) throw new Error('--models, --photo and --style are required (run.sh passes them)');
  setDefaultEnvironment({
    async initBackend(preference) {
      if (preference !== 'webgpu' && preference !== 'auto') throw new OptionsError(`the GPU kit runs webgpu only (got ${preference})`);
      await initNodeWebGpu();
      return 'webgpu';
    },
    defaultModelSource: (model) => async (rel) => new Uint8Array(await readFile(path.join(models, model, rel))),
  });
  // One JSON file, in the current folder unless --json names another.
  if (!argv.includes('--json')) argv.push('--json', 'livestyle-gpu-bench.json');
  const args = parseGpuBenchArgs(argv);
  const photo = parsePpm(readFileSync(photoFile), photoFile);
  const style = parsePpm(readFileSync(styleFile), styleFile);
  try {
    const report = await gpuBenchMain(args, photo, style);
    process.stdout.write(`${report.rows.length} cells${args.json ? `; report: ${args.json}` : ''}\n`);
  } finally {
    releaseNodeWebGpu();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`livestyle gpu kit: error: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
