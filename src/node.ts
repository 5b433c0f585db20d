/**
 * Node entry point: everything in the browser entry, plus the WASM backend with threads, model
 * files read from disk, image files, the checkpoint converter and the npy reader.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initNodeWasm } from './backend/node-wasm.js';
import { setDefaultEnvironment } from './pipeline/stylizer.js';
import { OptionsError } from './pipeline/options.js';
import type { ByteSource } from './weights/model-loader.js';
import type { ModelId } from './weights/architectures.js';

export * from './api.js';
export { convertModel, ConvertError, type ConvertOptions } from './weights/convert.js';
export { readImageFile, writePngFile, ImageFileError, MAX_IMAGE_SIDE_PX } from './io/node-image.js';
export { readNpy, type NpyArray } from './io/npy.js';
export { initNodeWasm } from './backend/node-wasm.js';

/** The package root (holds `models/`), from this file's location in `src/` or `dist/`. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where converted models are read from: `$LIVESTYLE_MODELS_DIR`, else `<package>/models`. */
export function modelsDir(): string {
  return process.env.LIVESTYLE_MODELS_DIR ?? path.join(PACKAGE_ROOT, 'models');
}

/** Reads model files from `<dir>/<model>/`. */
export function fileModelSource(model: ModelId, dir = modelsDir()): ByteSource {
  return async (rel) => {
    const file = path.join(dir, model, rel);
    try {
      return new Uint8Array(await readFile(file));
    } catch (e) {
      throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
}

setDefaultEnvironment({
  async initBackend(preference) {
    if (preference === 'webgl' || preference === 'webgpu')
      throw new OptionsError(`backend ${preference} is not available in Node; use wasm or cpu`);
    if (preference === 'cpu') {
      await tf.setBackend('cpu');
      await tf.ready();
      return 'cpu';
    }
    await initNodeWasm();
    return 'wasm';
  },
  defaultModelSource: (model) => fileModelSource(model),
});
