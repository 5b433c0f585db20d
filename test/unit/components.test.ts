// The pure helpers of the web components (the elements themselves are tested in Chromium by e2e.test.ts).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describeCameraError, findCameraConstructor } from '../../packages/elements/src/components/camera-controller.js';
import { parseResolution } from '../../packages/elements/src/components/livestyle-camera.js';
import { humanLabel, parseCatalog } from '../../packages/elements/src/components/livestyle-style-mixer.js';
import { exportFileName, formatSeconds, looksLikeVideo } from '../../packages/elements/src/components/livestyle-video.js';
import { parseStyleSrc, processingDimensions, processingSizePx } from '../../packages/elements/src/components/stylized-view.js';
import { processingSize } from '../../packages/core/src/pipeline/stylizer.js';
import { FpsMeter, sameStyleImages } from '../../packages/elements/src/components/stylizer-controller.js';
import { MIN_PROCESSING_SIDE_PX } from '../../packages/elements/src/components/types.js';
import { estimateSecondsLeft, exportSize } from '../../packages/elements/src/components/video-export.js';
import { REPO_ROOT } from '../helpers.js';

describe('processing size', () => {
  it('scales the longer side down to the preset or explicit size, never up', () => {
    expect(processingDimensions(640, 480, 256)).toEqual({ width: 256, height: 192 });
    expect(processingDimensions(200, 100, 256)).toEqual({ width: 200, height: 100 });
    expect(processingSizePx(0, 'realtime')).toBe(256);
    expect(processingSizePx(0, 'best')).toBe(512);
    expect(processingSizePx(100.4, 'best')).toBe(100);
  });

  it("keeps the shorter side at least as large as the deepest level needs, and is the engine's one rule", () => {
    expect(processingDimensions(96, 40, 64)).toEqual({ width: 77, height: MIN_PROCESSING_SIDE_PX });
    // Never upscaled, as the engine's internal resolution (processingSize): a frame below the minimum
    // stays as it is and the engine says it is too small.
    expect(processingDimensions(20, 10, 64)).toEqual({ width: 20, height: 10 });
    for (const [w, h, max] of [
      [640, 480, 256],
      [96, 40, 64],
      [1920, 1080, 384],
      [40, 300, 128],
    ] as const) {
      const e = processingSize(h, w, max, MIN_PROCESSING_SIDE_PX);
      expect(processingDimensions(w, h, max)).toEqual({ width: e.w, height: e.h });
    }
  });

  it('gives the encoder even dimensions', () => {
    expect(exportSize(96, 40, 64)).toEqual({ width: 78, height: 32 });
    expect(exportSize(1920, 1080, 384)).toEqual({ width: 384, height: 216 });
  });
});

describe('export progress', () => {
  it('estimates the time left from the rate so far', () => {
    expect(estimateSecondsLeft(1000, 1, 10)).toBeNull();
    expect(estimateSecondsLeft(2000, 2, 10)).toBe(8);
    expect(estimateSecondsLeft(5000, 10, 10)).toBe(0);
  });

  it('names the export after the source and formats times', () => {
    expect(exportFileName('holiday.clip.mp4')).toBe('holiday.clip-stylised.webm');
    expect(exportFileName('.mp4')).toBe('video-stylised.webm');
    expect(formatSeconds(0)).toBe('0:00');
    expect(formatSeconds(75.4)).toBe('1:15');
  });

  it('recognises video files by type or extension', () => {
    expect(looksLikeVideo(new File([], 'a.bin', { type: 'video/mp4' }))).toBe(true);
    expect(looksLikeVideo(new File([], 'clip.MKV'))).toBe(true);
    expect(looksLikeVideo(new File([], 'photo.jpg', { type: 'image/jpeg' }))).toBe(false);
  });
});

describe('styles', () => {
  it('parses a catalog, resolving URLs against it, and rejects malformed ones', () => {
    const styles = parseCatalog(
      [{ name: 'starry_night', src: 'starry_night.jpg', thumbnail: 'thumbs/starry_night.jpg' }],
      'https://x.test/styles/index.json',
    );
    expect(styles).toEqual([
      {
        id: 'builtin:starry_night',
        label: 'starry_night',
        src: 'https://x.test/styles/starry_night.jpg',
        thumbnail: 'https://x.test/styles/thumbs/starry_night.jpg',
        user: false,
      },
    ]);
    expect(() => parseCatalog({}, 'https://x.test/')).toThrow('the style catalog must be a JSON array');
    expect(() => parseCatalog([{ name: 'a' }], 'https://x.test/')).toThrow('style catalog entry 1 needs "name" and "src" strings');
  });

  it('labels and parses style-src', () => {
    expect(humanLabel('the_scream')).toBe('The scream');
    expect(parseStyleSrc(' /s/a%20b.jpg  /s/c.png ')).toEqual([
      { src: '/s/a%20b.jpg', label: 'a b' },
      { src: '/s/c.png', label: 'c' },
    ]);
  });

  it('treats a blend of the same images as a weight-only change', () => {
    const blob = new Blob(['x']);
    expect(
      sameStyleImages(
        [{ src: 'a', weight: 1 }, { src: blob }],
        [
          { src: 'a', weight: 0.2 },
          { src: blob, weight: 3 },
        ],
      ),
    ).toBe(true);
    expect(sameStyleImages([{ src: 'a' }], [{ src: 'b' }])).toBe(false);
    expect(sameStyleImages([{ src: 'a' }], [{ src: 'a' }, { src: 'b' }])).toBe(false);
  });
});

