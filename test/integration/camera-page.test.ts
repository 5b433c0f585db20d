// The chromeless output page (demo/camera.html, for an OBS Browser Source) in Debian's headless
// Chromium (playwright-core), against the production build (`vite build` + `vite preview`): a fake
// camera plays a still photo; screenshots of the window are compared with the raw camera frame.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { build, preview, type PreviewServer } from 'vite';
import type { Browser, Page } from 'playwright-core';
import { REPO_ROOT, SHARED } from '../helpers.js';
import { launchWithFakeCamera, requireChromium, stillCameraClip } from '../support/browser.js';
import { meanAbsDiff, waitFrames, type Pixels } from '../e2e/page.js';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { PersonSegmenter } from '../../packages/core/src/nets/segmenter.js';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'camera-page');
/** The window: 4:3 like the fake camera, so the picture fills it without bars. */
const VIEWPORT = { width: 640, height: 480 };
/** Comparison size: small, so scaling filters barely count. */
const COMPARE_W = 32;
const COMPARE_H = 24;
/** Small processing and style sizes: Chromium's WebGPU/WebGL are software renderers here. */
const QUERY = 'preset=realtime&size=64&style-size=128';
/** Window screenshot vs the raw camera frame, mean |difference| in [0, 1] at 32x24: measured 0.205 (starry_night). */
const STYLISED_MIN_DIFF = 0.08;
/**
 * Screenshot before vs after the next-style key: measured 0.174 (starry_night -> the_scream), while two
 * screenshots of the same style a few frames apart differed by 0.0000 in two runs (the still converges).
 */
const STYLE_CHANGE_MIN_DIFF = 0.05;

let work: string;
let server: PreviewServer;
let baseUrl: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

/** The window as the Browser Source would capture it: a screenshot, saved, scaled to 32x24, RGB in [0, 1]. */
async function screenshotPixels(name: string, target: Page = page): Promise<Pixels> {
  const png = await target.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
  const raw = await sharp(png).resize(COMPARE_W, COMPARE_H, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  return [...raw].map((v) => v / 255);
}

/** The raw camera frame (not mirrored, as the page shows it), `w x h` (default 32x24), RGB in [0, 1]. */
function rawCameraPixels(target: Page = page, width = COMPARE_W, height = COMPARE_H): Promise<Pixels> {
  return target.evaluate(
    ([w, h]) => {
      const video = document.querySelector('livestyle-camera')?.shadowRoot?.querySelector('video');
      if (!video) throw new Error('no camera video');
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(video, 0, 0, w, h);
      const data = ctx.getImageData(0, 0, w, h).data;
      const rgb: number[] = [];
      for (let i = 0; i < data.length; i += 4) rgb.push(data[i]! / 255, data[i + 1]! / 255, data[i + 2]! / 255);
      return rgb;
    },
    [width, height] as const,
  );
}

/** Resolves when the camera reports `styles-ready` with the named style. */
function stylesReady(target: Page, label: string): Promise<void> {
  return target.evaluate(
    (want) =>
      new Promise<void>((resolve) => {
        const camera = document.querySelector('livestyle-camera')!;
        const check = (): boolean => camera.activeStyles.some((s) => s.label === want);
        if (check()) return resolve();
        camera.addEventListener('styles-ready', () => check() && resolve());
      }),
    label,
  );
}

/** The notice lines the page shows (text and whether each is visible). */
function notices(target: Page): Promise<Array<{ text: string; visible: boolean }>> {
  return target.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('#notices .notice')].map((n) => ({
      text: n.textContent ?? '',
      visible: n.checkVisibility() && n.getBoundingClientRect().height > 0,
    })),
  );
}

async function openPage(query: string): Promise<Page> {
  const p = await browser.newPage({ viewport: VIEWPORT });
  p.on('pageerror', (e) => pageErrors.push(e.message));
  await p.goto(`${baseUrl}camera.html?${query}`);
  return p;
}

