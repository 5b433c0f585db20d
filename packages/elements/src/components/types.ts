/** Shared types of the web components: style sources, presets and the typed custom events. */
import type { PresentPath } from '@livestyle/core/internal/io/canvas-presenter.js';
import type { Preset, StageTimings, TransformMethod } from '@livestyle/core';
import { PRESETS, liveProcessingSizePx } from '@livestyle/core/internal/pipeline/presets.js';

/** One style of a blend: an image URL (or a user's file) and its relative weight. */
export interface StyleSource {
  /** Image URL, or a Blob/File the user picked, dropped or pasted. */
  readonly src: string | Blob;
  /** Relative weight (>= 0); the weights of a blend are normalised to sum to 1. Default 1. */
  readonly weight?: number;
  /** Human-readable name (used for alt text and labels). */
  readonly label?: string;
}

/**
 * Quality/speed presets of the elements: the engine's presets (method, levels, whitening) plus the
 * internal processing size (longer side, px) the camera or video frame is scaled to.
 */
export type QualityPreset = Preset;
/** The processing size (longer side, px) each quality preset uses in the elements: core's preset table. */
export const PRESET_PROCESSING_SIZE_PX: Readonly<Record<QualityPreset, number>> = Object.freeze({
  realtime: liveProcessingSizePx('realtime'),
  balanced: liveProcessingSizePx('balanced'),
  best: liveProcessingSizePx('best'),
});
/** Shortest processing side (px): the deepest encoder level (relu5_1) pools 16x and needs 32 px. */
export const MIN_PROCESSING_SIDE_PX = 32;
/** Every quality preset, fastest first. */
export const QUALITY_PRESETS: readonly QualityPreset[] = PRESETS;

/** True when `v` names a quality preset (for attribute parsing). */
export function isQualityPreset(v: unknown): v is QualityPreset {
  return typeof v === 'string' && (QUALITY_PRESETS as readonly string[]).includes(v);
}

/** The stylisation settings a style mixer sends to the elements it drives. */
export interface StyleSettings {
  readonly styles: readonly StyleSource[];
  readonly alpha: number;
  readonly preserveColor: boolean;
  readonly method: TransformMethod;
  readonly preset: QualityPreset;
  readonly temporal: boolean;
}

/** `style-change` detail: the mixer's full settings after a user change. */
export type StyleChangeDetail = StyleSettings;

/** `frame` detail: one stylised frame was drawn. */
export interface FrameDetail {
  readonly timestampMs: number;
  readonly width: number;
  readonly height: number;
  /**
   * Completed-work times, ms. `totalMs`: this frame, from the start of its stylisation to its picture
   * drawn with the GPU work done (input upload, temporal stage and draw included). The stages: this
   * frame's on wasm and cpu; on WebGL and WebGPU a frame's stages are timed once a second (timing
   * them waits for each stage), and the frames between carry the last timed frame's (see
   * `stagesTimedThisFrame`). Null before any frame's stages were timed.
   */
  readonly timings: StageTimings | null;
  /** Whether `timings`' stage figures were timed on this frame; false: they are the last timed frame's. */
  readonly stagesTimedThisFrame: boolean;
  /** Frames per second, averaged over the last second or so (frames are timed one after another, so `fps × totalMs` ≤ 1000 for steady frames). */
  readonly fps: number;
  readonly backend: string;
  /** `'gpu'`: drawn straight from GPU memory (WebGL); `'readback'`: through the CPU (`tf.browser.toPixels`). */
  readonly presentPath: PresentPath;
}

/** `error` detail: something the user should know about (also shown in the element). */
export interface ErrorDetail {
  readonly message: string;
  readonly cause?: unknown;
}

/** `state-change` detail of `<livestyle-camera>`. */
export interface CameraStateDetail {
  readonly state: CameraState;
}

/** The camera's state, as `<livestyle-camera>` reports it in `camera-state` events. */
export type CameraState = 'idle' | 'starting' | 'running' | 'paused' | 'denied' | 'no-camera' | 'unplugged' | 'unsupported' | 'error';

/** `export-progress` detail of `<livestyle-video>`. */
export interface ExportProgressDetail {
  readonly framesDone: number;
  readonly framesTotal: number;
  /** Estimated time left in seconds (null until two frames are done). */
  readonly etaSeconds: number | null;
}

/** `export-done` detail of `<livestyle-video>`: the WebM and its frame count. */
export interface ExportDoneDetail {
  readonly blob: Blob;
  readonly frames: number;
  readonly fileName: string;
}

/** `styles-ready` detail: the styles now in use (after loading; latest call wins). */
export interface StylesReadyDetail {
  readonly styles: readonly StyleSource[];
}

/** The custom events of the livestyle elements, for typed `addEventListener`. */
export interface LivestyleEventMap {
  'style-change': CustomEvent<StyleChangeDetail>;
  'styles-ready': CustomEvent<StylesReadyDetail>;
  frame: CustomEvent<FrameDetail>;
  error: CustomEvent<ErrorDetail>;
  'state-change': CustomEvent<CameraStateDetail>;
  'export-progress': CustomEvent<ExportProgressDetail>;
  'export-done': CustomEvent<ExportDoneDetail>;
  'export-cancel': CustomEvent<Record<string, never>>;
  snapshot: CustomEvent<{ readonly blob: Blob }>;
  recording: CustomEvent<{ readonly blob: Blob }>;
}
