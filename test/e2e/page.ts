// Helpers the end-to-end test runs in the page (through page.evaluate) and in Node.
import type { Page } from 'playwright-core';

export type Pixels = number[];

/** RGB of the element's output canvas, in [0, 1]. */
export function readOutput(page: Page, selector: string): Promise<{ width: number; height: number; rgb: Pixels }> {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    const canvas = el?.shadowRoot?.querySelector<HTMLCanvasElement>('canvas.output');
    if (!canvas) throw new Error(`no output canvas in ${sel}`);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2d context');
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const rgb: number[] = [];
    for (let i = 0; i < data.length; i += 4) rgb.push(data[i]! / 255, data[i + 1]! / 255, data[i + 2]! / 255);
    return { width: canvas.width, height: canvas.height, rgb };
  }, selector);
}

/** The camera's raw frame, scaled (and mirrored) to the output size, RGB in [0, 1]. */
export function readRawCameraFrame(page: Page, width: number, height: number): Promise<Pixels> {
  return page.evaluate(
    ([w, h]) => {
      const el = document.querySelector('livestyle-camera');
      const video = el?.shadowRoot?.querySelector('video');
      if (!video) throw new Error('no camera video');
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      const ctx = canvas.getContext('2d')!;
      ctx.setTransform(-1, 0, 0, 1, w, 0);
      ctx.drawImage(video, 0, 0, w, h);
      const data = ctx.getImageData(0, 0, w, h).data;
      const rgb: number[] = [];
      for (let i = 0; i < data.length; i += 4) rgb.push(data[i]! / 255, data[i + 1]! / 255, data[i + 2]! / 255);
      return rgb;
    },
    [width, height] as const,
  );
}

/** Resolves after `count` more `frame` events of the element. */
export function waitFrames(page: Page, selector: string, count: number, timeoutMs = 60_000): Promise<void> {
  return page.evaluate(
    ([sel, n, timeout]) =>
      new Promise<void>((resolve, reject) => {
        const el = document.querySelector(sel);
        if (!el) return reject(new Error(`no ${sel}`));
        let seen = 0;
        const timer = setTimeout(() => {
          const state = el as Element & { cameraState?: string; activeStyles?: Array<{ label?: string }>; backend?: string };
          const message = el.shadowRoot?.querySelector('[part="message"]')?.textContent ?? '';
          const detail = `state ${state.cameraState ?? '-'}, styles [${(state.activeStyles ?? []).map((s) => s.label).join()}], backend ${state.backend ?? '-'}, message "${message}"`;
          reject(new Error(`${sel}: ${seen} of ${n} frames in ${timeout} ms (${detail})`));
        }, timeout);
        const onFrame = (): void => {
          if (++seen < n) return;
          el.removeEventListener('frame', onFrame);
          clearTimeout(timer);
          resolve();
        };
        el.addEventListener('frame', onFrame);
      }),
    [selector, count, timeoutMs] as const,
  );
}

/** Labels of the styles the element has in use. */
export function activeStyleLabels(page: Page, selector: string): Promise<string[]> {
  return page.evaluate((sel) => {
    const el = document.querySelector<Element & { activeStyles?: Array<{ label?: string; weight?: number }> }>(sel);
    return (el?.activeStyles ?? []).map((s) => `${s.label ?? '?'}@${s.weight ?? 1}`);
  }, selector);
}

/** Mean absolute difference of two RGB arrays. */
export function meanAbsDiff(a: Pixels, b: Pixels): number {
  if (a.length !== b.length) throw new Error(`size mismatch ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

/** Per-channel means. */
export function channelMeans(rgb: Pixels): [number, number, number] {
  const m = [0, 0, 0];
  for (let i = 0; i < rgb.length; i++) m[i % 3]! += rgb[i]!;
  const n = rgb.length / 3;
  return [m[0]! / n, m[1]! / n, m[2]! / n];
}
