/** The built-in styles (`GET /styles`, `/styles/<id>.jpg`) and the page at `/` of `livestyle-service serve`. */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { servicePageHtml, servicePageScript } from './page.js';
import { HttpError, type ServerContext } from './server-context.js';

const STYLE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'];

/** Built-in styles: `[{ id, name, src, thumbnail }]`, ids sorted. */
export function styleCatalog(stylesDir: string | null): Array<{ id: string; name: string; src: string; thumbnail: string }> {
  if (!stylesDir || !existsSync(stylesDir)) return [];
  return readdirSync(stylesDir)
    .filter((f) => STYLE_EXTENSIONS.includes(path.extname(f).toLowerCase()) && !f.startsWith('.'))
    .map((f) => path.basename(f, path.extname(f)))
    .filter((id) => /^[A-Za-z0-9_-]+$/.test(id))
    .sort()
    .map((id) => ({ id, name: id.replace(/[_-]+/g, ' '), src: `/styles/${id}.jpg`, thumbnail: `/styles/${id}.jpg?thumbnail=1` }));
}

/** The built-in style `id`'s file, or null. */
export function styleFile(stylesDir: string | null, id: string): string | null {
  if (!stylesDir || !/^[A-Za-z0-9_-]+$/.test(id)) return null;
  for (const ext of STYLE_EXTENSIONS) {
    const f = path.join(stylesDir, id + ext);
    if (existsSync(f)) return f;
  }
  return null;
}

/** Registers `GET /styles`, `GET /styles/:file`, `GET /` and `GET /page.js`. */
export function registerStyleRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { settings } = ctx;
  app.get('/styles', () => styleCatalog(settings.stylesDir));
  app.get('/styles/:file', async (req, reply) => {
    const m = /^([A-Za-z0-9_-]+)\.jpg$/.exec((req.params as { file: string }).file);
    const src = m ? styleFile(settings.stylesDir, m[1] ?? '') : null;
    if (!src) throw new HttpError(404, 'no such style');
    const side = (req.query as { thumbnail?: string }).thumbnail ? 128 : 512;
    const jpeg = await sharp(src).rotate().resize(side, side, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 85 }).toBuffer();
    return reply.header('content-type', 'image/jpeg').header('cache-control', 'max-age=3600').send(jpeg);
  });
  app.get('/', async (_req, reply) => reply.header('content-type', 'text/html; charset=utf-8').send(servicePageHtml()));
  app.get('/page.js', async (_req, reply) =>
    reply.header('content-type', 'text/javascript; charset=utf-8').send(await servicePageScript(readFile)),
  );
}
