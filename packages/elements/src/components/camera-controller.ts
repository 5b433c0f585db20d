/**
 * Webcam capture for `<livestyle-camera>`: permission, device choice, resolution, and the frame
 * pump of MediaPipe's `Camera` (camera_utils), with friendly states for every failure.
 */
// camera_utils is a closure-compiled script, not a module: it assigns `Camera` to its `this`, and
// its package.json declares no side effects. A bare side-effect import is dropped by production
// bundles (Vite 7 and 8, esbuild), so the namespace is used as a value. `Camera` lands on the
// namespace, on its CommonJS `default` (Rollup's interop) or on the global object, by bundler. The
// `default` is read through Reflect: a static `.default` read makes Vite 8 (rolldown) warn
// IMPORT_IS_UNDEFINED, and if every read resolved statically to undefined it would drop the module.
import * as cameraUtils from '@mediapipe/camera_utils';
import type { Camera, CameraOptions } from '@mediapipe/camera_utils';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { CameraState } from './types.js';

/** A camera the browser lists (`enumerateDevices`). */
export interface CameraDevice {
  readonly deviceId: string;
  readonly label: string;
}

/** A capture size in px. */
export interface Resolution {
  readonly width: number;
  readonly height: number;
}

type CameraConstructor = new (video: HTMLVideoElement, options: CameraOptions) => Camera;

/** The first `Camera` class found on the given objects. */
export function findCameraConstructor(scopes: readonly unknown[]): CameraConstructor | null {
  for (const scope of scopes) {
    const ctor = (scope as { Camera?: unknown } | null | undefined)?.Camera;
    if (typeof ctor === 'function') return ctor as CameraConstructor;
  }
  return null;
}

export function cameraConstructor(): CameraConstructor {
  const ctor = findCameraConstructor([cameraUtils, Reflect.get(cameraUtils, 'default'), globalThis]);
  if (!ctor) throw new Error('@mediapipe/camera_utils did not load (was it dropped by the bundler?)');
  return ctor;
}

/** Maps a getUserMedia failure to a state and a message a user can act on. */
export function describeCameraError(error: unknown): { state: CameraState; message: string } {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return {
        state: 'denied',
        message: 'Camera access was denied. Allow the camera in the browser’s site settings, then press Start again.',
      };
    case 'NotFoundError':
    case 'OverconstrainedError':
      return { state: 'no-camera', message: 'No camera was found. Connect a camera, then press Start again.' };
    case 'NotReadableError':
    case 'AbortError':
      return { state: 'error', message: 'The camera is in use by another application or could not be opened.' };
    default:
      return { state: 'error', message: `The camera could not start: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** A Lit reactive controller owning the webcam: start, stop, device switching, and the element's camera state. */
export class CameraController implements ReactiveController {
  state: CameraState = 'idle';
  message = '';
  devices: CameraDevice[] = [];
  /** The hidden video element the camera plays into (set by the host before start). */
  video: HTMLVideoElement | null = null;
  private camera: Camera | null = null;
  private stream: MediaStream | null = null;
  private startRequest = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly onFrame: (video: HTMLVideoElement) => Promise<void>,
    private readonly onState: (state: CameraState, message: string) => void,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    document.addEventListener('visibilitychange', this.onVisibility);
    navigator.mediaDevices?.addEventListener?.('devicechange', this.onDeviceChange);
  }

  hostDisconnected(): void {
    document.removeEventListener('visibilitychange', this.onVisibility);
    navigator.mediaDevices?.removeEventListener?.('devicechange', this.onDeviceChange);
    void this.stop();
  }

  /** Starts (or restarts) the camera. `deviceId` '' picks the browser's default camera. */
  async start(deviceId: string, resolution: Resolution): Promise<void> {
    const request = ++this.startRequest;
    await this.release();
    const video = this.video;
    const media = typeof navigator !== 'undefined' ? navigator.mediaDevices : undefined;
    if (!video || !media?.getUserMedia) {
      this.setState('unsupported', 'This browser cannot use a camera here (it needs https or localhost, and camera support).');
      return;
    }
    this.setState('starting', 'Starting the camera…');
    let stream: MediaStream;
    try {
      stream = await media.getUserMedia({
        audio: false,
        video: {
          ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
          width: { ideal: resolution.width },
          height: { ideal: resolution.height },
        },
      });
    } catch (e) {
      if (request !== this.startRequest) return;
      const { state, message } = describeCameraError(e);
      this.setState(state, message);
      return;
    }
    if (request !== this.startRequest) {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    this.stream = stream;
    for (const track of stream.getVideoTracks()) track.addEventListener('ended', this.onTrackEnded);
    await this.refreshDevices();
    try {
      const CameraClass = cameraConstructor();
      const camera = new CameraClass(video, { onFrame: () => this.onFrame(video), width: resolution.width, height: resolution.height });
      this.camera = camera;
      // camera_utils always opens the stream itself and takes no device id; hand it the stream
      // opened above (with the chosen device) for the duration of its start().
      Object.defineProperty(media, 'getUserMedia', { configurable: true, value: () => Promise.resolve(stream) });
      try {
        await camera.start();
      } finally {
        delete (media as { getUserMedia?: unknown }).getUserMedia;
      }
    } catch (e) {
      await this.release();
      this.setState('error', `The camera could not start: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (request !== this.startRequest) return;
    this.setState(document.visibilityState === 'hidden' ? 'paused' : 'running', '');
  }

  async stop(): Promise<void> {
    this.startRequest++;
    await this.release();
    if (this.state !== 'idle') this.setState('idle', '');
  }

  async refreshDevices(): Promise<void> {
    const media = navigator.mediaDevices;
    if (!media?.enumerateDevices) return;
    const all = await media.enumerateDevices();
    this.devices = all
      .filter((d) => d.kind === 'videoinput')
      .map((d, i) => ({ deviceId: d.deviceId, label: d.label || `Camera ${i + 1}` }));
    this.host.requestUpdate();
  }

  private async release(): Promise<void> {
    const camera = this.camera;
    const stream = this.stream;
    this.camera = null;
    this.stream = null;
    if (stream) for (const track of stream.getTracks()) track.removeEventListener('ended', this.onTrackEnded);
    if (camera) await camera.stop();
    if (stream) for (const track of stream.getTracks()) track.stop();
    if (this.video) this.video.srcObject = null;
  }

  private readonly onTrackEnded = (): void => {
    void this.release().then(() => this.setState('unplugged', 'The camera was disconnected. Reconnect it and press Start.'));
  };

  private readonly onDeviceChange = (): void => {
    void this.refreshDevices();
  };

  /** Pauses while the tab is hidden (no frames are processed) and resumes when it shows again. */
  private readonly onVisibility = (): void => {
    const video = this.video;
    if (!video || !this.camera) return;
    if (document.visibilityState === 'hidden' && this.state === 'running') {
      video.pause();
      this.setState('paused', 'Paused while the tab is hidden.');
    } else if (document.visibilityState === 'visible' && this.state === 'paused') {
      void video.play();
      this.setState('running', '');
    }
  };

  private setState(state: CameraState, message: string): void {
    this.state = state;
    this.message = message;
    this.onState(state, message);
    this.host.requestUpdate();
  }
}