beforeAll(async () => {
  requireChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  work = mkdtempSync(path.join(os.tmpdir(), 'livestyle-camera-page-'));
  const clip = stillCameraClip(path.join(SHARED, 'data', 'content', 'golden_gate.jpg'), path.join(work, 'camera.y4m'));
  const outDir = path.join(work, 'site');
  await build({ configFile: path.join(REPO_ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir } });
  expect(existsSync(path.join(outDir, 'camera.html'))).toBe(true);
  server = await preview({
    configFile: path.join(REPO_ROOT, 'vite.config.ts'),
    logLevel: 'error',
    build: { outDir },
    preview: { port: 0, host: '127.0.0.1', strictPort: false },
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('no preview address');
  baseUrl = `http://127.0.0.1:${address.port}/`;
  browser = await launchWithFakeCamera(clip);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.httpServer.close(() => resolve()) : resolve()));
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('camera.html (production build)', () => {
  it('fills the window with the stylised camera and nothing else, and a key cycles the styles', async () => {
    const t0 = performance.now();
    const since = (): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
    page = await openPage(`style=starry_night&${QUERY}`);
    await stylesReady(page, 'starry_night');
    const firstReady = since();
    // Temporal smoothing converges on the still within a few frames.
    await waitFrames(page, 'livestyle-camera', 6, 180_000);

    const layout = await page.evaluate(() => {
      const camera = document.querySelector('livestyle-camera')!;
      const canvas = camera.shadowRoot!.querySelector('canvas')!.getBoundingClientRect();
      const interactive = 'button, input, select, textarea, a[href], [role="button"], [tabindex]';
      let visibleControls = 0;
      const walk = (root: Document | ShadowRoot): void => {
        for (const el of root.querySelectorAll<HTMLElement>(interactive)) if (el.checkVisibility()) visibleControls++;
        for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
      };
      walk(document);
      return {
        canvas: [canvas.x, canvas.y, canvas.width, canvas.height],
        viewport: [0, 0, window.innerWidth, window.innerHeight],
        scroll: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
        lightDomControls: document.querySelectorAll(interactive).length,
        visibleControls,
        bodyBackground: getComputedStyle(document.body).backgroundColor,
        styleSrc: camera.getAttribute('style-src'),
        notices: document.querySelectorAll('#notices .notice').length,
      };
    });
    const styled = await screenshotPixels('01-starry_night');
    const raw = await rawCameraPixels();
    const stylisedDiff = meanAbsDiff(styled, raw);
    await waitFrames(page, 'livestyle-camera', 2, 60_000);
    const stillDiff = meanAbsDiff(await screenshotPixels('01b-starry_night-again'), styled);

    const nextReady = stylesReady(page, 'the_scream');
    await page.keyboard.press('ArrowRight');
    await nextReady;
    const nextStyleReady = since();
    await waitFrames(page, 'livestyle-camera', 6, 180_000);
    const after = await page.evaluate(() => ({
      styleSrc: document.querySelector('livestyle-camera')!.getAttribute('style-src'),
      url: location.search,
    }));
    const switched = await screenshotPixels('02-the_scream');
    const switchDiff = meanAbsDiff(switched, styled);
    console.log(
      `camera.html: canvas ${layout.canvas.join(',')} in viewport ${layout.viewport.join(',')}; visible controls ${layout.visibleControls}; ` +
        `mean |screenshot - raw camera| ${stylisedDiff.toFixed(4)}; next style: ${layout.styleSrc} -> ${after.styleSrc}, ` +
        `mean |after - before| ${switchDiff.toFixed(4)} (same style a few frames apart: ${stillDiff.toFixed(4)}); styles-ready at ${firstReady}, next style's at ${nextStyleReady}, done at ${since()}`,
    );

    expect(layout.canvas).toEqual(layout.viewport);
    expect(layout.scroll).toEqual([VIEWPORT.width, VIEWPORT.height]);
    expect(layout.lightDomControls).toBe(0);
    expect(layout.visibleControls).toBe(0);
    expect(layout.bodyBackground).toBe('rgb(0, 0, 0)');
    expect(layout.notices).toBe(0);
    expect(stylisedDiff).toBeGreaterThan(STYLISED_MIN_DIFF);
    expect(layout.styleSrc).toMatch(/\/styles\/starry_night\.jpg$/);
    expect(after.styleSrc).toMatch(/\/styles\/the_scream\.jpg$/);
    expect(after.url).toContain('style=the_scream');
    expect(switchDiff).toBeGreaterThan(STYLE_CHANGE_MIN_DIFF);
    expect(switchDiff).toBeGreaterThan(4 * stillDiff);
    await page.close();
  }, 480_000);

  it('shows one line naming the accepted styles for an unknown style=, never a blank page', async () => {
    const p = await openPage('style=no_such_style&preset=realtime');
    await p.locator('#notices .notice').first().waitFor({ timeout: 30_000 });
    const lines = await notices(p);
    await p.screenshot({ path: path.join(ARTIFACTS, '03-unknown-style.png') });
    const fallback = await p.evaluate(() => document.querySelector('livestyle-camera')!.dataset.style);
    await p.close();
    expect(lines).toHaveLength(1);
    expect(lines[0]!.visible).toBe(true);
    expect(lines[0]!.text).toMatch(/^Unknown style "no_such_style": use one of starry_night, the_scream, .* \(showing starry_night\)\.$/);
    expect(fallback).toBe('starry_night');
  });

  it('says what subject= and preset= accept when given something else, and goes on with the defaults', async () => {
    const p = await openPage('style=starry_night&preset=turbo&subject=cat');
    await p.locator('#notices .notice').nth(1).waitFor({ timeout: 30_000 });
    const lines = await notices(p);
    await p.screenshot({ path: path.join(ARTIFACTS, '04-subject-and-preset.png') });
    const preset = await p.evaluate(() => document.querySelector('livestyle-camera')!.preset);
    await p.close();
    expect(lines.map((l) => l.text)).toEqual([
      'Unknown preset "turbo": use realtime, balanced, best (using realtime).',
      'Unknown subject "cat": use all, background, person (the whole picture is stylised).',
    ]);
    expect(lines.every((l) => l.visible)).toBe(true);
    expect(preset).toBe('realtime');
  });

  it('leaves no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});

// subject=background on a person: a second Chromium whose fake camera plays a portrait. The person
// mask of the raw camera frame is computed here in Node (the same network, on the cpu backend): inside
// it the output must be the camera's picture, outside it stylised.
describe('camera.html subject=background (a portrait as the fake camera)', () => {
  let portraitBrowser: Browser;
  let segmenter: PersonSegmenter;
  /** Output (snapshot PNG) and raw camera frame at the output's size, RGB in [0, 1], and the person mask. */
  async function capture(p: Page): Promise<{ out: Pixels; raw: Pixels; mask: Float32Array; width: number; height: number }> {
    const png = await p.evaluate(async () => {
      const blob = await document.querySelector('livestyle-camera')!.snapshot();
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let s = '';
      for (const b of bytes) s += String.fromCharCode(b);
      return btoa(s);
    });
    const { data, info } = await sharp(Buffer.from(png, 'base64')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const raw = await rawCameraPixels(p, info.width, info.height);
    const mask = tf.tidy(() => {
      const frame = tf.tensor4d(Float32Array.from(raw), [1, info.height, info.width, 3]);
      return segmenter.segment(frame).dataSync() as Float32Array;
    });
    return { out: [...data].map((v) => v / 255), raw, mask, width: info.width, height: info.height };
  }
  /** Mean |a - b| over the pixels whose mask value passes `where`. */
  function regionDiff(a: Pixels, b: Pixels, mask: Float32Array, where: (m: number) => boolean): number {
    let sum = 0;
    let n = 0;
    mask.forEach((m, i) => {
      if (!where(m)) return;
      for (let c = 0; c < 3; c++) sum += Math.abs((a[3 * i + c] as number) - (b[3 * i + c] as number));
      n += 3;
    });
    expect(n).toBeGreaterThan(3 * 100);
    return sum / n;
  }

  beforeAll(async () => {
    await tf.setBackend('cpu');
    segmenter = PersonSegmenter.fromTflite(
      new Uint8Array(readFileSync(path.join(REPO_ROOT, 'node_modules', '@mediapipe', 'selfie_segmentation', 'selfie_segmentation.tflite'))),
    );
    // 512x512 portrait -> 160x120 (4:3), head and shoulders.
    const clip = stillCameraClip(
      path.join(SHARED, 'data', 'content', 'brad_pitt.jpg'),
      path.join(work, 'portrait.y4m'),
      'scale=160:160,crop=160:120:0:16',
    );
    portraitBrowser = await launchWithFakeCamera(clip);
  }, 120_000);
  afterAll(async () => {
    segmenter?.dispose();
    await portraitBrowser?.close();
  });

  it('keeps the person as the camera sees them and stylises the rest; without the model, one notice and the whole picture', async () => {
    const query = 'style=starry_night&preset=realtime&size=128&style-size=128';
    const p = await portraitBrowser.newPage({ viewport: VIEWPORT });
    p.on('pageerror', (e) => pageErrors.push(e.message));
    await p.goto(`${baseUrl}camera.html?${query}&subject=background`);
    await stylesReady(p, 'starry_night');
    await waitFrames(p, 'livestyle-camera', 3, 240_000);
    const kept = await capture(p);
    await p.screenshot({ path: path.join(ARTIFACTS, '05-subject-background.png') });
    const subject = await p.evaluate(() => document.querySelector('livestyle-camera')!.subject);
    await p.close();

    // The segmentation model cannot be fetched: the element says so once and stylises everything.
    const q = await portraitBrowser.newPage({ viewport: VIEWPORT });
    q.on('pageerror', (e) => pageErrors.push(e.message));
    await q.route('**/models/selfie/**', (route) => route.abort());
    await q.goto(`${baseUrl}camera.html?${query}&subject=background`);
    await stylesReady(q, 'starry_night');
    await waitFrames(q, 'livestyle-camera', 3, 240_000);
    const whole = await capture(q);
    const notice = await q.evaluate(() => {
      const n = document.querySelector('livestyle-camera')!.shadowRoot!.querySelectorAll<HTMLElement>('[part="notice"]');
      return [...n].map((e) => ({ text: e.textContent ?? '', visible: e.checkVisibility() }));
    });
    await q.screenshot({ path: path.join(ARTIFACTS, '06-subject-fallback.png') });
    await q.close();

    const isPerson = (m: number): boolean => m > 0.95;
    const isBackdrop = (m: number): boolean => m < 0.05;
    const figures = {
      size: `${kept.width}x${kept.height}`,
      personKept: regionDiff(kept.out, kept.raw, kept.mask, isPerson),
      backdropStylised: regionDiff(kept.out, kept.raw, kept.mask, isBackdrop),
      fallbackPerson: regionDiff(whole.out, whole.raw, whole.mask, isPerson),
      fallbackBackdrop: regionDiff(whole.out, whole.raw, whole.mask, isBackdrop),
    };
    console.log(`camera.html subject=background: ${JSON.stringify(figures)}; notice without the model: ${JSON.stringify(notice)}`);
    expect(subject).toBe('background');
    expect(figures.personKept).toBeLessThan(0.04);
    expect(figures.backdropStylised).toBeGreaterThan(0.1);
    expect(notice).toHaveLength(1);
    expect(notice[0]!.visible).toBe(true);
    expect(notice[0]!.text).toMatch(
      /^subject "background" needs the person-segmentation model: .*The whole picture is stylised instead\.$/,
    );
    expect(figures.fallbackPerson).toBeGreaterThan(0.08);
    expect(figures.fallbackBackdrop).toBeGreaterThan(0.1);
    expect(pageErrors).toEqual([]);
  }, 600_000);
});
