/**
 * The Gatys optimiser: image optimisation on a VGG loss network, the offline quality reference.
 * ref: Gatys, Ecker, Bethge, "Image Style Transfer Using Convolutional Neural Networks", CVPR 2016
 * (content + Gram style losses, L-BFGS); Gatys et al., "Controlling Perceptual Factors in Neural
 * Style Transfer", CVPR 2017, §5 (coarse-to-fine: optimise small, upsample, refine).
 *
 * Shaped like the Stylizer: `await StyleOptimizer.create(options)`, `setOptions(partial)`,
 * `optimize(content, styles, run)`, idempotent `dispose()`. A run reports every iteration, can be
 * stopped with an AbortSignal (the best image so far is returned) and throws on a NaN/Inf loss.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LoadedModel, type ByteSource } from '../weights/model-loader.js';
import type { ModelFolder } from '../weights/segmentation-model.js';
import { DEFAULT_OPTIONS, OptionsError, normaliseWeights, type BackendName } from '../pipeline/options.js';
import { InputError, toImageBatch, type StylizerInput } from '../pipeline/input.js';
import { Stylizer, getDefaultEnvironment, type StyleSpec, type StylizerEnvironment } from '../pipeline/stylizer.js';
import { preserveContentColour } from '../transforms/colour.js';
import { ensureGradients } from './gradients.js';
import { LossNetwork } from './loss-network.js';
import { GatysObjective, StyleGrams, type LossParts } from './objective.js';
import { Adam, Lbfgs, NonFiniteLossError, type ImageOptimizer, type OptimizerStop } from './optimizers.js';
import { OPTIMIZE_MAX_SIDE_PX, OPTIMIZE_MIN_SIDE_PX, objectiveLayers, resolveOptimizerOptions, type OptimizerOptions } from './options.js';

/** An optimiser input or run that cannot proceed (image too small or large, no style, a diverging loss). */
export class OptimizeError extends Error {
  override name = 'OptimizeError';
}

/** Progress of one optimiser iteration, passed to `onIteration`. */
export interface IterationInfo {
  /** Scale index, 0 = coarsest. */
  readonly scale: number;
  readonly heightPx: number;
  readonly widthPx: number;
  /** 1-based, counted over all scales. */
  readonly iteration: number;
  readonly iterationsTotal: number;
  /** Objective evaluations so far (forward + backward passes), all scales. */
  readonly evaluations: number;
  readonly parts: LossParts;
  /** Lowest total loss seen at this scale. */
  readonly bestTotal: number;
  readonly elapsedMs: number;
}

/** Per-run options of `StyleOptimizer.optimize`: progress, cancellation and a start image. */
export interface OptimizeRun {
  /** Called after every iteration. */
  readonly onIteration?: (info: IterationInfo) => void;
  /** Stops the run; the best image so far is returned with `stoppedEarly: true`. */
  readonly signal?: AbortSignal;
  /** Start image instead of `options.init` (e.g. your own feed-forward result); not disposed. */
  readonly initImage?: StylizerInput;
}

/**
 * Why an optimiser run ended: all iterations ran, it was aborted, the loss stopped falling, the
 * projected gradient vanished (`'gradient'`), or L-BFGS found no step that lowers the loss (`'line-search'`).
 */
export type StopReason = 'iterations' | 'aborted' | 'loss' | OptimizerStop;

/** The loss-change criterion: stop when the loss fell by less than this fraction of itself ... */
export const LOSS_TOLERANCE = 1e-6;
/** ... over this many iterations. */
export const LOSS_WINDOW = 10;

/** What `StyleOptimizer.optimize` returns: the image (caller owns), its losses, the history and the stop reason. */
export interface OptimizeResult {
  /** `[H, W, 3]` in [0, 1], the content's size. Caller owns; dispose. */
  readonly image: tf.Tensor3D;
  /** Losses of the returned image (before clamping and colour preservation) at the finest scale reached. */
  readonly parts: LossParts;
  readonly iterations: number;
  readonly evaluations: number;
  /** True when `signal` stopped the run (`stopReason: 'aborted'`). */
  readonly stoppedEarly: boolean;
  /**
   * Why the run ended (at its last scale; an earlier scale that converges hands over to the next):
   * - `'iterations'`: every requested iteration ran;
   * - `'aborted'`: `signal` stopped it;
   * - `'gradient'`: the projected gradient vanished (largest entry <= 1e-7): a stationary point;
   * - `'loss'`: the loss fell by less than {@link LOSS_TOLERANCE} (relative) over the last
   *   {@link LOSS_WINDOW} iterations;
   * - `'line-search'`: L-BFGS could not lower the loss even by a safeguarded gradient step after
   *   dropping its history (float32 resolution reached).
   * A NaN or Inf loss is not a stop reason: it throws `OptimizeError`.
   */
  readonly stopReason: StopReason;
  /** Per-iteration losses. */
  readonly history: readonly IterationInfo[];
  /** Time to make the start image (the WCT cascade for `init: 'wct'`), ms. */
  readonly initMs: number;
  readonly elapsedMs: number;
}

