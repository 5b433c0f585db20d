import { describe, expect, it } from 'vitest';
import { AdaptiveResolution, ADAPTIVE_SCALE_LADDER } from '../../packages/core/src/pipeline/adaptive-resolution.js';

/** A machine whose frame time is proportional to the pixel count: `fullMs` at scale 1, plus noise. */
function simulate(fullMs: number, targetFps: number, frames: number, noise = 0.1): number[] {
  const a = new AdaptiveResolution({ targetFps });
  let seed = 3;
  const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const scales: number[] = [];
  for (let i = 0; i < frames; i++) {
    const ms = fullMs * a.scale ** 2 * (1 + noise * rand());
    scales.push(a.update(ms));
  }
  return scales;
}

describe('AdaptiveResolution', () => {
  it('settles on the largest ladder scale that holds the frame rate, and stays there', () => {
    // 100 ms at full size, target 30 fps (33.3 ms): needs scale^2 <= 1/3, i.e. scale <= 0.577;
    // the ladder's largest such step is 2^-1 = 0.5 (0.595 would cost 35 ms).
    const scales = simulate(100, 30, 300);
    const settled = scales.slice(100);
    expect(new Set(settled)).toEqual(new Set([0.5]));
    const changes = scales.filter((s, i) => i > 0 && s !== scales[i - 1]).length;
    expect(changes).toBeLessThanOrEqual(4); // no oscillation
  });

  it('keeps full resolution when there is room, and climbs back after a slow spell', () => {
    expect(new Set(simulate(10, 30, 200))).toEqual(new Set([1]));
    const a = new AdaptiveResolution({ targetFps: 30 });
    for (let i = 0; i < 60; i++) a.update(200 * a.scale ** 2); // a slow spell (another tab busy)
    expect(a.scale).toBeLessThan(0.5);
    for (let i = 0; i < 200; i++) a.update(15 * a.scale ** 2); // the machine is fast again
    expect(a.scale).toBe(1);
  });

  it('stops at the bottom of the ladder (1/4 per side) and refuses a bad target', () => {
    const scales = simulate(10_000, 60, 200);
    expect(scales.at(-1)).toBe(ADAPTIVE_SCALE_LADDER.at(-1));
    expect(ADAPTIVE_SCALE_LADDER.at(-1)).toBe(0.25);
    expect(() => new AdaptiveResolution({ targetFps: 0 })).toThrow('targetFps must be a finite number > 0 (got 0)');
  });
});
