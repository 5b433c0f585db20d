/**
 * The part `<livestyle-camera>` and `<livestyle-video>` share: stylisation settings as
 * attributes/properties, one {@link StylizerController}, the stats overlay, and typed events.
 */
import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import type { ModelId, StylizerOptions, Subject, TransformMethod } from '@livestyle/core';
import { StylizerController, elementStyleStatsCache, type DrawnFrame } from './stylizer-controller.js';
import './livestyle-stats.js';
import { processingSize } from '@livestyle/core/internal/pipeline/stylizer.js';
import { liveProcessingSizePx } from '@livestyle/core/internal/pipeline/presets.js';
import {
  SURFACE_DEFAULTS,
  processingSizeFor,
  resolveVideoSettings,
  stylizerOptionsFor,
  type Surface,
  type VideoSettings,
} from '@livestyle/core/internal/pipeline/settings.js';
import {
  MIN_PROCESSING_SIDE_PX,
  isQualityPreset,
  type FrameDetail,
  type QualityPreset,
  type StyleSettings,
  type StyleSource,
} from './types.js';

/** Temporal strength the elements use when temporal smoothing is on (the camera's, from core's settings). */
export const ELEMENT_TEMPORAL_STRENGTH = SURFACE_DEFAULTS.camera.strength;

/** `temporal="off"` / `"false"` turns smoothing off; any other value (or none) leaves it on. */
const onOffConverter = {
  fromAttribute: (value: string | null): boolean => value === null || !['off', 'false', '0'].includes(value.trim().toLowerCase()),
  toAttribute: (value: boolean): string => (value ? 'on' : 'off'),
};

/** Parses `style-src="a.jpg b.jpg"` into sources of equal weight. */
export function parseStyleSrc(value: string): StyleSource[] {
  return value
    .split(/\s+/)
    .filter(Boolean)
    .map((src) => ({ src, label: decodeURIComponent(src.split('/').pop() ?? src).replace(/\.[a-z0-9]+$/i, '') }));
}

/** Longer side of the processing size in px: the explicit size, else the preset's (core's preset table). */
export function processingSizePx(explicitPx: number, preset: QualityPreset): number {
  return explicitPx > 0 ? Math.round(explicitPx) : liveProcessingSizePx(preset);
}

/**
 * Processing size of a frame: the engine's resize rule (scaled down so its longer side is `maxSidePx`,
 * never up, and never so small that the shorter side falls below {@link MIN_PROCESSING_SIDE_PX}).
 */
export function processingDimensions(width: number, height: number, maxSidePx: number): { width: number; height: number } {
  const { w, h } = processingSize(height, width, maxSidePx, MIN_PROCESSING_SIDE_PX);
  return { width: w, height: h };
}

/** Draws `source` into `canvas` at its processing size (mirrored if asked). */
export function drawScaled(
  source: CanvasImageSource,
  sourceWidth: number,
  sourceHeight: number,
  canvas: HTMLCanvasElement,
  maxSidePx: number,
  mirror = false,
): boolean {
  if (sourceWidth <= 0 || sourceHeight <= 0) return false;
  const { width, height } = processingDimensions(sourceWidth, sourceHeight, maxSidePx);
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) return false;
  context.setTransform(mirror ? -1 : 1, 0, 0, 1, mirror ? width : 0, 0);
  context.drawImage(source, 0, 0, width, height);
  context.setTransform(1, 0, 0, 1, 0, 0);
  return true;
}

