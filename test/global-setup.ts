// Converts both model families into a temporary folder once per test run, so tests never depend on
// a previous `npm run models` and always exercise the converter.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { convertModel } from '../packages/core/src/weights/convert.js';
import { RAW_MODELS, requireShared } from './helpers.js';

export async function setup(): Promise<() => void> {
  requireShared();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'livestyle-models-'));
  for (const id of ['cd16x', 'vgg19'] as const) await convertModel(id, path.join(RAW_MODELS, id), path.join(dir, id));
  process.env.LIVESTYLE_MODELS_DIR = dir;
  // The CLI runs of the tests keep style statistics in a fresh folder, never the user's ~/.cache/livestyle.
  const cache = mkdtempSync(path.join(os.tmpdir(), 'livestyle-cache-'));
  process.env.LIVESTYLE_CACHE_DIR = cache;
  return () => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  };
}
