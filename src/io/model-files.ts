/** Converted models on disk (Node): where they live and a byte source reading them. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ByteSource } from '../weights/model-loader.js';
import type { ModelId } from '../weights/architectures.js';

/** The package root (holds `models/`), from this file's location in `src/io/` or `dist/io/`. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where converted models are read from: `$LIVESTYLE_MODELS_DIR`, else `<package>/models`. */
export function modelsDir(): string {
  return process.env.LIVESTYLE_MODELS_DIR ?? path.join(PACKAGE_ROOT, 'models');
}

/**
 * A `modelSource` reading model files from `<dir>/<model>/` (default: {@link modelsDir}). A missing
 * or unreadable file rejects with an error naming it.
 */
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
