/** `<livestyle-camera>`: live webcam stylisation with snapshot and recording. */
import { html, css, nothing } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { CameraController, type Resolution } from './camera-controller.js';
import { OutputStreamController } from './output-stream.js';
import { StylizedView, downloadBlob, drawScaled } from './stylized-view.js';
import { themeStyles } from './theme.js';
import type { CameraState } from './types.js';

/** The capture sizes `<livestyle-camera>`'s `resolution` attribute offers. */
export const CAMERA_RESOLUTIONS: readonly Resolution[] = [
  { width: 320, height: 240 },
  { width: 640, height: 480 },
  { width: 1280, height: 720 },
];

const STATE_KIND: Partial<Record<CameraState, 'error' | 'info'>> = {
  denied: 'error',
  'no-camera': 'error',
  unplugged: 'error',
  unsupported: 'error',
  error: 'error',
  starting: 'info',
  paused: 'info',
};

/**
 * Live webcam style transfer. Capture runs through MediaPipe camera_utils; each camera frame is
 * scaled to the processing size, stylised in video mode (temporal smoothing) and drawn.
 *
 * @fires frame - a stylised frame was drawn (`FrameDetail`)
 * @fires state-change - the camera state changed (`CameraStateDetail`)
 * @fires styles-ready - the style blend in use changed (`StylesReadyDetail`)
 * @fires snapshot - a PNG snapshot was taken (`{ blob }`)
 * @fires recording - a recording finished (`{ blob }`)
 * @fires error - something failed; the element shows it too (`ErrorDetail`)
 * @csspart stage - the picture area
 * @csspart canvas - the stylised picture
 * @csspart message - the state message over the picture
 * @csspart notice - why the whole picture is stylised although `subject` asks for part of it
 * @csspart controls - the control bar
 * @csspart button - every button
 * @csspart select - the camera and resolution menus
 * @cssprop --livestyle-accent - accent colour (focus rings, active buttons)
 * @cssprop --livestyle-background - background colour
 * @cssprop --livestyle-foreground - text colour
 * @cssprop --livestyle-danger - colour of error messages
 * @cssprop --livestyle-radius - corner radius
 * @cssprop --livestyle-font - font shorthand
 */
@customElement('livestyle-camera')
export class LivestyleCamera extends StylizedView {
  static override styles = [
    themeStyles,
    css`
      video {
        display: none;
      }
      .recording {
        color: var(--_danger);
      }
    `,
  ];

  /** Mirror the picture (selfie view); applies to snapshots and recordings too. */
  @property({ type: Boolean, reflect: true }) mirror = true;
  /** Camera device id ('' = the browser's default). */
  @property({ attribute: 'device-id' }) deviceId = '';
  /** Requested capture size, e.g. "640x480". */
  @property() resolution = '640x480';
  /** Start the camera when the element connects (needs the user's permission). */
  @property({ type: Boolean }) autostart = false;

  @query('video') private videoElement!: HTMLVideoElement;
  private readonly output = new OutputStreamController(this, { label: 'Stylised camera picture' });
  private readonly outputCanvas = this.output.canvas;
  private readonly workCanvas = document.createElement('canvas');
  private recorder: MediaRecorder | null = null;
  private lastError = '';

  private readonly camera = new CameraController(
    this,
    (video) => this.processFrame(video),
    (state, message) => {
      if (state !== 'running') this.stylizer.resetVideo();
      this.dispatchEvent(new CustomEvent('state-change', { detail: { state }, bubbles: true, composed: true }));
      if (STATE_KIND[state] === 'error') this.reportError(message);
    },
  );

  /** The camera state (idle, starting, running, paused, denied, no-camera, unplugged, unsupported, error). */
  get cameraState(): CameraState {
    return this.camera.state;
  }

  protected override get hasInput(): boolean {
    return this.camera.state === 'starting' || this.camera.state === 'running' || this.camera.state === 'paused';
  }

  /** Starts the camera (asks for permission the first time). */
  async start(): Promise<void> {
    // Attributes set in the same tick (style-src, then start()) reach the styles at the next update.
    await this.updateComplete;
    this.lastError = '';
    this.camera.video = this.videoElement;
    if (this.styles.length) void this.stylizer.setStyles(this.styles);
    await this.camera.start(this.deviceId, parseResolution(this.resolution));
  }

  /** Stops the camera (and a recording in progress); ends every stream `captureStream` gave. */
  async stop(): Promise<void> {
    this.stopRecording();
    this.output.endAll();
    await this.camera.stop();
  }

  /**
   * The stylised picture as a live `MediaStream` with one video track (no audio), e.g. for an
   * `RTCPeerConnection`. It may be called before `start()` and never throws: the track is live at
   * once and carries frames from the first one drawn. Each call returns a new stream (stop its
   * tracks when done); `stop()` and removing the element end them all.
   * @param frameRate - at most this many frames per second; by default a frame per picture drawn
   */
  captureStream(frameRate?: number): MediaStream {
    return this.output.capture(frameRate);
  }

  /** The current stylised picture as a PNG. */
  async snapshot(): Promise<Blob> {
    const blob = await new Promise<Blob | null>((resolve) => this.outputCanvas.toBlob(resolve, 'image/png'));
    if (!blob) throw new Error('nothing to snapshot yet');
    this.dispatchEvent(new CustomEvent('snapshot', { detail: { blob }, bubbles: true, composed: true }));
    return blob;
  }

  override firstUpdated(): void {
    this.camera.video = this.videoElement;
    if (this.autostart) void this.start();
  }