/** Downscales by repeated 2x2 averaging, then bilinear: avoids aliasing on large reductions. @returns caller owns. */
export function resizeImage(img: tf.Tensor4D, heightPx: number, widthPx: number): tf.Tensor4D {
  return tf.tidy(() => {
    let x = img;
    while (x.shape[1] >= 2 * heightPx && x.shape[2] >= 2 * widthPx) x = tf.avgPool(x, 2, 2, 'valid');
    if (x.shape[1] === heightPx && x.shape[2] === widthPx) return x === img ? tf.clone(x) : x;
    return tf.image.resizeBilinear(x, [heightPx, widthPx], false, true);
  });
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * The Gatys optimiser (Gatys, Ecker & Bethge, CVPR 2016): optimises the image itself against content,
 * Gram style and total-variation losses on a VGG-19, with L-BFGS on the box [0, 1] or Adam. The offline
 * quality reference for the feed-forward stylizer. Create with `await StyleOptimizer.create(options)`;
 * `dispose()` is idempotent.
 */
export class StyleOptimizer {
  private options: OptimizerOptions;
  private model: LoadedModel | null = null;
  private net: LossNetwork | null = null;
  private wctStylizer: Stylizer | null = null;
  private disposed = false;
  private running = false;

  private constructor(
    options: OptimizerOptions,
    /** The tfjs backend in use. */
    readonly backend: string,
    private readonly env: StylizerEnvironment,
  ) {
    this.options = options;
  }

  static async create(
    options: Partial<OptimizerOptions> = {},
    env: StylizerEnvironment = getDefaultEnvironment(),
  ): Promise<StyleOptimizer> {
    const resolved = resolveOptimizerOptions(options);
    const backend = await env.initBackend(resolved.backend);
    await ensureGradients();
    const o = new StyleOptimizer(resolved, backend, env);
    try {
      await o.loadNetwork();
    } catch (e) {
      o.dispose();
      throw e;
    }
    return o;
  }

  getOptions(): OptimizerOptions {
    return Object.freeze({ ...this.options });
  }

  /** Changes options for the next run; a different loss network or model source is loaded now. */
  async setOptions(partial: Partial<OptimizerOptions>): Promise<void> {
    this.assertLive();
    if (this.running) throw new OptionsError('cannot change options while a run is in progress');
    const next = resolveOptimizerOptions(partial, this.options);
    if (next.backend !== this.options.backend) throw new OptionsError('backend cannot change after create()');
    const reload =
      next.lossNetwork !== this.options.lossNetwork ||
      next.modelSource !== this.options.modelSource ||
      next.modelBaseUrl !== this.options.modelBaseUrl;
    this.options = next;
    if (reload) {
      this.net?.dispose();
      this.model?.dispose();
      this.model = null;
      this.net = null;
      await this.loadNetwork();
    }
  }

  private async loadNetwork(): Promise<void> {
    const o = this.options;
    const source = o.modelSource ? o.modelSource(o.lossNetwork) : this.defaultSource(o);
    const model = await LoadedModel.open(source, o.lossNetwork);
    try {
      this.net = await LossNetwork.load(model);
    } catch (e) {
      model.dispose();
      throw e;
    }
    this.model = model;
  }

  private defaultSource(o: OptimizerOptions): ByteSource {
    // The environment's source takes stylizer options; only the model, backend and base URL matter to it.
    return this.env.defaultModelSource(o.lossNetwork, {
      ...DEFAULT_OPTIONS,
      model: o.lossNetwork,
      backend: o.backend,
      modelBaseUrl: o.modelBaseUrl,
    });
  }

  /**
   * Optimises an image for `content` in the blended `styles`.
   * @param content and style images are not disposed.
   */
  async optimize(content: StylizerInput, styles: readonly StyleSpec[], run: OptimizeRun = {}): Promise<OptimizeResult> {
    this.assertLive();
    if (this.running) throw new OptionsError('a run is already in progress on this optimiser');
    if (!Array.isArray(styles) || styles.length === 0) throw new OptionsError('optimize needs at least one style');
    const specs: readonly StyleSpec[] = styles;
    const weights = normaliseWeights(specs.map((s) => s.weight ?? 1));
    this.running = true;
    const owned: tf.Tensor[] = [];
    try {
      const minSidePx = Math.max(OPTIMIZE_MIN_SIDE_PX, 2 * (this.net?.minSidePx ?? 1));
      const contentBatch = toImageBatch(content, 'content');
      owned.push(contentBatch);
      const [, h, w] = contentBatch.shape;
      checkSize(h, w, minSidePx * 2 ** (this.options.scales - 1), this.options.scales);
      await checkFinite(content, 'content');
      const styleBatches: tf.Tensor4D[] = [];
      for (const [i, s] of specs.entries()) {
        const b = toImageBatch(s.image, `style ${i + 1}`);
        owned.push(b);
        checkSize(b.shape[1], b.shape[2], minSidePx, 1, `style ${i + 1}`);
        await checkFinite(s.image, `style ${i + 1}`);
        styleBatches.push(b);
      }
      return await this.runScales(contentBatch, styleBatches, weights, run);
    } finally {
      tf.dispose(owned);
      this.running = false;
    }
  }

  private async startImage(
    content: tf.Tensor4D,
    styleBatches: readonly tf.Tensor4D[],
    weights: readonly number[],
    hPx: number,
    wPx: number,
    run: OptimizeRun,
  ): Promise<tf.Tensor4D> {
    if (run.initImage !== undefined) {
      const b = toImageBatch(run.initImage, 'initImage');
      const r = resizeImage(b, hPx, wPx);
      b.dispose();
      return r;
    }
    const o = this.options;
    if (o.init === 'noise') return tf.randomUniform([1, hPx, wPx, 3], 0, 1, 'float32', o.seed);
    if (o.init === 'content') return resizeImage(content, hPx, wPx);
    // init 'wct': the feed-forward cascade (cd16x, all levels), then refined: the hybrid.
    if (!this.wctStylizer) {
      this.wctStylizer = await Stylizer.create(
        // Its subject stays 'all', so it never asks modelSource for the segmentation model's folder.
        {
          backend: this.backend as BackendName,
          modelBaseUrl: o.modelBaseUrl,
          modelSource: o.modelSource as ((model: ModelFolder) => ByteSource) | null,
        },
        this.env,
      );
    }
    // The stylizer takes [H, W, 3] images and keeps its own copies of the styles.
    const content3 = tf.squeeze<tf.Tensor3D>(content, [0]);
    const styles3 = styleBatches.map((b) => tf.squeeze<tf.Tensor3D>(b, [0]));
    let out: tf.Tensor3D;
    try {
      await this.wctStylizer.setStyles(styles3.map((image, i) => ({ image, weight: weights[i] as number })));
      out = await this.wctStylizer.stylize(content3);
    } finally {
      tf.dispose([content3, ...styles3]);
    }
    const r = tf.tidy(() => resizeImage(tf.expandDims<tf.Tensor4D>(out, 0), hPx, wPx));
    out.dispose();
    return r;
  }

  /** The iterations at one scale, from `x` (kept by the caller); the best image found is the caller's. */
  private async optimizeAtScale(
    x: tf.Tensor4D,
    scale: number,
    hs: number,
    ws: number,
    inputs: { content: tf.Tensor4D; styleBatches: tf.Tensor4D[]; weights: number[]; run: OptimizeRun },
    progress: ScaleProgress,
  ): Promise<{ best: tf.Tensor4D | null; stopReason: StopReason }> {
    const o = this.options;
    const objective = this.objectiveAt(inputs.content, inputs.styleBatches, inputs.weights, hs, ws);
    const evaluate = (img: tf.Tensor4D): Promise<{ parts: LossParts; grad: tf.Tensor4D }> => objective.valueAndGrad(img);
    const opt: ImageOptimizer =
      o.optimizer === 'lbfgs' ? new Lbfgs(x, evaluate, o.historySize, [0, 1]) : new Adam(x, evaluate, o.learningRate);
    let best: tf.Tensor4D | null = null;
    let bestTotal = Number.POSITIVE_INFINITY;
    const totals: number[] = [];
    let completed = false;
    let stopReason: StopReason = 'iterations';
    try {
      for (let i = 0; i < o.iterations; i++) {
        // On WASM every await inside a step resolves as a microtask; without this macrotask turn a
        // timer, UI event or SIGINT handler that aborts the run would only run after the last iteration.
        await yieldToEventLoop();
        if (inputs.run.signal?.aborted) {
          stopReason = 'aborted';
          break;
        }
        let step;
        try {
          step = await opt.step();
        } catch (e) {
          if (e instanceof NonFiniteLossError)
            throw new OptimizeError(
              `optimisation stopped at iteration ${progress.history.length + 1}: ${e.message} (check the weights and inputs)`,
            );
          throw e;
        }
        progress.evaluations += step.evaluations;
        if (step.stop) {
          // A step that could not move: not an iteration.
          stopReason = step.stop;
          break;
        }
        if (step.parts.total < bestTotal) {
          bestTotal = step.parts.total;
          progress.bestParts = step.parts;
          best?.dispose();
          best = tf.clone(step.point);
        }
        const info: IterationInfo = {
          scale,
          heightPx: hs,
          widthPx: ws,
          iteration: progress.history.length + 1,
          iterationsTotal: progress.iterationsTotal,
          evaluations: progress.evaluations,
          parts: step.parts,
          bestTotal,
          elapsedMs: now() - progress.t0,
        };
        progress.history.push(info);
        inputs.run.onIteration?.(info);
        totals.push(step.parts.total);
        const past = totals[totals.length - 1 - LOSS_WINDOW];
        const fell = past !== undefined ? past - step.parts.total : Number.NaN;
        // Converged: the loss fell (Adam's may rise), by very little, before the last iteration.
        if (i < o.iterations - 1 && fell >= 0 && fell <= LOSS_TOLERANCE * Math.abs(step.parts.total)) {
          stopReason = 'loss';
          break;
        }
      }
      completed = true;
    } finally {
      opt.dispose();
      objective.dispose();
      if (!completed) best?.dispose();
    }
    return { best, stopReason };
  }

  private async runScales(content: tf.Tensor4D, styleBatches: tf.Tensor4D[], weights: number[], run: OptimizeRun): Promise<OptimizeResult> {
    const o = this.options;
    const t0 = now();
    const [, h, w] = content.shape;
    const sizes: Array<[number, number]> = [];
    for (let k = o.scales - 1; k >= 0; k--) sizes.push([Math.max(1, Math.round(h / 2 ** k)), Math.max(1, Math.round(w / 2 ** k))]);
    const [h0, w0] = sizes[0] as [number, number];
    const initStart = now();
    let x = await this.startImage(content, styleBatches, weights, h0, w0, run);
    const initMs = now() - initStart;
    const progress: ScaleProgress = { t0, history: [], evaluations: 0, bestParts: null, iterationsTotal: o.iterations * sizes.length };
    let stoppedEarly = false;
    let stopReason: StopReason = 'iterations';
    try {
      for (let scale = 0; scale < sizes.length; scale++) {
        const [hs, ws] = sizes[scale] as [number, number];
        if (x.shape[1] !== hs || x.shape[2] !== ws) {
          const up = resizeImage(x, hs, ws);
          x.dispose();
          x = up;
        }
        const r = await this.optimizeAtScale(x, scale, hs, ws, { content, styleBatches, weights, run }, progress);
        stopReason = r.stopReason;
        stoppedEarly = r.stopReason === 'aborted';
        const best = r.best;
        if (best) {
          x.dispose();
          x = best;
        }
        if (stoppedEarly) break;
      }
      let bestParts = progress.bestParts;
      if (!bestParts) {
        // Stopped before the first iteration: report the start image's losses.
        const objective = this.objectiveAt(content, styleBatches, weights, x.shape[1], x.shape[2]);
        try {
          bestParts = await objective.value(x);
        } finally {
          objective.dispose();
        }
      }
      const finalX = x;
      const image = tf.tidy(() => {
        let y = resizeImage(finalX, h, w);
        y = tf.clipByValue(y, 0, 1);
        if (o.preserveColor) y = preserveContentColour(y, content);
        return tf.squeeze<tf.Tensor3D>(tf.clipByValue(y, 0, 1), [0]);
      });
      return {
        image,
        parts: bestParts,
        iterations: progress.history.length,
        evaluations: progress.evaluations,
        stoppedEarly,
        stopReason,
        history: progress.history,
        initMs,
        elapsedMs: now() - t0,
      };
    } finally {
      x.dispose();
    }
  }

  /**
   * The optimiser's losses of any image against a content and styles, at that image's size, with the
   * current options' network, layers and weights (the quality metric of `eval quality`).
   * All inputs are not disposed.
   */
  async losses(image: StylizerInput, content: StylizerInput, styles: readonly StyleSpec[]): Promise<LossParts> {
    this.assertLive();
    const net = this.net;
    if (!net) throw new OptionsError('loss network not loaded');
    const weights = normaliseWeights(styles.map((s) => s.weight ?? 1));
    const owned: tf.Tensor[] = [];
    try {
      const x = toImageBatch(image, 'image');
      owned.push(x);
      const c = toImageBatch(content, 'content');
      owned.push(c);
      const styleBatches = styles.map((s, i) => {
        const b = toImageBatch(s.image, `style ${i + 1}`);
        owned.push(b);
        return b;
      });
      const objective = this.objectiveAt(c, styleBatches, weights, x.shape[1], x.shape[2]);
      try {
        return await objective.value(x);
      } finally {
        objective.dispose();
      }
    } finally {
      tf.dispose(owned);
    }
  }

  /**
   * The styles' Gram targets with the current options' network and style layers, at the scale given:
   * unlike {@link losses}, no style is rescaled to the scored image. For meters that must compare
   * frames with the style exactly as the stylizer used it (see metrics/temporal-meter.ts). Styles not
   * disposed; the caller owns the result and disposes it before this optimiser.
   */
  styleReference(styles: readonly StyleSpec[]): StyleGrams {
    this.assertLive();
    const net = this.net;
    if (!net) throw new OptionsError('loss network not loaded');
    const weights = normaliseWeights(styles.map((s) => s.weight ?? 1));
    const batches = styles.map((s, i) => toImageBatch(s.image, `style ${i + 1}`));
    try {
      return new StyleGrams(
        net,
        batches.map((image, i) => ({ image, weight: weights[i] as number })),
        objectiveLayers(this.options).style,
      );
    } finally {
      tf.dispose(batches);
    }
  }

  /**
   * The objective at one output size: the content resized to it, each style scaled so its short side
   * matches the output's (brush strokes keep their scale relative to the output). Inputs not disposed.
   */
  private objectiveAt(
    content: tf.Tensor4D,
    styleBatches: readonly tf.Tensor4D[],
    weights: readonly number[],
    hPx: number,
    wPx: number,
  ): GatysObjective {
    const net = this.net;
    if (!net) throw new OptionsError('loss network not loaded');
    const o = this.options;
    const contentS = resizeImage(content, hPx, wPx);
    const styleS = styleBatches.map((b, i) => {
      const f = Math.min(hPx, wPx) / Math.min(b.shape[1], b.shape[2]);
      const image = resizeImage(b, Math.max(1, Math.round(b.shape[1] * f)), Math.max(1, Math.round(b.shape[2] * f)));
      return { image, weight: weights[i] as number };
    });
    try {
      return new GatysObjective(net, contentS, styleS, objectiveLayers(o), {
        content: o.contentWeight,
        style: o.styleWeight,
        tv: o.tvWeight,
      });
    } finally {
      tf.dispose([contentS, ...styleS.map((s) => s.image)]);
    }
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private assertLive(): void {
    if (this.disposed) throw new OptionsError('StyleOptimizer is disposed');
  }

  /** Frees the loss network and the WCT stylizer used for `init: 'wct'`. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.net?.dispose();
    this.model?.dispose();
    this.model = null;
    this.net = null;
    this.wctStylizer?.dispose();
    this.wctStylizer = null;
  }
}

/**
 * The optimiser refuses NaN/Inf pixels (the stylizer reads them as 0): checked on the caller's input,
 * before toImageBatch replaces them. Bytes and browser images are always finite.
 */
async function checkFinite(x: StylizerInput, what: string): Promise<void> {
  if (!(x instanceof tf.Tensor) || x.dtype !== 'float32') return;
  const bad = tf.tidy(() => tf.any(tf.logicalNot(tf.isFinite(x))));
  const v = (await bad.data())[0];
  bad.dispose();
  if (v) throw new InputError(`${what} holds NaN or Inf pixels`);
}

function checkSize(h: number, w: number, minSide: number, scales: number, what = 'content'): void {
  if (Math.min(h, w) < minSide)
    throw new InputError(`${what} is ${w}x${h}: the short side must be at least ${minSide} px${scales > 1 ? ` for ${scales} scales` : ''}`);
  if (Math.max(h, w) > OPTIMIZE_MAX_SIDE_PX)
    throw new InputError(`${what} is ${w}x${h}: the long side must be at most ${OPTIMIZE_MAX_SIDE_PX} px (resize it first)`);
}

/** What the scales of one run accumulate. */
interface ScaleProgress {
  readonly t0: number;
  readonly history: IterationInfo[];
  evaluations: number;
  bestParts: LossParts | null;
  readonly iterationsTotal: number;
}
