// First frame fast (issue 32, item 4) in Debian's headless Chromium (playwright-core) against the
// production build: the chromeless camera page (a fake camera plays a still) opened again in the same
// browser profile computes no style (IndexedDB) and fetches no model weights (Cache API); a damaged
// IndexedDB record is discarded and recomputed, never used; a built-in style at the default style size
// is never computed at all (the build's precomputed statistics); the element says what it is doing.
// Counted (the element's `styleStatsSources`, the page's requests), not timed: scripts/first-frame.js
// measures the times (docs/first-frame.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build, preview, type PreviewServer } from 'vite';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { REPO_ROOT, SHARED } from '../helpers.js';
import { launchWithFakeCamera, requireChromium, stillCameraClip } from '../support/browser.js';
import { waitFrames } from '../e2e/page.js';

/** Small processing size: Chromium's WebGL is a software renderer here. */
const SMALL = 'preset=realtime&size=64';
/** A style size the build has no statistics for (they are of the served 512 px JPEGs): computed in the page. */
const COMPUTED = `style=starry_night&${SMALL}&style-size=128`;
const DB = 'livestyle-style-stats';
const STORE = 'style-stats-v1';

let work: string;
let server: PreviewServer;
let baseUrl: string;
let browser: Browser;
let siteDir: string;
const pageErrors: string[] = [];

/** What one visit of camera.html did. */
interface Visit {
  readonly encoded: number;
  readonly cached: number;
  /** Weight files (`models/**.bin`) the page requested from the network. */
  readonly weightRequests: number;
  /** Every text the element's message showed, in order. */
  readonly messages: readonly string[];
}

/** Records the element's message texts from the start of the page (an init script). */
function recordMessages(): void {
  const seen: string[] = [];
  (window as unknown as { livestyleMessages: string[] }).livestyleMessages = seen;
  const poll = (): void => {
    const text = document.querySelector('livestyle-camera')?.shadowRoot?.querySelector('[part="message"]')?.textContent ?? '';
    if (text && seen[seen.length - 1] !== text) seen.push(text);
  };
  setInterval(poll, 10);
}

/**
 * Opens camera.html?query in `context`, waits for a stylised frame, and reports what the visit did.
 * `slowNetwork`: 2 MB/s, so the download lasts long enough for its progress to be seen.
 */
async function visit(context: BrowserContext, query: string, slowNetwork = false): Promise<Visit> {
  const page: Page = await context.newPage();
  if (slowNetwork) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: 2e6, uploadThroughput: 2e6 });
  }
  page.on('pageerror', (e) => pageErrors.push(e.message));
  let weightRequests = 0;
  page.on('request', (r) => void (/\/models\/[^?]+\.bin$/.test(r.url()) && weightRequests++));
  await page.addInitScript(recordMessages);
  await page.goto(`${baseUrl}camera.html?${query}`);
  await waitFrames(page, 'livestyle-camera', 1, 240_000);
  const result = await page.evaluate(() => ({
    ...document.querySelector('livestyle-camera')!.styleStatsSources,
    messages: (window as unknown as { livestyleMessages: string[] }).livestyleMessages,
  }));
  await page.close();
  return { ...result, weightRequests };
}

/** Flips a byte in the payload of every record of the page's style-statistics store; returns how many. */
async function damageRecords(context: BrowserContext): Promise<number> {
  const page = await context.newPage();
  await page.goto(`${baseUrl}styles/index.json`); // the origin, without an element writing to the store meanwhile
  const n = await page.evaluate(
    ([db, store]) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open(db);
        open.onerror = () => reject(new Error('open failed'));
        open.onsuccess = () => {
          const tx = open.result.transaction(store, 'readwrite');
          const cursor = tx.objectStore(store).openCursor();
          let count = 0;
          cursor.onsuccess = () => {
            const c = cursor.result;
            if (!c) return;
            const bytes = new Uint8Array((c.value as ArrayBuffer).slice(0));
            bytes[bytes.length - 1]! ^= 0xff; // the last float64 of the colouring matrix: a number still, a wrong one
            c.update(bytes.buffer);
            count++;
            c.continue();
          };
          tx.oncomplete = () => resolve(count);
          tx.onerror = () => reject(new Error('transaction failed'));
        };
      }),
    [DB, STORE] as const,
  );
  await page.close();
  return n;
}

beforeAll(async () => {
  requireChromium();
  work = mkdtempSync(path.join(os.tmpdir(), 'livestyle-first-frame-'));
  const clip = stillCameraClip(path.join(SHARED, 'data', 'content', 'golden_gate.jpg'), path.join(work, 'camera.y4m'));
  siteDir = path.join(work, 'site');
  await build({ configFile: path.join(REPO_ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir: siteDir } });
  server = await preview({
    configFile: path.join(REPO_ROOT, 'vite.config.ts'),
    logLevel: 'error',
    build: { outDir: siteDir },
    preview: { port: 0, host: '127.0.0.1', strictPort: false },
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('no preview address');
  baseUrl = `http://127.0.0.1:${address.port}/`;
  browser = await launchWithFakeCamera(clip);
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.httpServer.close(() => resolve()) : resolve()));
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('first frame fast (production build, same browser profile)', () => {
  it('the build ships statistics of every built-in style at every level of the default model', () => {
    const stats = readdirSync(path.join(siteDir, 'styles', 'stats'));
    const styles = readdirSync(path.join(siteDir, 'styles')).filter((f) => f.endsWith('.jpg'));
    expect(stats).toContain('index.json');
    expect(stats.filter((f) => f.endsWith('.bin'))).toHaveLength(styles.length * 5);
  });

  it('a second visit computes no style and fetches no model weights; a damaged record is recomputed, never used', async () => {
    const context = await browser.newContext({ viewport: { width: 320, height: 240 } });
    try {
      const cold = await visit(context, COMPUTED, true);
      const warm = await visit(context, COMPUTED);
      const damaged = await damageRecords(context);
      const repaired = await visit(context, COMPUTED);
      const again = await visit(context, COMPUTED);
      console.log(
        `first-frame: cold ${JSON.stringify(cold)}; warm ${JSON.stringify(warm)}; damaged ${damaged}; ` +
          `after damage ${JSON.stringify(repaired)}; again ${JSON.stringify(again)}`,
      );
      // realtime runs one level: one statistic per style.
      expect([cold.encoded, cold.cached]).toEqual([1, 0]);
      expect(cold.weightRequests).toBeGreaterThan(0);
      expect(cold.messages.some((m) => /^Loading the model… \d+\.\d of \d+\.\d MB$/.test(m))).toBe(true);
      expect(cold.messages).toContain('Computing the style…');
      expect([warm.encoded, warm.cached]).toEqual([0, 1]);
      expect(warm.weightRequests).toBe(0);
      expect(damaged).toBe(1);
      expect([repaired.encoded, repaired.cached]).toEqual([1, 0]);
      expect([again.encoded, again.cached]).toEqual([0, 1]);
    } finally {
      await context.close();
    }
  }, 900_000);

  it('a built-in style at the default style size is never computed, even on a first visit', async () => {
    const context = await browser.newContext({ viewport: { width: 320, height: 240 } });
    try {
      const first = await visit(context, `style=the_scream&${SMALL}`);
      console.log(`first-frame: built-in style, first visit ${JSON.stringify(first)}`);
      expect([first.encoded, first.cached]).toEqual([0, 1]);
    } finally {
      await context.close();
    }
  }, 300_000);

  it('leaves no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