/** Bytes as megabytes with one decimal ("3.4"). */
export function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** Saves a blob through a temporary download link. */
export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The shared base of `<livestyle-camera>` and `<livestyle-video>`: styles, options, stats and snapshots over a stylizer. */
export abstract class StylizedView extends LitElement {
  /** Which surface's defaults (core's settings.ts) this element starts from. */
  protected readonly surface: Surface = 'camera';
  /** Where the converted models are served (`<base>/<model>/manifest.json`). */
  @property({ attribute: 'model-base-url' }) modelBaseUrl = './models/';
  /** Encoder/decoder family. */
  @property() model: ModelId = SURFACE_DEFAULTS.camera.model;
  /** Feature transform: `wct` or `adain`. */
  @property() method: TransformMethod = 'wct';
  /** Style strength in [0, 1]. */
  @property({ type: Number }) alpha = SURFACE_DEFAULTS.camera.alpha;
  /** Keep the content's colours. */
  @property({ type: Boolean, attribute: 'preserve-color', reflect: true }) preserveColor = SURFACE_DEFAULTS.camera.preserveColor;
  /** Temporal smoothing (`temporal="off"` to turn it off). */
  @property({ converter: onOffConverter }) temporal = SURFACE_DEFAULTS.camera.temporal;
  /**
   * Quality/speed preset: the engine preset (method, levels, whitening; see the library's `preset`)
   * and the processing size. `method` still overrides the preset's method.
   */
  @property() preset: QualityPreset = SURFACE_DEFAULTS.camera.preset ?? 'realtime';
  /** Longer side of the processing size in px; 0 takes the preset's. */
  @property({ type: Number, attribute: 'processing-size' }) processingSize = SURFACE_DEFAULTS.camera.processingSize;
  /** Longer side (px) style images are scaled to before their statistics are computed. */
  @property({ type: Number, attribute: 'style-size' }) styleSize = SURFACE_DEFAULTS.camera.styleSize;
  /**
   * What is stylised: `all` (default), `background` (people kept as the camera sees them) or `person`
   * (only the people). Needs the segmentation model (`<model-base-url>/selfie/`); where it cannot load,
   * the whole picture is stylised and a notice says why.
   */
  @property({ reflect: true }) subject: Subject = SURFACE_DEFAULTS.camera.subject;
  /** Space-separated style image URLs (equal weights); the `styles` property takes precedence. */
  @property({ attribute: 'style-src' }) styleSrc = '';
  /** The style blend; set by a style mixer or directly. */
  @property({ attribute: false }) styles: readonly StyleSource[] = [];
  /** Show the stats overlay. */
  @property({ type: Boolean, reflect: true }) stats = false;
  /**
   * Keep each style's statistics in the page's IndexedDB, so a style seen before is not computed
   * again (`style-cache="off"`: computed every time, and `style-stats-url` is not read either).
   */
  @property({ attribute: 'style-cache', converter: onOffConverter }) styleCache = true;
  /**
   * Folder of precomputed statistics of built-in styles (`index.json` and one file per style and
   * level, as the demo build writes next to its style catalog): those styles are then not computed
   * in the page at all. '' (default): none.
   */
  @property({ attribute: 'style-stats-url' }) styleStatsUrl = '';

  @state() protected lastFrame: FrameDetail | null = null;
  /** Settles when the latest option change has reached the stylizer. */
  protected configured: Promise<void> = Promise.resolve();
  protected readonly stylizer = new StylizerController(
    this,
    (message, cause) => this.reportError(message, cause),
    (styles) => this.dispatchEvent(new CustomEvent('styles-ready', { detail: { styles }, bubbles: true, composed: true })),
  );

  /** The styles now in use (after the last load finished; latest call wins). */
  get activeStyles(): readonly StyleSource[] {
    return this.stylizer.activeStyles;
  }

  /**
   * How many style statistics (one per style and level) this element's stylizer has computed, and
   * how many it read from the caches (`style-cache`, `style-stats-url`) instead.
   */
  get styleStatsSources(): { readonly encoded: number; readonly cached: number } {
    return this.stylizer.styleStatsSources;
  }

  /** The tf.js backend of this element's stylizer ('' before the model loads). */
  get backend(): string {
    return this.stylizer.backend;
  }

  /** Applies a style mixer's settings in one go. */
  applySettings(settings: StyleSettings): void {
    this.styles = settings.styles;
    this.alpha = settings.alpha;
    this.preserveColor = settings.preserveColor;
    this.method = settings.method;
    this.preset = settings.preset;
    this.temporal = settings.temporal;
  }

  /** The element's settings in core's vocabulary, over its surface's defaults (throws on a bad value). */
  protected get settings(): VideoSettings {
    return resolveVideoSettings(this.surface, {
      model: this.model,
      preset: isQualityPreset(this.preset) ? this.preset : undefined,
      method: this.method,
      alpha: this.alpha,
      preserveColor: this.preserveColor,
      temporal: this.temporal,
      styleSize: this.styleSize,
      subject: this.subject,
    });
  }

