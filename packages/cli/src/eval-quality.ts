/**
 * `livestyle eval quality`: every method on the same content/style pairs, side by side.
 * For each pair: WCT (cd16x cascade), AdaIN (cd16x relu4_1), the Gatys optimiser (default options)
 * and the hybrid (WCT output refined by the optimiser). Metrics: style loss (position-normalised Gram,
 * relu1_1..relu3_1 of vgg19, equal weights), content loss (relu3_1 of vgg19, mean squared), SSIM of
 * luminance against the content, and wall time. Writes `<out>/<pair>/*.png`, `comparison.jpg` (the four
 * results per pair, one row each; no input images),
 * `metrics.json` and `index.html` (the last two atomically, last).
 */
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Stylizer } from '@livestyle/core/internal/pipeline/stylizer.js';
import { StyleOptimizer } from '@livestyle/core/internal/optimize/style-optimizer.js';
import { readImageFile, writePngFile } from '@livestyle/core/internal/io/node-image.js';
import { toImageBatch, toRgbBytes, type PixelsLike } from '@livestyle/core/internal/pipeline/input.js';
import { ssimLuminance } from '@livestyle/core/internal/metrics/ssim.js';
import { writeFileAtomic, writeJsonFile } from '@livestyle/core/internal/io/atomic-file.js';
import { announceBackend, type CliBackend } from './backend.js';

export interface EvalQualityFlags {
  pairs: string;
  out: string;
  size: number;
  iters: number;
  hybridIters: number;
  backend: CliBackend;
  quiet: boolean;
}

export interface QualityPair {
  readonly name: string;
  readonly content: string;
  readonly style: string;
}

export const QUALITY_METHODS = ['wct', 'adain', 'gatys', 'hybrid'] as const;
export type QualityMethod = (typeof QUALITY_METHODS)[number];

export interface MethodMetrics {
  readonly styleLoss: number;
  readonly contentLoss: number;
  readonly ssim: number;
  readonly timeMs: number;
  readonly iterations?: number;
  readonly evaluations?: number;
  /** Optimisers: the objective (weighted total) of the returned image. */
  readonly objective?: number;
  /** hybrid only: first iteration whose objective was at or below the Gatys run's final objective. */
  readonly iterationsToMatchGatys?: number | null;
  /** hybrid only: the Gatys run's objective after as many iterations as the hybrid ran (equal-effort comparison). */
  readonly gatysObjectiveAtSameIterations?: number | null;
}

/**
 * Reads pairs from a list file (`content style` per line, paths relative to the file, `#` comments)
 * or a folder of `<pair>__content_*.<ext>` and `<pair>__style_*.<ext>` files.
 */
