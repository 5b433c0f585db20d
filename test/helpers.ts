import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { readNpy } from '../packages/core/src/io/npy.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = process.env.LIVESTYLE_SHARED_DIR ?? path.resolve(REPO_ROOT, '..', 'shared');
export const FIXTURES = path.join(SHARED, 'fixtures');
export const RAW_MODELS = path.join(SHARED, 'models', 'raw');

/** Throws with where it looked when ../shared is missing (the global set-up calls it; unit tests need no shared data). */
export function requireShared(): void {
  if (!existsSync(FIXTURES)) throw new Error(`shared data not found at ${SHARED} (set LIVESTYLE_SHARED_DIR)`);
}

/** A fixture (.npy, CHW) as an NHWC batch tensor. Caller owns; dispose. */
export function fixtureBatch(name: string): tf.Tensor4D {
  const a = readNpy(new Uint8Array(readFileSync(path.join(FIXTURES, `${name}.npy`))), name);
  const [c = 0, h = 0, w = 0] = a.shape;
  return tf.tidy(() => tf.expandDims<tf.Tensor4D>(tf.transpose(tf.tensor3d(a.data, [c, h, w]), [1, 2, 0]), 0));
}

/** Max |a - b| and the reference's value range. */
export function maxAbsError(actual: tf.Tensor, expected: tf.Tensor): { maxAbs: number; range: number } {
  return tf.tidy(() => ({
    maxAbs: tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0] ?? NaN,
    range: (tf.max(expected).dataSync()[0] ?? NaN) - (tf.min(expected).dataSync()[0] ?? NaN),
  }));
}

/** Headless Chromium flags of the browser tests (no network chatter; software WebGPU). */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-unsafe-webgpu',
];

/** Frames in a video file, decoded and counted by ffprobe (throws with its message if it fails). */
export function countVideoFrames(file: string): number {
  const r = spawnSync(
    'ffprobe',
    ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`ffprobe failed on ${file}: ${r.stderr}`);
  return Number(r.stdout.trim());
}
