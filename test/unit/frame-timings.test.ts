// Issue 32, item 5: the elements' frame timings are completed work. A stand-in stylizer returns as
// soon as its work is "issued" (as tf.js on a GPU does) and a stand-in presenter's readback then waits
// for the "GPU": the frame's total must cover that wait, so it agrees with the fps. The clock is a
// stand-in too (`performance.now` reads a counter that only the stand-ins' waits advance), so the
// test neither sleeps nor depends on the machine's speed, and the figures are exact.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type * as tf from '@tensorflow/tfjs-core';
import type { Stylizer, StageTimings } from '../../packages/core/src/pipeline/stylizer.js';
import { CanvasPresenter } from '../../packages/core/src/io/canvas-presenter.js';
import { STAGE_TIMING_INTERVAL_MS } from '../../packages/elements/src/components/stylizer-controller.js';
import { readyController } from '../support/controller.js';
import { statsLines } from '../../packages/elements/src/components/livestyle-stats.js';

/** The stand-in clock (ms), advanced only by {@link sleep}. */
let clockMs = 0;
const sleep = (ms: number): Promise<void> => {
  clockMs += ms;
  return Promise.resolve();
};

/** What the stand-ins saw of one frame: when the stylizer was called, whether it was asked to sync, when the draw ended. */
interface Seen {
  calledAtMs: number;
  synced: boolean;
  drawnAtMs: number;
}

/**
 * A stylizer whose stages take `stageMs` each: issued in no time unless `syncStageTimings` (then
 * each stage is waited for, as a fence would), run by the "GPU" before the presenter's readback ends.
 * `synchronous` stands for wasm: every call's timings are completed work.
 */
function fakeStylizer(seen: Seen[], stageMs: number, synchronous: boolean): Stylizer {
  const fake = {
    backend: synchronous ? 'wasm' : 'webgpu',
    isDisposed: false,
    syncStageTimings: false,
    lastTimings: null as StageTimings | null,
    setOptions: () => Promise.resolve(),
    setStyles: () => Promise.resolve(),
    dispose: () => undefined,
    async stylizeVideoFrame(): Promise<tf.Tensor3D> {
      seen.push({ calledAtMs: performance.now(), synced: fake.syncStageTimings, drawnAtMs: NaN });
      const completed = synchronous || fake.syncStageTimings;
      const stage = async (): Promise<number> => {
        const t = performance.now();
        if (completed) await sleep(stageMs);
        return performance.now() - t;
      };
      const encodeMs = await stage();
      const transformMs = await stage();
      const decodeMs = await stage();
      const totalMs = encodeMs + transformMs + decodeMs;
      fake.lastTimings = { encodeMs, transformMs, decodeMs, totalMs, perLevel: [{ level: 4, encodeMs, transformMs, decodeMs }], completed };
      return { shape: [8, 8, 3], dispose: () => undefined } as unknown as tf.Tensor3D;
    },
  };
  return fake as unknown as Stylizer;
}

/** The presenter reads back: its wait for the GPU's work on the frame is `gpuMs`. */
function fakeReadback(seen: Seen[], gpuMs: number): void {
  vi.spyOn(CanvasPresenter.prototype, 'draw').mockImplementation(async () => {
    await sleep(gpuMs);
    seen[seen.length - 1]!.drawnAtMs = performance.now();
    return 'readback';
  });
}

beforeEach(() => {
  clockMs = 1000;
  vi.spyOn(performance, 'now').mockImplementation(() => clockMs);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

const canvas = {} as HTMLCanvasElement;

describe('frame timings are completed work', () => {
  it('on a GPU backend: the total covers the wait for the GPU, fps × total ≤ 1000, stages timed once a second', async () => {
    const seen: Seen[] = [];
    const controller = await readyController(fakeStylizer(seen, 5, false));
    fakeReadback(seen, 30);
    const first = (await controller.drawFrame(canvas, canvas, 0))!;
    const second = (await controller.drawFrame(canvas, canvas, 40))!;
    const [a, b] = seen as [Seen, Seen];
    // The total spans the call to the end of the draw (the readback waited for the GPU), not only issuing.
    expect(first.timings!.totalMs).toBeGreaterThanOrEqual(a.drawnAtMs - a.calledAtMs);
    expect(second.timings!.totalMs).toBeGreaterThanOrEqual(b.drawnAtMs - b.calledAtMs);
    // The first frame timed its stages to completion, and they fit in its total.
    expect([a.synced, first.stagesTimedThisFrame, first.timings!.completed]).toEqual([true, true, true]);
    const t = first.timings!;
    expect(t.encodeMs + t.transformMs + t.decodeMs).toBeLessThanOrEqual(t.totalMs);
    // The next frame, within the interval, did not wait per stage and carries the timed frame's stages.
    expect(b.synced).toBe(false);
    expect(b.calledAtMs - a.calledAtMs).toBeLessThan(STAGE_TIMING_INTERVAL_MS);
    expect(second.stagesTimedThisFrame).toBe(false);
    expect(second.timings!.encodeMs).toBe(t.encodeMs);
    // Frames run one after another: a frame's total fits in the interval the fps is measured over
    // (two frames: the fps is that one interval's).
    expect(second.fps * second.timings!.totalMs).toBeLessThanOrEqual(1000 + 1e-9);
    // Exactly: the first frame waited for its three 5 ms stages and the 30 ms readback; the second
    // issued its stages in no time and waited 30 ms for the GPU, which is also its interval.
    expect([first.timings!.totalMs, second.timings!.totalMs]).toEqual([45, 30]);
    expect(second.fps).toBeCloseTo(1000 / 30, 9);
    // The overlay says the same, and marks stages that are not this frame's.
    const lines = statsLines(second.fps, 'webgpu', '8x8', second.timings, second.stagesTimedThisFrame);
    expect(lines[1]).toBe(`total ${second.timings!.totalMs.toFixed(1)} ms per frame`);
    expect(lines[2]).toMatch(/^last timed: encode /);
    expect(statsLines(first.fps, 'webgpu', '8x8', first.timings, true)[2]).toMatch(/^encode /);
  });

  it('on wasm: every frame carries its own completed stages', async () => {
    const seen: Seen[] = [];
    const controller = await readyController(fakeStylizer(seen, 2, true));
    fakeReadback(seen, 5);
    for (let i = 0; i < 3; i++) {
      const f = (await controller.drawFrame(canvas, canvas, i * 40))!;
      const s = seen[i]!;
      expect(f.stagesTimedThisFrame).toBe(true);
      expect(f.timings!.totalMs).toBeGreaterThanOrEqual(s.drawnAtMs - s.calledAtMs);
      expect(f.timings!.encodeMs + f.timings!.transformMs + f.timings!.decodeMs).toBeLessThanOrEqual(f.timings!.totalMs);
      // Three 2 ms stages and a 5 ms readback, frame after frame.
      expect(f.timings!.totalMs).toBe(11);
      if (i === 1) expect(f.fps * f.timings!.totalMs).toBeCloseTo(1000, 9);
    }
  });
});