  /** A new device or resolution restarts a running camera. */
  private chooseCapture(change: { deviceId?: string; resolution?: string }): void {
    if (change.deviceId !== undefined) this.deviceId = change.deviceId;
    if (change.resolution !== undefined) this.resolution = change.resolution;
    if (this.camera.state === 'running' || this.camera.state === 'paused') void this.start();
  }

  override disconnectedCallback(): void {
    this.stopRecording();
    super.disconnectedCallback();
  }

  private async processFrame(video: HTMLVideoElement): Promise<void> {
    if (!this.stylizer.ready || this.camera.state !== 'running') {
      // Until the model and styles are ready, show the camera as it is.
      drawScaled(video, video.videoWidth, video.videoHeight, this.outputCanvas, this.processingSidePx, this.mirror);
      return;
    }
    if (!drawScaled(video, video.videoWidth, video.videoHeight, this.workCanvas, this.processingSidePx, this.mirror)) return;
    const timestampMs = performance.now();
    try {
      const drawn = await this.stylizer.drawFrame(this.workCanvas, this.outputCanvas, timestampMs);
      if (drawn) this.frameDrawn(drawn, timestampMs);
      this.lastError = '';
    } catch (e) {
      const message = `Stylisation failed: ${e instanceof Error ? e.message : String(e)}`;
      if (message !== this.lastError) this.reportError(message, e);
      this.lastError = message;
    }
  }

  private toggleRecording(): void {
    if (this.recorder) {
      this.stopRecording();
      return;
    }
    const stream = this.output.capture(30);
    const mimeType = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm'].find((t) => MediaRecorder.isTypeSupported(t));
    const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : {});
    const chunks: Blob[] = [];
    recorder.addEventListener('dataavailable', (e) => chunks.push(e.data));
    recorder.addEventListener('stop', () => {
      this.output.release(stream);
      const blob = new Blob(chunks, { type: 'video/webm' });
      this.dispatchEvent(new CustomEvent('recording', { detail: { blob }, bubbles: true, composed: true }));
      downloadBlob(blob, 'livestyle-recording.webm');
    });
    recorder.start(1000);
    this.recorder = recorder;
    this.requestUpdate();
  }

  private stopRecording(): void {
    const recorder = this.recorder;
    this.recorder = null;
    if (recorder && recorder.state !== 'inactive') recorder.stop();
    this.requestUpdate();
  }

  private async takeSnapshot(): Promise<void> {
    try {
      downloadBlob(await this.snapshot(), 'livestyle-snapshot.png');
    } catch (e) {
      this.reportError(e instanceof Error ? e.message : String(e), e);
    }
  }

  override render(): unknown {
    const state = this.camera.state;
    const live = state === 'running' || state === 'paused';
    const loading = live ? this.loadingMessage() : '';
    const message = this.camera.message || (state === 'idle' ? 'Press Start to use your camera.' : loading || this.lastError);
    const kind = STATE_KIND[state] ?? (this.lastError || this.stylizer.status === 'error' ? 'error' : 'info');
    return html`
      <div class="stage" part="stage">
        ${this.outputCanvas}
        <video muted playsinline aria-hidden="true"></video>
        ${this.renderStats()} ${this.renderNotice()}
        ${message ? html`<div class="message" part="message" role=${kind === 'error' ? 'alert' : 'status'} data-kind=${kind} data-state=${state}>${message}</div>` : nothing}
      </div>
      <div class="controls" part="controls">
        <button part="button" class="start" @click=${() => void (live || state === 'starting' ? this.stop() : this.start())}>
          ${live || state === 'starting' ? 'Stop' : 'Start'}
        </button>
        <label
          >Camera
          <select
            part="select"
            class="device"
            .value=${this.deviceId}
            @change=${(e: Event) => this.chooseCapture({ deviceId: (e.target as HTMLSelectElement).value })}
          >
            <option value="">Default camera</option>
            ${this.camera.devices.map((d) => html`<option value=${d.deviceId} ?selected=${d.deviceId === this.deviceId}>${d.label}</option>`)}
          </select></label
        >
        <label
          >Resolution
          <select
            part="select"
            class="resolution"
            @change=${(e: Event) => this.chooseCapture({ resolution: (e.target as HTMLSelectElement).value })}
          >
            ${CAMERA_RESOLUTIONS.map((r) => {
              const value = `${r.width}x${r.height}`;
              return html`<option value=${value} ?selected=${value === this.resolution}>${r.width}×${r.height}</option>`;
            })}
          </select></label
        >
        <button part="button" aria-pressed=${String(this.mirror)} @click=${() => (this.mirror = !this.mirror)}>Mirror</button>
        <button part="button" class="snapshot" ?disabled=${!this.lastFrame} @click=${() => void this.takeSnapshot()}>Snapshot</button>
        <button
          part="button"
          class="record ${this.recorder ? 'recording' : ''}"
          ?disabled=${!live}
          aria-pressed=${String(!!this.recorder)}
          @click=${() => this.toggleRecording()}
        >
          ${this.recorder ? 'Stop recording' : 'Record'}
        </button>
        <button part="button" class="stats-toggle" aria-pressed=${String(this.stats)} @click=${() => (this.stats = !this.stats)}>
          Stats
        </button>
      </div>
    `;
  }
}

/** Parses "640x480"; falls back to 640x480. */
export function parseResolution(value: string): Resolution {
  const m = /^(\d{2,5})x(\d{2,5})$/.exec(value.trim());
  return m ? { width: Number(m[1]), height: Number(m[2]) } : { width: 640, height: 480 };
}

declare global {
  interface HTMLElementTagNameMap {
    'livestyle-camera': LivestyleCamera;
  }
}