  /**
   * The processing size: `processing-size` as given (rounded; frames never go below the deepest level's
   * 32 px), else the preset's live size from core's preset table. Not validated as a setting, so an odd
   * value never blocks the element.
   */
  protected get processingSidePx(): number {
    const preset = isQualityPreset(this.preset) ? this.preset : (SURFACE_DEFAULTS[this.surface].preset ?? 'realtime');
    return Number.isFinite(this.processingSize) && this.processingSize > 0
      ? processingSizePx(this.processingSize, preset)
      : processingSizeFor({ ...SURFACE_DEFAULTS[this.surface], preset });
  }

  protected stylizerOptions(): Partial<StylizerOptions> {
    return {
      ...stylizerOptionsFor(this.settings),
      modelBaseUrl: this.modelBaseUrl,
      styleStatsCache: elementStyleStatsCache(this.styleCache, this.styleStatsUrl),
    };
  }

  override willUpdate(changed: PropertyValues<this>): void {
    const optionKeys = [
      'model',
      'preset',
      'method',
      'alpha',
      'preserveColor',
      'modelBaseUrl',
      'temporal',
      'styleSize',
      'styleCache',
      'styleStatsUrl',
      'subject',
    ] as const;
    if (optionKeys.some((k) => changed.has(k))) {
      // A bad attribute is reported and leaves the stylizer as it was; the styles below still apply.
      let options: Partial<StylizerOptions> | null = null;
      try {
        options = this.stylizerOptions();
      } catch (e) {
        this.reportError(e instanceof Error ? e.message : String(e), e);
      }
      if (options)
        this.configured = this.stylizer
          .configure(options)
          .catch((e: unknown) => this.reportError(e instanceof Error ? e.message : String(e), e));
    }
    if (changed.has('styleSrc') && this.styleSrc) this.styles = parseStyleSrc(this.styleSrc);
    // Models load lazily: only once the element has something to stylise.
    if (changed.has('styles') && this.styles.length > 0 && this.hasInput) void this.stylizer.setStyles(this.styles);
  }

  /** True once there is something to stylise (camera started, clip opened): models load then. */
  protected abstract get hasInput(): boolean;

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.lastFrame = null;
  }

  /** The stats overlay (when `stats` is on and a frame was drawn). */
  protected renderStats(): unknown {
    const f = this.lastFrame;
    if (!this.stats || !f) return nothing;
    return html`<livestyle-stats
      part="stats"
      .fps=${f.fps}
      .timings=${f.timings}
      .stagesTimedThisFrame=${f.stagesTimedThisFrame}
      backend=${f.backend}
      size=${`${f.width}x${f.height}`}
    ></livestyle-stats>`;
  }

  /** Why the element stylises the whole picture although `subject` asks for part of it (nothing when it does not). */
  protected renderNotice(): unknown {
    const notice = this.stylizer.subjectNotice;
    return notice ? html`<div class="notice" part="notice" role="status">${notice}</div>` : nothing;
  }

  /**
   * What the element is doing while it cannot show stylised frames yet ('' once it can): the model's
   * bytes as they arrive (also during the first frame, which loads the decoders), then the style.
   */
  protected loadingMessage(): string {
    if (this.stylizer.status === 'error' && !this.stylizer.ready) return this.stylizer.errorMessage;
    const bytes = this.stylizer.modelBytes;
    if (bytes) return `Loading the model… ${megabytes(bytes.loadedBytes)} of ${megabytes(bytes.totalBytes)} MB`;
    if (this.stylizer.ready) return '';
    return this.stylizer.status === 'loading-styles' ? 'Computing the style…' : 'Loading the model…';
  }

  /** Records a drawn frame (stats overlay) and dispatches `frame`. */
  protected frameDrawn(drawn: DrawnFrame, timestampMs: number): void {
    const detail: FrameDetail = {
      timestampMs,
      width: drawn.width,
      height: drawn.height,
      timings: drawn.timings,
      stagesTimedThisFrame: drawn.stagesTimedThisFrame,
      fps: drawn.fps,
      backend: this.stylizer.backend,
      presentPath: drawn.presentPath,
    };
    this.lastFrame = detail;
    this.dispatchEvent(new CustomEvent('frame', { detail, bubbles: true, composed: true }));
  }

  /** Dispatches `error` (the element also shows the message). Like native `error` events it does not bubble. */
  protected reportError(message: string, cause?: unknown): void {
    this.dispatchEvent(new CustomEvent('error', { detail: { message, cause } }));
    this.requestUpdate();
  }
}
