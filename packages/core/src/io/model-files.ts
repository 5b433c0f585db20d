/** Converted models on disk (Node): where they live and a byte source reading them. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODELS_PACKAGE, type ByteSource } from '../weights/model-loader.js';
import type { ModelFolder } from '../weights/segmentation-model.js';

/** The @livestyle/core package root, from this file's location in `src/io/` or `dist/io/`. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Thrown when no models folder can be found: names the package to install. */
export class ModelsNotInstalledError extends Error {
  override name = 'ModelsNotInstalledError';
}

/** The installed models package's folder, or null when it is not installed. */
export function installedModelsDir(): string | null {
  try {
    return path.dirname(fileURLToPath(import.meta.resolve(`${MODELS_PACKAGE}/package.json`)));
  } catch {
    return null;
  }
}

/**
 * Where converted models are read from: `$LIVESTYLE_MODELS_DIR`, else the installed
 * `@livestyle/models` package. Throws {@link ModelsNotInstalledError} when neither exists.
 */
export function modelsDir(): string {
  const dir = process.env.LIVESTYLE_MODELS_DIR ?? installedModelsDir();
  if (dir === null)
    throw new ModelsNotInstalledError(
      `no models found: install them with \`npm install ${MODELS_PACKAGE}\` (or set $LIVESTYLE_MODELS_DIR to a folder of converted models)`,
    );
  return dir;
}

/**
 * A `modelSource` reading model files from `<dir>/<model>/` (default: {@link modelsDir}, found on the
 * first read). A missing or unreadable file rejects with an error naming it.
 */
export function fileModelSource(model: ModelFolder, dir?: string): ByteSource {
  return async (rel) => {
    const file = path.join(dir ?? modelsDir(), model, rel);
    try {
      return new Uint8Array(await readFile(file));
    } catch (e) {
      throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
}
