/**
 * The part `<livestyle-camera>` and `<livestyle-video>` share: stylisation settings as
 * attributes/properties, one {@link StylizerController}, the stats overlay, and typed events.
 */
import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import type { ModelId, StylizerOptions, TransformMethod } from '@livestyle/core';
import { StylizerController, type DrawnFrame } from './stylizer-controller.js';
import './livestyle-stats.js';
import {
  MIN_PROCESSING_SIDE_PX,
  PRESET_PROCESSING_SIZE_PX,
  isQualityPreset,
  type FrameDetail,
  type QualityPreset,
  type StyleSettings,
  type StyleSource,
} from './types.js';

/** Temporal strength the elements use when temporal smoothing is on (the engine's default). */
export const ELEMENT_TEMPORAL_STRENGTH = 0.9;

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

/** Longer side of the processing size in px: the explicit size, else the preset's. */
export function processingSizePx(explicitPx: number, preset: QualityPreset): number {
  return explicitPx > 0 ? Math.round(explicitPx) : PRESET_PROCESSING_SIZE_PX[preset];
}

/**
 * Processing size of a frame: scaled down so its longer side is `maxSidePx`, but never so small
 * that the shorter side falls below {@link MIN_PROCESSING_SIDE_PX} (the encoders' deepest level).
 */
export function processingDimensions(width: number, height: number, maxSidePx: number): { width: number; height: number } {
  const scale = Math.max(Math.min(1, maxSidePx / Math.max(width, height)), MIN_PROCESSING_SIDE_PX / Math.min(width, height));
  return { width: Math.round(width * scale), height: Math.round(height * scale) };
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
  /** Where the converted models are served (`<base>/<model>/manifest.json`). */
  @property({ attribute: 'model-base-url' }) modelBaseUrl = './models/';
  /** Encoder/decoder family. */
  @property() model: ModelId = 'cd16x';
  /** Feature transform: `wct` or `adain`. */
  @property() method: TransformMethod = 'wct';
  /** Style strength in [0, 1]. */
  @property({ type: Number }) alpha = 1;
  /** Keep the content's colours. */
  @property({ type: Boolean, attribute: 'preserve-color', reflect: true }) preserveColor = false;
  /** Temporal smoothing (`temporal="off"` to turn it off). */
  @property({ converter: onOffConverter }) temporal = true;
  /**
   * Quality/speed preset: the engine preset (method, levels, whitening; see the library's `preset`)
   * and the processing size. `method` still overrides the preset's method.
   */
  @property() preset: QualityPreset = 'realtime';
  /** Longer side of the processing size in px; 0 takes the preset's. */
  @property({ type: Number, attribute: 'processing-size' }) processingSize = 0;
  /** Longer side (px) style images are scaled to before their statistics are computed. */
  @property({ type: Number, attribute: 'style-size' }) styleSize = 512;
  /** Space-separated style image URLs (equal weights); the `styles` property takes precedence. */
  @property({ attribute: 'style-src' }) styleSrc = '';
  /** The style blend; set by a style mixer or directly. */
  @property({ attribute: false }) styles: readonly StyleSource[] = [];
  /** Show the stats overlay. */
  @property({ type: Boolean, reflect: true }) stats = false;

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

  protected get processingSidePx(): number {
    return processingSizePx(this.processingSize, isQualityPreset(this.preset) ? this.preset : 'realtime');
  }

  protected stylizerOptions(): Partial<StylizerOptions> {
    return {
      model: this.model,
      ...(isQualityPreset(this.preset) ? { preset: this.preset } : {}),
      method: this.method,
      alpha: this.alpha,
      preserveColor: this.preserveColor,
      modelBaseUrl: this.modelBaseUrl,
      temporalStrength: this.temporal ? ELEMENT_TEMPORAL_STRENGTH : 0,
      styleMaxSizePx: this.styleSize,
    };
  }

  override willUpdate(changed: PropertyValues<this>): void {
    const optionKeys = ['model', 'preset', 'method', 'alpha', 'preserveColor', 'modelBaseUrl', 'temporal', 'styleSize'] as const;
    if (optionKeys.some((k) => changed.has(k))) {
      this.configured = this.stylizer
        .configure(this.stylizerOptions())
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
      backend=${f.backend}
      size=${`${f.width}x${f.height}`}
    ></livestyle-stats>`;
  }

  /** What to show while the stylizer is not ready ('' once it is). */
  protected loadingMessage(): string {
    if (this.stylizer.ready) return '';
    return this.stylizer.status === 'error' ? this.stylizer.errorMessage : 'Loading the model and style…';
  }

  /** Records a drawn frame (stats overlay) and dispatches `frame`. */
  protected frameDrawn(drawn: DrawnFrame, timestampMs: number): void {
    const detail: FrameDetail = {
      timestampMs,
      width: drawn.width,
      height: drawn.height,
      timings: drawn.timings,
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
