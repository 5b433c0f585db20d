import { describe, expect, it } from 'vitest';
import { CHECK_FLOW_MIN_SIDE_PX, checkFlowLevel } from '../../packages/core/src/temporal/video-smoother.js';

// The occlusion check's forward flow may be solved coarser than the backward flow (`flowCheckLevels`,
// `realtime` sets 1), but not below 128 px on the long side: solved at 64 px (the camera's 256 px frames)
// it raised the warping ratio 1.4-2.1x on three of five clips (docs/temporal.md, "The camera's cells").
describe('checkFlowLevel (the occlusion check forward flow level)', () => {
  it('goes one level coarser for a 512 px flow (realtime at 1200x512: the check solved at 128 px)', () => {
    expect(CHECK_FLOW_MIN_SIDE_PX).toBe(128);
    expect(checkFlowLevel(512, 1, 1)).toBe(2);
    expect(checkFlowLevel(512, 1, 0)).toBe(1);
  });

  it('stays at the backward flow level for the camera sizes (256 and 384 px flows)', () => {
    expect(checkFlowLevel(256, 1, 1)).toBe(1);
    expect(checkFlowLevel(384, 1, 1)).toBe(1);
    expect(checkFlowLevel(255, 1, 3)).toBe(1);
    // The boundary, with the pyramid's ceil halving: 509 -> 255 -> 128 still goes coarser, 508 -> 254 -> 127 not.
    expect(checkFlowLevel(509, 1, 1)).toBe(2);
    expect(checkFlowLevel(508, 1, 1)).toBe(1);
  });

  it('stops where the next level would fall under 128 px, and at level 4', () => {
    expect(checkFlowLevel(1024, 1, 3)).toBe(3); // 512 -> 256 -> 128, not 64
    expect(checkFlowLevel(1023, 1, 3)).toBe(3); // ceil halving, as the pyramid: 512 -> 256 -> 128
    expect(checkFlowLevel(4096, 1, 3)).toBe(4);
    expect(checkFlowLevel(4096, 0, 3)).toBe(3);
    expect(checkFlowLevel(600, 0, 2)).toBe(2); // 600 -> 300 -> 150
  });
});