describe('camera', () => {
  it('maps getUserMedia failures to states and messages', () => {
    const err = (name: string): DOMException => new DOMException('x', name);
    expect(describeCameraError(err('NotAllowedError'))).toMatchObject({ state: 'denied' });
    expect(describeCameraError(err('NotAllowedError')).message).toContain('Camera access was denied');
    expect(describeCameraError(err('NotFoundError'))).toMatchObject({ state: 'no-camera' });
    expect(describeCameraError(err('NotReadableError')).message).toContain('in use by another application');
    expect(describeCameraError(new Error('boom'))).toEqual({ state: 'error', message: 'The camera could not start: boom' });
  });

  it('parses resolutions', () => {
    expect(parseResolution('1280x720')).toEqual({ width: 1280, height: 720 });
    expect(parseResolution('huge')).toEqual({ width: 640, height: 480 });
  });

  it('finds camera_utils’ Camera wherever the bundler put it', () => {
    class Camera {}
    expect(findCameraConstructor([{}, null, { Camera }])).toBe(Camera);
    expect(findCameraConstructor([{ Camera: 'no' }])).toBeNull();
  });

  it('measures frames per second over a sliding window', () => {
    const meter = new FpsMeter(1000);
    expect(meter.tick(0)).toBe(0);
    for (let t = 100; t <= 2000; t += 100) meter.tick(t);
    expect(meter.tick(2100)).toBeCloseTo(10, 5);
  });
});

describe('custom-elements manifest', () => {
  const file = path.join(REPO_ROOT, 'packages', 'elements', 'custom-elements.json');
  it('describes the elements with their attributes, events, parts and CSS properties', () => {
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as {
      modules: Array<{
        declarations?: Array<{
          tagName?: string;
          attributes?: Array<{ name: string }>;
          events?: Array<{ name: string }>;
          cssParts?: Array<{ name: string }>;
          cssProperties?: Array<{ name: string }>;
          members?: Array<{ kind: string; name: string; privacy?: string }>;
        }>;
      }>;
    };
    const elements = new Map(
      manifest.modules
        .flatMap((m) => m.declarations ?? [])
        .filter((d) => d.tagName)
        .map((d) => [d.tagName!, d]),
    );
    expect([...elements.keys()].sort()).toEqual(['livestyle-camera', 'livestyle-stats', 'livestyle-style-mixer', 'livestyle-video']);
    const camera = elements.get('livestyle-camera')!;
    expect(camera.attributes?.map((a) => a.name)).toEqual(
      expect.arrayContaining(['style-src', 'model-base-url', 'mirror', 'preset', 'temporal']),
    );
    expect(camera.events?.map((e) => e.name)).toEqual(expect.arrayContaining(['frame', 'error', 'state-change', 'styles-ready']));
    expect(camera.cssParts?.map((p) => p.name)).toEqual(expect.arrayContaining(['canvas', 'controls']));
    expect(camera.cssProperties?.map((p) => p.name)).toContain('--livestyle-accent');
    expect(elements.get('livestyle-video')!.events?.map((e) => e.name)).toEqual(
      expect.arrayContaining(['export-progress', 'export-done', 'export-cancel']),
    );
    const publicMethods = (tag: string): string[] =>
      (elements.get(tag)!.members ?? []).filter((m) => m.kind === 'method' && !m.privacy).map((m) => m.name);
    expect(publicMethods('livestyle-camera')).toEqual(expect.arrayContaining(['start', 'stop', 'snapshot', 'captureStream']));
    expect(publicMethods('livestyle-video')).toEqual(
      expect.arrayContaining(['open', 'play', 'pause', 'exportWebm', 'cancelExport', 'captureStream']),
    );
    expect(elements.get('livestyle-style-mixer')!.events?.map((e) => e.name)).toContain('style-change');
  });
});
