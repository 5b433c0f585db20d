/**
 * The web components: importing this module defines `<livestyle-camera>`, `<livestyle-video>`,
 * `<livestyle-style-mixer>` and `<livestyle-stats>` (and registers the browser backends).
 */
import '@livestyle/core';
import type { LivestyleEventMap } from './components/types.js';

export { LivestyleCamera, CAMERA_RESOLUTIONS, parseResolution } from './components/livestyle-camera.js';
export { LivestyleVideo, looksLikeVideo, exportFileName, formatSeconds } from './components/livestyle-video.js';
export {
  LivestyleStyleMixer,
  parseCatalog,
  humanLabel,
  type PaletteStyle,
  type CatalogEntry,
  type StyleSettingsTarget,
} from './components/livestyle-style-mixer.js';
export { LivestyleStats } from './components/livestyle-stats.js';
export { StylizedView, parseStyleSrc, processingSizePx, ELEMENT_TEMPORAL_STRENGTH } from './components/stylized-view.js';
export { CanvasPresenter, type PresentPath } from '@livestyle/core/internal/io/canvas-presenter.js';
export { StylizerController, FpsMeter, sameStyleImages, decodeStyleSource, type StylizerStatus } from './components/stylizer-controller.js';
export { CameraController, describeCameraError, type CameraDevice, type Resolution } from './components/camera-controller.js';
export { exportStylizedWebm, exportSize, estimateSecondsLeft, type ExportOptions, type ExportResult } from './components/video-export.js';
export * from './components/types.js';

// Typed listeners for the custom events. `error` is left out: HTMLElementEventMap already types it
// as an ErrorEvent (the elements' `error` is a `CustomEvent<ErrorDetail>`, see LivestyleEventMap).
declare global {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the augmentation adds the inherited members
  interface HTMLElementEventMap extends Omit<LivestyleEventMap, 'error'> {}
}

/** tf.js memory of the page (tensor count and bytes): for leak checks and overlays. */
export { memory as tfMemory } from '@tensorflow/tfjs-core';
