/**
 * Owns one {@link Stylizer} for an element: creates it lazily, decodes style images, applies
 * settings, and draws stylised frames to a canvas. Latest call wins for style loads; weight-only
 * changes apply to the next frame without re-encoding anything.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import {
  AbortError,
  SegmentationUnavailableError,
  Stylizer,
  type ModelFolder,
  type StageTimings,
  type StyleStatsCache,
  type StylizerOptions,
} from '@livestyle/core';
import type { StyleSource } from './types.js';
import { CanvasPresenter, type PresentPath } from '@livestyle/core/internal/io/canvas-presenter.js';
import { workDone } from '@livestyle/core/internal/backend/work-done.js';
import { cachedFetchByteSource, type ModelFileProgress } from '@livestyle/core/internal/weights/model-cache.js';
import type { ByteSource } from '@livestyle/core/internal/weights/model-loader.js';
import { sha256Hex } from '@livestyle/core/internal/weights/model-format.js';
import { IndexedDbStyleStatsCache } from '@livestyle/core/internal/io/style-stats-idb.js';
import { LayeredStyleStatsCache, ShippedStyleStats } from '@livestyle/core/internal/io/style-stats-shipped.js';

/** Where a {@link StylizerController} is: its model and styles loading, ready, or failed. */
export type StylizerStatus = 'idle' | 'loading-model' | 'loading-styles' | 'ready' | 'error';

/** Decodes a style source into an ImageBitmap. Caller owns; close() it. */
export async function decodeStyleSource(src: string | Blob, signal?: AbortSignal): Promise<ImageBitmap> {
  return (await decodeStyle(src, signal)).bitmap;
}

/**
 * A style source decoded, with the SHA-256 of its file (the statistics caches' key for it; absent
 * where the page has no `crypto.subtle`, i.e. not served over https).
 */
async function decodeStyle(src: string | Blob, signal?: AbortSignal): Promise<{ bitmap: ImageBitmap; fileSha256?: string }> {
  let blob: Blob;
  if (typeof src === 'string') {
    const response = await fetch(src, signal ? { signal } : {});
    if (!response.ok) throw new Error(`could not load style image ${src}: HTTP ${response.status}`);
    blob = await response.blob();
  } else {
    blob = src;
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    const name = typeof src === 'string' ? src : src instanceof File ? src.name : 'the image';
    throw new Error(`${name} is not an image this browser can decode`);
  }
  if (!globalThis.crypto?.subtle) return { bitmap };
  return { bitmap, fileSha256: await sha256Hex(new Uint8Array(await blob.arrayBuffer())) };
}

/** The page's IndexedDB statistics cache, and one layered cache per folder of precomputed statistics (shared by every element). */
let pageStyleStats: IndexedDbStyleStatsCache | null = null;
const withShipped = new Map<string, StyleStatsCache>();
const warnOnce = (message: string): void => console.warn(`livestyle: ${message}`);

/**
 * The style-statistics cache of an element: none when `enabled` is false; else the page's IndexedDB,
 * behind the precomputed statistics at `shippedUrl` when one is given (a style mixer's built-in
 * styles). One instance per page and folder, so every element shares it and options stay equal.
 */
export function elementStyleStatsCache(enabled: boolean, shippedUrl: string): StyleStatsCache | null {
  if (!enabled) return null;
  pageStyleStats ??= new IndexedDbStyleStatsCache({ onWarning: warnOnce });
  if (!shippedUrl) return pageStyleStats;
  const url = new URL(shippedUrl, document.baseURI).href;
  let cache = withShipped.get(url);
  if (!cache) {
    cache = new LayeredStyleStatsCache([new ShippedStyleStats(url, { onWarning: warnOnce }), pageStyleStats]);
    withShipped.set(url, cache);
  }
  return cache;
}

/** Bytes of model files loaded so far and expected, over the files requested since the last completed load. */
export interface ModelBytes {
  readonly loadedBytes: number;
  readonly totalBytes: number;
}

/** True when two blends name the same images in the same order (so only weights may differ). */
export function sameStyleImages(a: readonly StyleSource[], b: readonly StyleSource[]): boolean {
  return a.length === b.length && a.every((s, i) => s.src === b[i]?.src);
}