export async function readPairs(where: string): Promise<QualityPair[]> {
  if (!existsSync(where)) throw new Error(`--pairs ${where} does not exist`);
  const pairs: QualityPair[] = [];
  if (statSync(where).isDirectory()) {
    const files = (await readdir(where)).sort();
    for (const f of files) {
      const m = /^(.+)__content_[^/]+\.(png|jpe?g|webp)$/i.exec(f);
      if (!m) continue;
      const name = m[1] as string;
      const style = files.find((g) => g.startsWith(`${name}__style_`));
      if (!style) throw new Error(`${where}: ${f} has no matching ${name}__style_* file`);
      pairs.push({ name, content: path.join(where, f), style: path.join(where, style) });
    }
  } else {
    const base = path.dirname(where);
    const lines = (await readFile(where, 'utf8')).split('\n');
    lines.forEach((line, i) => {
      const text = line.replace(/#.*/, '').trim();
      if (text === '') return;
      const parts = text.split(/\s+/);
      if (parts.length !== 2) throw new Error(`${where}:${i + 1}: expected "content style", got "${text}"`);
      const [c, s] = parts as [string, string];
      const name = `${path.basename(c, path.extname(c))}__${path.basename(s, path.extname(s))}`;
      pairs.push({ name, content: path.resolve(base, c), style: path.resolve(base, s) });
    });
  }
  if (pairs.length === 0) throw new Error(`--pairs ${where}: no pairs found`);
  for (const p of pairs) for (const f of [p.content, p.style]) if (!existsSync(f)) throw new Error(`pair ${p.name}: ${f} does not exist`);
  return pairs;
}

/** RGB bytes as `[H, W, 3]` float in [0, 1]. @returns caller owns. */
function pixelsToTensor(p: PixelsLike): tf.Tensor3D {
  return tf.tidy(() => tf.squeeze<tf.Tensor3D>(toImageBatch(p), [0]));
}

/** The top-left region whose sides are multiples of 16 (what the 5-level cascade outputs). @returns caller owns. */
function cropTo16(p: PixelsLike): tf.Tensor3D {
  return tf.tidy(() => tf.slice(pixelsToTensor(p), [0, 0, 0], [16 * Math.floor(p.height / 16), 16 * Math.floor(p.width / 16), 3]));
}

const fmt = (v: number, digits = 4): string => (Number.isFinite(v) ? v.toPrecision(digits) : String(v));

export async function evalQualityCommand(flags: EvalQualityFlags, usage: (msg: string) => Error): Promise<void> {
  let pairs: QualityPair[];
  try {
    pairs = await readPairs(flags.pairs);
  } catch (e) {
    throw usage((e as Error).message);
  }
  await mkdir(flags.out, { recursive: true });
  const log = (m: string): void => {
    if (!flags.quiet) process.stderr.write(`${m}\n`);
  };
  const wct = await Stylizer.create({ backend: flags.backend, method: 'wct' });
  const backend = announceBackend(wct.backend, flags.quiet);
  const adain = await Stylizer.create({ backend: flags.backend, method: 'adain', levels: [4] });
  const gatys = await StyleOptimizer.create({ backend: flags.backend, iterations: flags.iters });
  // The hybrid starts from the WCT output measured above (what `init: 'wct'` computes), not a second WCT run.
  const hybrid = await StyleOptimizer.create({ backend: flags.backend, iterations: flags.hybridIters });
  const results: Array<{ pair: QualityPair; width: number; height: number; methods: Record<QualityMethod, MethodMetrics> }> = [];
  const rows: Buffer[] = [];
  try {
    for (const pair of pairs) {
      log(`pair ${pair.name}`);
      const contentPixels = await readImageFile(pair.content, flags.size);
      const stylePixels = await readImageFile(pair.style, flags.size);
      const content = cropTo16(contentPixels);
      const style = pixelsToTensor(stylePixels);
      const styles = [{ image: style }];
      const images: Partial<Record<QualityMethod, tf.Tensor3D>> = {};
      const methods: Partial<Record<QualityMethod, MethodMetrics>> = {};
      try {
        const measure = async (m: QualityMethod, img: tf.Tensor3D, timeMs: number, extra: Partial<MethodMetrics> = {}): Promise<void> => {
          images[m] = img;
          const parts = await gatys.losses(img, content, styles);
          methods[m] = { styleLoss: parts.style, contentLoss: parts.content, ssim: await ssimLuminance(img, content), timeMs, ...extra };
          log(`  ${m}: style ${fmt(parts.style)} content ${fmt(parts.content)} (${Math.round(timeMs)} ms)`);
        };
        for (const [m, s] of [
          ['wct', wct],
          ['adain', adain],
        ] as const) {
          await s.setStyles(styles);
          await s.stylize(content).then((warm) => warm.dispose()); // warm-up: time the second run
          const t0 = performance.now();
          const out = await s.stylize(content);
          await out.data();
          await measure(m, out, performance.now() - t0);
        }
        const g = await gatys.optimize(content, styles, {
          onIteration: (i) => {
            if (i.iteration % 50 === 0) log(`  gatys ${i.iteration}/${i.iterationsTotal} loss ${fmt(i.parts.total)}`);
          },
        });
        await measure('gatys', g.image, g.elapsedMs, { iterations: g.iterations, evaluations: g.evaluations, objective: g.parts.total });
        const h = await hybrid.optimize(content, styles, { initImage: images.wct as tf.Tensor3D });
        const match = h.history.find((i) => i.parts.total <= g.parts.total);
        await measure('hybrid', h.image, h.elapsedMs + (methods.wct?.timeMs ?? 0), {
          iterations: h.iterations,
          evaluations: h.evaluations,
          objective: h.parts.total,
          iterationsToMatchGatys: match ? match.iteration : null,
          gatysObjectiveAtSameIterations: g.history[h.iterations - 1]?.bestTotal ?? null,
        });
        const dir = path.join(flags.out, pair.name);
        await mkdir(dir, { recursive: true });
        await writePngFile(path.join(dir, 'content.png'), content);
        await writePngFile(path.join(dir, 'style.png'), style);
        for (const m of QUALITY_METHODS) await writePngFile(path.join(dir, `${m}.png`), images[m] as tf.Tensor3D);
        rows.push(
          await comparisonRow(
            QUALITY_METHODS.map((m) => images[m] as tf.Tensor3D),
            192,
          ),
        );
        results.push({ pair, width: content.shape[1], height: content.shape[0], methods: methods as Record<QualityMethod, MethodMetrics> });
      } finally {
        tf.dispose([content, style, ...Object.values(images)]);
      }
    }
  } finally {
    wct.dispose();
    adain.dispose();
    gatys.dispose();
    hybrid.dispose();
  }
  const grid = await sharp(Buffer.concat(rows), { raw: { width: QUALITY_METHODS.length * 192, height: 192 * rows.length, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
  await writeFileAtomic(path.join(flags.out, 'comparison.jpg'), grid);
  const metrics = {
    createdAt: new Date().toISOString(),
    sizePx: flags.size,
    gatysIterations: flags.iters,
    hybridIterations: flags.hybridIters,
    backend,
    metrics: {
      styleLoss: 'sum over relu1_1, relu2_1, relu3_1 (vgg19) of 1/3 * sum((G - A)^2) / (4 C^2), G = F^T F / (H W)',
      contentLoss: 'mean((F - P)^2) at relu3_1 (vgg19)',
      ssim: 'mean SSIM of BT.601 luminance against the content (11x11 Gaussian, sigma 1.5)',
      timeMs: 'wall time on this machine (feed-forward: second run; optimiser: whole run incl. its start image)',
    },
    pairs: results.map((r) => ({
      name: r.pair.name,
      content: r.pair.content,
      style: r.pair.style,
      width: r.width,
      height: r.height,
      methods: r.methods,
    })),
  };
  await writeJsonFile(path.join(flags.out, 'metrics.json'), metrics);
  await writeFileAtomic(path.join(flags.out, 'index.html'), renderHtml(results));
  log(`wrote ${path.join(flags.out, 'index.html')}`);
}

/** One row of 192 px tiles (letterboxed) as raw RGB. */
async function comparisonRow(images: tf.Tensor3D[], tilePx: number): Promise<Buffer> {
  const tiles = [];
  for (const img of images) {
    const [h, w] = img.shape;
    const tile = await sharp(Buffer.from(await toRgbBytes(img)), { raw: { width: w, height: h, channels: 3 } })
      .resize(tilePx, tilePx, { fit: 'contain', background: { r: 255, g: 255, b: 255 } })
      .raw()
      .toBuffer();
    tiles.push(tile);
  }
  const row = Buffer.alloc(tilePx * tilePx * 3 * images.length);
  for (let y = 0; y < tilePx; y++)
    tiles.forEach((t, i) => t.copy(row, (y * tilePx * images.length + i * tilePx) * 3, y * tilePx * 3, (y + 1) * tilePx * 3));
  return row;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

function renderHtml(
  results: ReadonlyArray<{ pair: QualityPair; width: number; height: number; methods: Record<QualityMethod, MethodMetrics> }>,
): string {
  const sections = results
    .map((r) => {
      const n = escapeHtml(r.pair.name);
      const figs = ['content', 'style', ...QUALITY_METHODS]
        .map((m) => `<figure><img src="${n}/${m}.png" alt="${m} image for ${n}" width="256"><figcaption>${m}</figcaption></figure>`)
        .join('');
      const rows = QUALITY_METHODS.map((m) => {
        const x = r.methods[m];
        const iters = x.iterations === undefined ? '' : `${x.iterations} (${x.evaluations ?? ''} evals)`;
        const match = x.iterationsToMatchGatys === undefined ? '' : (x.iterationsToMatchGatys ?? 'not reached');
        const objective = x.objective === undefined ? '' : fmt(x.objective);
        const sameIters = x.gatysObjectiveAtSameIterations == null ? '' : fmt(x.gatysObjectiveAtSameIterations);
        return `<tr><td>${m}</td><td>${fmt(x.styleLoss)}</td><td>${fmt(x.contentLoss)}</td><td>${fmt(x.ssim, 3)}</td><td>${Math.round(x.timeMs)}</td><td>${iters}</td><td>${objective}</td><td>${match}</td><td>${sameIters}</td></tr>`;
      }).join('');
      return `<section><h2>${n} (${r.width}x${r.height})</h2><div class="row">${figs}</div><table><thead><tr><th>method</th><th>style loss</th><th>content loss</th><th>SSIM (luma)</th><th>time ms</th><th>iterations</th><th>objective</th><th>iterations to match Gatys' final objective</th><th>Gatys' objective at the same iterations</th></tr></thead><tbody>${rows}</tbody></table></section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>livestyle quality report</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}.row{display:flex;flex-wrap:wrap;gap:.5rem}figure{margin:0}figcaption{text-align:center}table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}</style>
</head><body><h1>livestyle quality report</h1>
<p>Style loss: position-normalised Gram matrices at relu1_1, relu2_1, relu3_1 of the full-size VGG-19 (lower is closer to the style). Content loss: mean squared relu3_1 difference. SSIM: luminance against the content. See metrics.json for exact definitions.</p>
${sections}
</body></html>
`;
}
