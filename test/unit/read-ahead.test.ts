// The video command's read-ahead (src/cli/video.ts): decoded frames are pulled a bounded number
// ahead of the stylizer, in order, and a decoder failure surfaces at the frame where it happened.
import { describe, expect, it } from 'vitest';
import { readAhead } from '../../packages/cli/src/video.js';

/** A source that records how far it has been pulled, failing at item `failAt` if given. */
function source(count: number, failAt = -1): { items: AsyncGenerator<number>; pulled: () => number } {
  let pulled = 0;
  async function* gen(): AsyncGenerator<number> {
    for (let i = 0; i < count; i++) {
      pulled = i + 1;
      await new Promise((r) => setTimeout(r, 1));
      if (i === failAt) throw new Error(`decoder died at frame ${i}`);
      yield i;
    }
  }
  return { items: gen(), pulled: () => pulled };
}

describe('readAhead', () => {
  it('yields every item in order and never runs more than `depth` ahead of the consumer', async () => {
    const s = source(10);
    const seen: number[] = [];
    for await (const v of readAhead(s.items, 3)) {
      await new Promise((r) => setTimeout(r, 5)); // a slow consumer (the GPU)
      expect(s.pulled() - (v + 1)).toBeLessThanOrEqual(3); // decoded or decoding beyond the one in hand
      seen.push(v);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('pulls ahead while the consumer works (the decoder is not idle)', async () => {
    const s = source(10);
    const it = readAhead(s.items, 3);
    expect((await it.next()).value).toBe(0);
    await new Promise((r) => setTimeout(r, 30));
    expect(s.pulled()).toBeGreaterThanOrEqual(3);
    await it.return(undefined);
  });

  it('surfaces a failure at the item where it happened, after the items before it', async () => {
    const s = source(10, 4);
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const v of readAhead(s.items, 3)) seen.push(v);
      })(),
    ).rejects.toThrow('decoder died at frame 4');
    expect(seen).toEqual([0, 1, 2, 3]);
  });
});