/** Moving average of frames per second over the last `windowMs`. */
export class FpsMeter {
  private readonly stamps: number[] = [];
  constructor(private readonly windowMs = 1000) {}
  tick(nowMs: number): number {
    this.stamps.push(nowMs);
    while (this.stamps.length > 2 && nowMs - (this.stamps[0] as number) > this.windowMs) this.stamps.shift();
    const first = this.stamps[0] as number;
    return this.stamps.length < 2 || nowMs === first ? 0 : ((this.stamps.length - 1) * 1000) / (nowMs - first);
  }
  reset(): void {
    this.stamps.length = 0;
  }
}

/**
 * How often (ms) a frame on WebGL or WebGPU times its stages to completion (`Stylizer.syncStageTimings`):
 * such a frame waits for each stage before issuing the next, so only one frame a second pays for it.
 */
export const STAGE_TIMING_INTERVAL_MS = 1000;

export interface DrawnFrame {
  readonly width: number;
  readonly height: number;
  /** Completed-work timings: `totalMs` is this frame's, the stages are as `stagesTimedThisFrame` says (see `FrameDetail`). */
  readonly timings: StageTimings | null;
  readonly fps: number;
  /** Whether the stage figures were timed on this frame; false: they are the last timed frame's. */
  readonly stagesTimedThisFrame: boolean;
  /** `'gpu'`: drawn straight from GPU memory; `'readback'`: through the CPU (wasm, or a fallback). */
  readonly presentPath: PresentPath;
}

