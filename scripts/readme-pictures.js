// @ts-check
// `npm run pictures`: regenerates docs/results.jpg, the README's grid of stylised results, from the
// shared benchmark photos and paintings (only our outputs are written; the inputs stay in ../shared).
// The Node entry, for its defaults: Node backends, models from @livestyle/models.
import '@livestyle/core';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { Stylizer } from '@livestyle/core/internal/pipeline/stylizer.js';
import { readImageFile } from '@livestyle/core/internal/io/node-image.js';
import { toRgbBytes } from '@livestyle/core/internal/pipeline/input.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.LIVESTYLE_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const contents = ['golden_gate.jpg', 'brad_pitt.jpg', 'chicago.jpg'];
const styles = ['starry_night.jpg', 'the_scream.jpg', 'picasso_self_portrait.jpg'];
const TILE_PX = 256;

const stylizer = await Stylizer.create({ backend: 'wasm', styleMaxSizePx: 512 });
const tiles = [];
for (const [row, c] of contents.entries()) {
  const content = await readImageFile(path.join(shared, 'data', 'content', c), TILE_PX);
  for (const [col, s] of styles.entries()) {
    await stylizer.setStyles([{ image: await readImageFile(path.join(shared, 'data', 'style', s)) }]);
    const out = await stylizer.stylize(content);
    const [h, w] = out.shape;
    const data = await toRgbBytes(out);
    out.dispose();
    const tile = await sharp(data, { raw: { width: w, height: h, channels: 3 } })
      .resize(TILE_PX, TILE_PX, { fit: 'cover' })
      .png()
      .toBuffer();
    tiles.push({ input: tile, left: col * TILE_PX, top: row * TILE_PX });
    console.log(`${c} x ${s}`);
  }
}
stylizer.dispose();
mkdirSync(path.join(root, 'docs'), { recursive: true });
await sharp({ create: { width: TILE_PX * styles.length, height: TILE_PX * contents.length, channels: 3, background: '#ffffff' } })
  .composite(tiles)
  .jpeg({ quality: 82 })
  .toFile(path.join(root, 'docs', 'results.jpg'));
console.log('wrote docs/results.jpg');
process.exit(0);
