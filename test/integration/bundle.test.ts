// What a browser app ships when it imports livestyle (scripts/bundle-size.js; sizes in the README):
// no Node-only code, and the gzip size within the budget the README records.
import { describe, expect, it } from 'vitest';

interface Measured {
  entry: string;
  minBytes: number;
  gzipBytes: number;
  lazyGzipBytes: number;
  packages: string[];
  nodeOnly: string[];
  gradients: boolean;
}

// A plain JS script (also run by `npm run bundle-size`): imported by a path TypeScript does not resolve.
const script: string = '../../scripts/bundle-size.js';
const { NODE_ONLY, measureBundles } = (await import(script)) as {
  NODE_ONLY: RegExp[];
  measureBundles: () => Promise<Measured[]>;
};

/** gzip budgets (KiB) of what loads with the page, a few percent over the sizes the README records (298, 323, 311 and 262 KiB). */
const BUDGET_KIB: Record<string, number> = {
  'packages/core/dist/index.js': 310,
  'packages/elements/dist/elements.js': 330,
  'packages/core/dist/offline.js': 325,
  'packages/core/dist/temporal.js': 285,
};

describe('browser bundles', () => {
  it('carry no Node-only code and stay within their gzip budget', async () => {
    const bundles = await measureBundles();
    expect(bundles.map((b) => b.entry)).toEqual([
      'packages/core/dist/index.js',
      'packages/elements/dist/elements.js',
      'packages/core/dist/offline.js',
      'packages/core/dist/temporal.js',
    ]);
    // The offline WebM export's mediabunny loads on demand (its own chunk), and nothing else does.
    expect(bundles.map((b) => b.lazyGzipBytes > 0)).toEqual([false, true, false, false]);
    expect(bundles[1]!.lazyGzipBytes / 1024).toBeLessThanOrEqual(190);
    // The optimiser's gradient registrations load only with @livestyle/core/offline.
    expect(bundles.map((b) => b.gradients)).toEqual([false, false, true, false]);
    for (const b of bundles) {
      expect(b.nodeOnly, b.entry).toEqual([]);
      for (const p of ['sharp', 'commander', 'cli-progress', 'webgpu']) expect(b.packages, b.entry).not.toContain(p);
      expect(b.packages).toContain('@tensorflow/tfjs-core'); // the measurement saw the real graph
      expect(b.gzipBytes / 1024, b.entry).toBeLessThanOrEqual(BUDGET_KIB[b.entry]!);
      expect(b.gzipBytes).toBeGreaterThan(100 * 1024);
    }
    // The filter itself catches what it must (the Node entry, the CLI, the file I/O, Dawn, sharp).
    const flagged = [
      'packages/core/dist/node.js',
      'packages/core/dist/offline-node.js',
      'packages/core/dist/io/node-image.js',
      'packages/cli/dist/main.js',
      'packages/cli/dist/io/video.js',
      'packages/service/dist/server.js',
      'packages/core/dist/backend/node-webgpu.js',
      'node_modules/fastify/fastify.js',
      'node_modules/sharp/lib/index.js',
      'node:fs',
    ];
    for (const f of flagged)
      expect(
        NODE_ONLY.some((re) => re.test(f)),
        f,
      ).toBe(true);
    expect(NODE_ONLY.some((re) => re.test('node_modules/@tensorflow/tfjs-core/dist/io/io.js'))).toBe(false);
    expect(NODE_ONLY.some((re) => re.test('packages/core/dist/io/canvas-presenter.js'))).toBe(false);
  }, 120_000);
});
