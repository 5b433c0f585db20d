// @ts-check
/**
 * A Vite plugin that serves the converted models at `/<base>` in development and writes them into
 * the build output, so a page's default `modelBaseUrl` ('./models/') finds them. Vite 7 and 8.
 *
 *   import { livestyleModels } from '@livestyle/models/vite';
 *   export default { plugins: [livestyleModels()] };
 */
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_DIR = path.dirname(fileURLToPath(import.meta.url));

/**
 * @param {{ base?: string, models?: readonly string[] }} [options] `base`: the URL folder (default
 *   'models/'); `models`: which models to serve (default ['cd16x', 'selfie']: the default model, and
 *   the person-segmentation model of the `subject` option, 250 KB, when this package holds it).
 */
export function livestyleModels(options = {}) {
  const base = (options.base ?? 'models/').replace(/^\/+/, '').replace(/\/?$/, '/');
  const models = options.models ?? ['cd16x', ...(existsSync(path.join(PACKAGE_DIR, 'selfie', 'manifest.json')) ? ['selfie'] : [])];
  for (const id of models) {
    if (!existsSync(path.join(PACKAGE_DIR, id, 'manifest.json')))
      throw new Error(
        `@livestyle/models: model '${id}' is not in ${PACKAGE_DIR} (this package holds: ${listModels().join(', ') || 'none'})`,
      );
  }
  /** @type {string} */
  let publicBase = '/';
  return {
    name: 'livestyle-models',
    /** @param {{ base: string }} config */
    configResolved(config) {
      publicBase = config.base.endsWith('/') ? config.base : `${config.base}/`;
    },
    /** @param {{ middlewares: { use(fn: (req: { url?: string }, res: import('node:http').ServerResponse, next: () => void) => void): void } }} server */
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = (req.url ?? '').split('?')[0] ?? '';
        const prefix = `${publicBase}${base}`;
        if (!url.startsWith(prefix)) return next();
        const rel = decodeURIComponent(url.slice(prefix.length));
        const [id] = rel.split('/');
        const file = path.join(PACKAGE_DIR, rel);
        if (
          !id ||
          !models.includes(id) ||
          !file.startsWith(path.join(PACKAGE_DIR, id) + path.sep) ||
          !existsSync(file) ||
          !statSync(file).isFile()
        )
          return next();
        res.setHeader('Content-Type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        createReadStream(file).pipe(res);
      });
    },
    /** @this {{ emitFile(file: { type: 'asset', fileName: string, source: Uint8Array }): string }} */
    generateBundle() {
      for (const id of models) {
        for (const name of readdirSync(path.join(PACKAGE_DIR, id))) {
          this.emitFile({ type: 'asset', fileName: `${base}${id}/${name}`, source: readFileSync(path.join(PACKAGE_DIR, id, name)) });
        }
      }
    },
  };
}

function listModels() {
  return readdirSync(PACKAGE_DIR).filter((d) => existsSync(path.join(PACKAGE_DIR, d, 'manifest.json')));
}
