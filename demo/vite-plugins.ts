/**
 * Vite plugins of the demo site: serve (dev) or copy (build) the converted models and the
 * built-in style images, which are never committed; the build also writes the styles' statistics.
 */
import { createReadStream, existsSync, mkdirSync, readdirSync, statSync, cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Plugin } from 'vite';
import { shippedStyleStatsIndex } from '@livestyle/core/internal/io/style-stats-shipped.js';

const STYLE_EXTENSIONS = /\.(jpe?g|png|webp)$/i;
/** Longer side of the style images the demo serves (the stylizer caps styles at 512 px anyway). */
export const DEMO_STYLE_SIDE_PX = 512;
export const DEMO_THUMBNAIL_SIDE_PX = 128;
/** Public-domain paintings first (see ../shared/data/style/SOURCE.txt for the others' licences). */
const FIRST_STYLES = ['starry_night', 'the_scream', 'shipwreck', 'mondrian'];

export interface DemoAssetOptions {
  /** Converted models (`npm run models`), served at /models/. */
  readonly modelsDir: string;
  /** Style images, served at /styles/ as 512 px JPEGs with 128 px thumbnails and an index.json. */
  readonly stylesDir: string;
}

/** The style catalog (what `<livestyle-style-mixer catalog-url>` reads). */
export function styleCatalog(stylesDir: string): Array<{ name: string; src: string; thumbnail: string }> {
  if (!existsSync(stylesDir)) return [];
  const names = readdirSync(stylesDir)
    .filter((f) => STYLE_EXTENSIONS.test(f))
    .map((f) => f.replace(STYLE_EXTENSIONS, ''))
    .sort((a, b) => {
      const ra = FIRST_STYLES.indexOf(a);
      const rb = FIRST_STYLES.indexOf(b);
      return (ra < 0 ? 99 : ra) - (rb < 0 ? 99 : rb) || a.localeCompare(b);
    });
  return names.map((name) => ({ name, src: `${name}.jpg`, thumbnail: `thumbs/${name}.jpg` }));
}

function styleFile(stylesDir: string, name: string): string | null {
  const file = readdirSync(stylesDir).find((f) => f.replace(STYLE_EXTENSIONS, '') === name && STYLE_EXTENSIONS.test(f));
  return file ? path.join(stylesDir, file) : null;
}

/** A style image as a JPEG whose longer side is at most `sidePx`. */
export function styleJpeg(file: string, sidePx: number): Promise<Buffer> {
  return sharp(file)
    .rotate()
    .resize(sidePx, sidePx, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#fff' })
    .jpeg({ quality: 88 })
    .toBuffer();
}

/**
 * The built-in styles' precomputed statistics, next to the catalog (demo/precomputed-stats.ts, loaded
 * only here). The dev server serves an empty index: its elements compute the styles (once: IndexedDB).
 */
async function writeStyleStats(
  log: { info(message: string): void; warn(message: string): void },
  catalog: ReadonlyArray<{ src: string }>,
  stylesOut: string,
  modelsDir: string,
): Promise<void> {
  const { PRECOMPUTED_MODEL, writePrecomputedStyleStats } = await import('./precomputed-stats.js');
  if (!existsSync(path.join(modelsDir, PRECOMPUTED_MODEL, 'manifest.json'))) {
    log.warn(`no ${PRECOMPUTED_MODEL} model in ${modelsDir}: no precomputed style statistics`);
    return;
  }
  const files = catalog.map((e) => path.join(stylesOut, e.src)).filter((f) => existsSync(f));
  const t0 = performance.now();
  const n = await writePrecomputedStyleStats(files, modelsDir, path.join(stylesOut, 'stats'));
  log.info(`precomputed style statistics: ${n} entries for ${files.length} styles in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

export function demoAssets(options: DemoAssetOptions): Plugin {
  let outDir = '';
  return {
    name: 'livestyle-demo-assets',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    configureServer(server) {
      server.middlewares.use('/models', (req, res, next) => {
        const file = path.join(options.modelsDir, decodeURIComponent((req.url ?? '').split('?')[0] ?? ''));
        if (!file.startsWith(options.modelsDir) || !existsSync(file) || !statSync(file).isFile()) return next();
        res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
        createReadStream(file).pipe(res);
      });
      server.middlewares.use('/styles', (req, res, next) => {
        const url = decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
        if (url === '/index.json') {
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify(styleCatalog(options.stylesDir)));
          return;
        }
        if (url === '/stats/index.json') {
          // No precomputed statistics here (the build writes them): an empty index, not a 404 on the console.
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify(shippedStyleStatsIndex('wasm', [])));
          return;
        }
        const m = /^\/(thumbs\/)?([\w.-]+)\.jpg$/.exec(url);
        const file = m && existsSync(options.stylesDir) ? styleFile(options.stylesDir, m[2] ?? '') : null;
        if (!m || !file) return next();
        styleJpeg(file, m[1] ? DEMO_THUMBNAIL_SIDE_PX : DEMO_STYLE_SIDE_PX).then(
          (jpeg) => {
            res.setHeader('Content-Type', 'image/jpeg');
            res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
            res.end(jpeg);
          },
          (e: unknown) => next(e),
        );
      });
    },
    async closeBundle() {
      if (!outDir || !existsSync(outDir)) return;
      if (existsSync(options.modelsDir)) {
        cpSync(options.modelsDir, path.join(outDir, 'models'), { recursive: true });
      } else {
        this.warn(`no converted models in ${options.modelsDir}: run \`npm run models\`; the site will show a model error`);
      }
      const catalog = styleCatalog(options.stylesDir);
      const stylesOut = path.join(outDir, 'styles');
      mkdirSync(path.join(stylesOut, 'thumbs'), { recursive: true });
      for (const entry of catalog) {
        const file = styleFile(options.stylesDir, entry.name);
        if (!file) continue;
        writeFileSync(path.join(stylesOut, entry.src), await styleJpeg(file, DEMO_STYLE_SIDE_PX));
        writeFileSync(path.join(stylesOut, entry.thumbnail), await styleJpeg(file, DEMO_THUMBNAIL_SIDE_PX));
      }
      writeFileSync(path.join(stylesOut, 'index.json'), JSON.stringify(catalog));
      await writeStyleStats(this, catalog, stylesOut, options.modelsDir);
    },
  };
}
