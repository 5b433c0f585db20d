// What a browser app ships when it imports livestyle (scripts/bundle-size.js; sizes in the README):
// no Node-only code, and the gzip size within the budget the README records.
import { describe, expect, it } from 'vitest';

interface Measured {
  entry: string;
  minBytes: number;
  gzipBytes: number;
  packages: string[];
  nodeOnly: string[];
  gradients: boolean;
}

// A plain JS script (also run by `npm run bundle-size`): imported by a path TypeScript does not resolve.
const script: string = '../scripts/bundle-size.js';
const { NODE_ONLY, measureBundles } = (await import(script)) as {
  NODE_ONLY: RegExp[];
  measureBundles: () => Promise<Measured[]>;
};

/** gzip budgets (KiB), a few percent over the sizes the README records (297, 436, 309 and 269 KiB). */
const BUDGET_KIB: Record<string, number> = {
  'dist/index.js': 310,
  'dist/elements.js': 455,
  'dist/offline.js': 325,
  'dist/temporal.js': 285,
};

describe('browser bundles', () => {
  it('carry no Node-only code and stay within their gzip budget', async () => {
    const bundles = await measureBundles();
    expect(bundles.map((b) => b.entry)).toEqual(['dist/index.js', 'dist/elements.js', 'dist/offline.js', 'dist/temporal.js']);
    // The optimiser's gradient registrations load only with livestyle/offline.
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
      'dist/node.js',
      'dist/internal.js',
      'dist/offline-node.js',
      'dist/cli/main.js',
      'dist/io/video.js',
      'dist/backend/node-webgpu.js',
      'node_modules/sharp/lib/index.js',
      'node:fs',
    ];
    for (const f of flagged)
      expect(
        NODE_ONLY.some((re) => re.test(f)),
        f,
      ).toBe(true);
    expect(NODE_ONLY.some((re) => re.test('node_modules/@tensorflow/tfjs-core/dist/io/io.js'))).toBe(false);
  }, 120_000);
});
