// writePngFile called many times at once on one path in one process (issue 21, item 15): each call
// has its own temporary name, so every call completes, the file at the path is a whole PNG from one
// of them, and no temporary file is left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { writePngFile } from '../../packages/core/src/io/node-image.js';

describe('writePngFile under concurrency', () => {
  let dir: string;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = mkdtempSync(path.join(os.tmpdir(), 'livestyle-atomic-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('30 concurrent writes of one path all succeed and leave one whole PNG', async () => {
    const file = path.join(dir, 'same.png');
    const images = Array.from({ length: 30 }, (_, i) => tf.fill<tf.Rank.R3>([48, 64, 3], i / 29));
    const results = await Promise.allSettled(images.map((img) => writePngFile(file, img)));
    tf.dispose(images);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([64, 48]);
    // One write's pixels throughout (a uniform grey of one of the 30 levels), not a mix.
    const level = data[0]!;
    expect(data.every((v) => v === level)).toBe(true);
    expect(images.some((_, i) => Math.round((i / 29) * 255) === level)).toBe(true);
    expect(readdirSync(dir)).toEqual(['same.png']);
  });
});
