// Converts both model families (and installs the segmentation model) into a temporary folder once per test run, so tests never depend on
// a previous `npm run models` and always exercise the converter.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { convertModel } from '../packages/core/src/weights/convert.js';
import { installSegmentationModel } from '../packages/core/src/io/segmentation-files.js';
import { RAW_MODELS, requireShared } from './helpers.js';

export async function setup(): Promise<() => void> {
  requireShared();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'livestyle-models-'));
  for (const id of ['cd16x', 'vgg19'] as const) await convertModel(id, path.join(RAW_MODELS, id), path.join(dir, id));
  // The person-segmentation model, as `livestyle models` installs it from @mediapipe/selfie_segmentation.
  await installSegmentationModel(createRequire(import.meta.url).resolve('@mediapipe/selfie_segmentation/selfie_segmentation.tflite'), dir);
  process.env.LIVESTYLE_MODELS_DIR = dir;
  // The CLI runs of the tests keep style statistics in a fresh folder, never the user's ~/.cache/livestyle.
  const cache = mkdtempSync(path.join(os.tmpdir(), 'livestyle-cache-'));
  process.env.LIVESTYLE_CACHE_DIR = cache;
  return () => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  };
}
