// @ts-check
// `npm run bundle-size`: what a browser app ships when it imports livestyle. Bundles each browser
// entry (@livestyle/core, /offline, /temporal and @livestyle/elements, as built) with esbuild as an app's bundler would (browser platform,
// minified, tf.js included: it is a peer dependency, but the app bundles it all the same) and
// reports minified and gzip bytes, and every package that went in. Node-only code (sharp,
// commander, cli-progress, Dawn, ffmpeg glue, node: builtins) must not: `test/bundle.test.ts`
// asserts it, and the sizes against the budget the README records.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Packages and project files that only Node may load. */
export const NODE_ONLY = [
  /node_modules\/(sharp|commander|cli-progress|webgpu|playwright-core|bullmq|ioredis|fastify)\//,
  /^node:/,
  /^packages\/(cli|service)\//,
  /^packages\/core\/dist\/io\/(node-image|model-files|npy|atomic-file)\.js$/,
  /^packages\/core\/dist\/backend\/node-/,
  /^packages\/core\/dist\/(node|offline-node|temporal-node)\.js$/,
];

/** The browser entries of the packages, as built. */
export const BROWSER_ENTRIES = [
  'packages/core/dist/index.js',
  'packages/elements/dist/elements.js',
  'packages/core/dist/offline.js',
  'packages/core/dist/temporal.js',
];

/**
 * Each entry bundled with code splitting, as an app's bundler does: `minBytes`/`gzipBytes` count what
 * loads with the page (the entry and the chunks it imports statically); `lazyGzipBytes` the chunks
 * loaded on demand (`import()`: mediabunny, for the offline export).
 * @returns {Promise<Array<{ entry: string, minBytes: number, gzipBytes: number, lazyGzipBytes: number, packages: string[], nodeOnly: string[], gradients: boolean }>>}
 */
export async function measureBundles(entries = BROWSER_ENTRIES) {
  const out = [];
  for (const entry of entries) {
    const r = await build({
      entryPoints: [path.join(root, entry)],
      absWorkingDir: root,
      bundle: true,
      splitting: true,
      outdir: path.join(root, 'bundle-size-out'),
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      logLevel: 'error',
    });
    const outputs = r.metafile.outputs;
    const entryOut = Object.keys(outputs).find((o) => outputs[o]?.entryPoint !== undefined);
    if (!entryOut) throw new Error(`${entry}: esbuild wrote no entry chunk`);
    /** The entry and every chunk it reaches through static imports. */
    const initial = new Set([entryOut]);
    for (const o of initial) for (const i of outputs[o]?.imports ?? []) if (i.kind === 'import-statement') initial.add(i.path);
    const gzip = (/** @type {boolean} */ loadsFirst) =>
      (r.outputFiles ?? [])
        .filter((f) => f.path.endsWith('.js') && initial.has(path.relative(root, f.path)) === loadsFirst)
        .reduce((n, f) => n + gzipSync(f.contents, { level: 9 }).length, 0);
    const minBytes = (r.outputFiles ?? [])
      .filter((f) => initial.has(path.relative(root, f.path)))
      .reduce((n, f) => n + f.contents.length, 0);
    const inputs = Object.keys(r.metafile.inputs);
    const packages = [...new Set(inputs.map((i) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(i)?.[1] ?? 'livestyle'))].sort();
    const nodeOnly = inputs.filter((i) => NODE_ONLY.some((re) => re.test(i)));
    // tfjs's gradient registrations belong to the optimiser (@livestyle/core/offline) only.
    const gradients = inputs.some((i) => i.includes('tfjs-core/dist/register_all_gradients'));
    out.push({ entry, minBytes, gzipBytes: gzip(true), lazyGzipBytes: gzip(false), packages, nodeOnly, gradients });
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const kib = (/** @type {number} */ b) => `${(b / 1024).toFixed(0)} KiB`;
  let bad = false;
  for (const b of await measureBundles()) {
    console.log(
      `${b.entry}: ${kib(b.minBytes)} minified, ${kib(b.gzipBytes)} gzip${b.lazyGzipBytes > 0 ? ` (+ ${kib(b.lazyGzipBytes)} gzip loaded on demand)` : ''}${b.gradients ? ', with tfjs gradients' : ''}; packages: ${b.packages.join(', ')}`,
    );
    if (b.nodeOnly.length > 0) {
      bad = true;
      console.error(`  Node-only code in a browser bundle: ${b.nodeOnly.join(', ')}`);
    }
  }
  if (bad) process.exit(1);
}