/** A Lit reactive controller owning a `Stylizer` for an element: options, styles, the render loop and its stats. */
export class StylizerController implements ReactiveController {
  status: StylizerStatus = 'idle';
  errorMessage = '';
  /**
   * Why `subject` fell back to 'all' (the segmentation model could not load), for the element to show;
   * '' when the subject asked for is in force.
   */
  subjectNotice = '';
  /** The subject (and models base URL) whose segmentation model failed to load, not asked for again. */
  private subjectFailure: { subject: string; baseUrl: string } | null = null;
  private configureCalls = 0;
  /** The styles now in use (after their load finished). */
  activeStyles: readonly StyleSource[] = [];
  private stylizer: Stylizer | null = null;
  private creating: Promise<Stylizer> | null = null;
  private options: Partial<StylizerOptions> = {};
  private styleRequest = 0;
  private styleAbort: AbortController | null = null;
  private readonly fps = new FpsMeter();
  private presenter: CanvasPresenter | null = null;
  /** The last stage breakdown timed to completion, and when its frame began. */
  private stages: StageTimings | null = null;
  private stagesTimedAtMs = -Infinity;
  /** Bumped by dispose(): a model load that started before belongs to a stale generation. */
  private generation = 0;
  /** Model files requested and not all arrived yet (URL -> bytes), for the progress message. */
  private readonly modelFiles = new Map<string, { loaded: number; total: number }>();
  /**
   * How this controller's stylizer reads models: from `modelBaseUrl`, kept in the Cache API, with
   * progress. One function for the controller's life: a new one would count as a new model source.
   */
  private readonly modelSource = (model: ModelFolder): ByteSource => {
    const base = (this.options.modelBaseUrl ?? './models/').replace(/\/?$/, '/');
    return cachedFetchByteSource(`${base}${model}/`, { onProgress: (p) => this.modelProgress(p) });
  };

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly onError: (message: string, cause: unknown) => void,
    private readonly onStylesReady: (styles: readonly StyleSource[]) => void = () => undefined,
  ) {
    host.addController(this);
  }

  get backend(): string {
    return this.stylizer?.backend ?? '';
  }

  get ready(): boolean {
    return this.status === 'ready' || (this.status === 'loading-styles' && this.activeStyles.length > 0);
  }

  hostDisconnected(): void {
    this.dispose();
  }

  /** Frees the stylizer (models, style statistics, video state). Idempotent. */
  dispose(): void {
    this.generation++;
    this.styleAbort?.abort();
    this.stylizer?.dispose();
    this.stylizer = null;
    this.presenter?.dispose();
    this.presenter = null;
    this.stages = null;
    this.stagesTimedAtMs = -Infinity;
    this.creating = null;
    this.activeStyles = [];
    this.status = 'idle';
    this.subjectNotice = '';
    this.subjectFailure = null;
    this.modelFiles.clear();
  }

  /**
   * Model bytes loaded and expected while model files are still arriving (the element's progress
   * message); null when none is (nothing requested, or everything arrived).
   */
  get modelBytes(): ModelBytes | null {
    if (this.status === 'error' || this.status === 'idle') return null;
    let loadedBytes = 0;
    let totalBytes = 0;
    for (const f of this.modelFiles.values()) {
      loadedBytes += f.loaded;
      totalBytes += f.total;
    }
    return loadedBytes < totalBytes ? { loadedBytes, totalBytes } : null;
  }

  /** Style statistics encoded by this element's stylizer, and read from the caches instead (zeros before it exists). */
  get styleStatsSources(): { readonly encoded: number; readonly cached: number } {
    return this.stylizer?.styleStatsSources ?? { encoded: 0, cached: 0 };
  }

  private modelProgress(p: ModelFileProgress): void {
    // The manifest's size is unknown until it arrives; it is small, so it is left out of the total.
    if (p.totalBytes === null) return;
    const all = [...this.modelFiles.values()];
    // A new batch of files after the last one completed: count from zero again.
    if (!this.modelFiles.has(p.url) && all.length > 0 && all.every((f) => f.loaded >= f.total)) this.modelFiles.clear();
    this.modelFiles.set(p.url, { loaded: p.loadedBytes, total: p.totalBytes });
    this.host.requestUpdate();
  }

  /** Applies stylizer options (model, method, alpha, colour, temporal…); creates the stylizer on first use. */
  async configure(options: Partial<StylizerOptions>): Promise<void> {
    this.options = { ...this.options, ...options, modelSource: this.modelSource };
    const s = this.stylizer;
    if (s) await this.setOptionsOrWholeFrame(s, options);
  }

  /**
   * `setOptions`, except that a subject the segmentation model cannot serve falls back to the whole
   * frame (the other options still apply) with {@link subjectNotice} saying why. That subject is then
   * not asked for again (nor its model fetched again on every other change) until the subject or the
   * model base URL changes; only the latest call sets the notice.
   */
  private async setOptionsOrWholeFrame(s: Stylizer, options: Partial<StylizerOptions>): Promise<void> {
    const call = ++this.configureCalls;
    const subject = options.subject ?? this.options.subject ?? 'all';
    const baseUrl = this.options.modelBaseUrl ?? './models/';
    const failed = this.subjectFailure;
    if (subject === 'all') this.subjectFailure = null;
    const known = subject !== 'all' && failed !== null && failed.subject === subject && failed.baseUrl === baseUrl;
    try {
      await s.setOptions(known ? { ...options, subject: 'all' } : options);
      if (call === this.configureCalls && !known) this.subjectNotice = '';
    } catch (e) {
      if (!(e instanceof SegmentationUnavailableError)) throw e;
      // A newer call carries the element's whole option set: it decides, not this stale one.
      if (call !== this.configureCalls) return;
      this.subjectFailure = { subject, baseUrl };
      this.subjectNotice = `${e.message}. The whole picture is stylised instead.`;
      await s.setOptions({ ...options, subject: 'all' });
    } finally {
      this.host.requestUpdate();
    }
  }

  private async ensureStylizer(): Promise<Stylizer> {
    if (this.stylizer) return this.stylizer;
    if (!this.creating) {
      const generation = this.generation;
      this.setStatus('loading-model');
      // The subject is applied after: a segmentation model that cannot load must not stop the stylizer.
      const creating = Stylizer.create({ ...this.options, subject: 'all', modelSource: this.modelSource }).then(async (s) => {
        try {
          await this.setOptionsOrWholeFrame(s, this.options); // options set while the model loaded
          if (generation !== this.generation) throw new AbortError('element disconnected while the model loaded');
        } catch (e) {
          s.dispose();
          throw e;
        }
        this.stylizer = s;
        return s;
      });
      this.creating = creating;
      creating.catch(() => {
        if (this.creating === creating) this.creating = null;
      });
    }
    return this.creating;
  }

  /**
   * Loads a blend. Only the last call takes effect: earlier ones are aborted (their images and
   * statistics freed). A blend of the same images with new weights applies at once.
   */
  async setStyles(sources: readonly StyleSource[]): Promise<void> {
    if (sources.length === 0) return;
    const request = ++this.styleRequest;
    const weights = sources.map((s) => s.weight ?? 1);
    if (this.stylizer && this.activeStyles.length && sameStyleImages(this.activeStyles, sources) && this.status === 'ready') {
      this.stylizer.setStyleWeights(weights);
      this.activeStyles = sources;
      this.onStylesReady(sources);
      return;
    }
    this.styleAbort?.abort();
    const abort = new AbortController();
    this.styleAbort = abort;
    const decoded: Array<{ bitmap: ImageBitmap; fileSha256?: string }> = [];
    try {
      const stylizer = await this.ensureStylizer();
      if (request !== this.styleRequest) return;
      this.setStatus('loading-styles');
      for (const s of sources) decoded.push(await decodeStyle(s.src, abort.signal));
      if (request !== this.styleRequest) return;
      await stylizer.setStyles(decoded.map((d, i) => ({ image: d.bitmap, weight: weights[i] ?? 1, fileSha256: d.fileSha256 })));
      if (request !== this.styleRequest) return;
      this.activeStyles = sources;
      this.setStatus('ready');
      this.onStylesReady(sources);
    } catch (e) {
      if (request !== this.styleRequest || e instanceof AbortError || (e instanceof DOMException && e.name === 'AbortError')) return;
      this.errorMessage = e instanceof Error ? e.message : String(e);
      this.setStatus(this.activeStyles.length ? 'ready' : 'error');
      this.onError(this.errorMessage, e);
    } finally {
      for (const d of decoded) d.bitmap.close();
    }
  }

  /**
   * Stylises `source` (already at processing size) and draws it on `target`. Video mode smooths
   * over time (see `temporalStrength`); image mode stylises the frame alone. Resolves once the
   * frame's work is done, not only issued: the frame's `totalMs` and the fps are measured there, so
   * with frames drawn one after another no frame's total exceeds its interval.
   */
  async drawFrame(source: HTMLCanvasElement, target: HTMLCanvasElement, timestampMs: number | null): Promise<DrawnFrame | null> {
    const stylizer = this.stylizer;
    if (!stylizer || !this.ready || stylizer.isDisposed) return null;
    const t0 = performance.now();
    stylizer.syncStageTimings = t0 - this.stagesTimedAtMs >= STAGE_TIMING_INTERVAL_MS;
    let out: tf.Tensor3D | null = null;
    try {
      out = timestampMs === null ? await stylizer.stylize(source) : await stylizer.stylizeVideoFrame(source, timestampMs);
      const [height, width] = out.shape;
      this.presenter ??= new CanvasPresenter();
      const presentPath = await this.presenter.draw(out, target);
      // A readback has waited for the frame's work already; a GPU draw has only issued it.
      if (presentPath === 'gpu') await workDone();
      const t1 = performance.now();
      const last = stylizer.lastTimings;
      const stagesTimedThisFrame = last?.completed === true;
      if (last && stagesTimedThisFrame) {
        this.stages = last;
        this.stagesTimedAtMs = t0;
      }
      const timings = this.stages && { ...this.stages, totalMs: t1 - t0 };
      return { width, height, timings, fps: this.fps.tick(t1), stagesTimedThisFrame, presentPath };
    } finally {
      stylizer.syncStageTimings = false;
      out?.dispose();
    }
  }

  /** Forgets video state (after a seek, a new clip, or a camera restart). */
  resetVideo(): void {
    this.stylizer?.reset();
    this.fps.reset();
  }

  /** The stylizer itself (created on demand), for offline work such as export. */
  async getStylizer(): Promise<Stylizer> {
    return this.ensureStylizer();
  }

  private setStatus(status: StylizerStatus): void {
    this.status = status;
    // A load that settled (or failed, or was aborted by a model switch) leaves no file counting as
    // still to come: an entry stuck short of its total would hold the progress message up for good.
    // (Files fetched after 'ready', the decoders on the first frame, are counted afresh.)
    if (status === 'ready' || status === 'error' || status === 'idle') this.modelFiles.clear();
    this.host.requestUpdate();
  }
}
