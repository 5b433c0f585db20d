/** `<livestyle-video>`: stylise a video file while it plays, and export it offline to WebM. */
import { html, css, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { AbortError } from '@livestyle/core';
import { StylizedView, drawScaled } from './stylized-view.js';
import { SURFACE_DEFAULTS } from '@livestyle/core/internal/pipeline/settings.js';
import { onDragLeave, onDragOver, onDropFiles } from './drop-zone.js';
import { themeStyles } from './theme.js';
import { exportStylizedWebm } from './video-export.js';
import { OutputStreamController } from './output-stream.js';
import type { ExportProgressDetail } from './types.js';

const VIDEO_EXTENSIONS = /\.(mp4|m4v|webm|mkv|mov|ogv|ogg)$/i;

/** True when a dropped or picked file looks like a video. */
export function looksLikeVideo(file: File): boolean {
  return file.type.startsWith('video/') || VIDEO_EXTENSIONS.test(file.name);
}

/** "clip.mp4" → "clip-stylised.webm". */
export function exportFileName(sourceName: string): string {
  return `${sourceName.replace(/\.[^./]+$/, '') || 'video'}-stylised.webm`;
}

/** "m:ss" for a duration in seconds. */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * Stylises a video file while it plays (temporal smoothing on), and exports the whole clip frame
 * by frame (not a real-time capture) to a WebM the user can download. The file is only read.
 *
 * @fires frame - a stylised frame was drawn (`FrameDetail`)
 * @fires export-progress - a frame of the export was encoded (`ExportProgressDetail`)
 * @fires export-done - the export finished (`ExportDoneDetail`)
 * @fires export-cancel - the export was cancelled; nothing was produced
 * @fires styles-ready - the style blend in use changed (`StylesReadyDetail`)
 * @fires error - something failed; the element shows it too (`ErrorDetail`)
 * @csspart dropzone - the area that accepts a dropped file
 * @csspart stage - the picture area
 * @csspart canvas - the stylised picture
 * @csspart message - the message over the picture
 * @csspart notice - why the whole picture is stylised although `subject` asks for part of it
 * @csspart controls - the control bar
 * @csspart button - every button
 * @csspart seek - the position slider
 * @csspart progress - the export progress bar
 * @csspart download - the download link of the export
 * @cssprop --livestyle-accent - accent colour
 * @cssprop --livestyle-background - background colour
 * @cssprop --livestyle-foreground - text colour
 * @cssprop --livestyle-danger - colour of error messages
 * @cssprop --livestyle-radius - corner radius
 * @cssprop --livestyle-font - font shorthand
 */
@customElement('livestyle-video')
export class LivestyleVideo extends StylizedView {
  static override styles = [
    themeStyles,
    css`
      video {
        display: none;
      }
      .dropzone[data-over] .stage {
        outline: 2px dashed var(--_accent);
      }
      input[type='range'] {
        flex: 1;
        min-width: 120px;
      }
      progress {
        flex: 1;
      }
    `,
  ];

  protected override readonly surface = 'video-element';
  /** Export and preview quality: `balanced` by default (the clip is not real time). */
  @property() override preset: 'realtime' | 'balanced' | 'best' = SURFACE_DEFAULTS['video-element'].preset ?? 'balanced';

  @state() private file: File | null = null;
  @state() private message = 'Open or drop a video file.';
  @state() private messageKind: 'info' | 'error' = 'info';
  @state() private playing = false;
  @state() private currentS = 0;
  @state() private durationS = 0;
  @state() private progress: ExportProgressDetail | null = null;
  @state() private download: { url: string; name: string } | null = null;
  @query('video') private videoElement!: HTMLVideoElement;
  private readonly output = new OutputStreamController(this, {
    label: 'Stylised video',
    audioSource: () => this.videoElement ?? null,
  });
  private readonly outputCanvas = this.output.canvas;
  private readonly workCanvas = document.createElement('canvas');
  private objectUrl = '';
  private exportAbort: AbortController | null = null;
  private frameBusy = false;
  private frameCallback = 0;

  protected override get hasInput(): boolean {
    return this.file !== null;
  }

  private seekPending = false;
  private seekRender: Promise<void> | null = null;
  private renderAgain = false;

  constructor() {
    super();
    // A paused clip shows a newly loaded style at once.
    this.addEventListener('styles-ready', () => {
      if (!this.playing && !this.exporting) void this.renderCurrentFrame();
    });
  }

  /** The file being shown (never modified). */
  get videoFile(): File | null {
    return this.file;
  }

  /** True while an export runs. */
  get exporting(): boolean {
    return this.exportAbort !== null;
  }

  /** Opens a video file for preview and export. */
  async open(file: File): Promise<void> {
    if (!looksLikeVideo(file)) {
      this.showMessage(`${file.name} is not a video file.`, 'error');
      this.reportError(this.message);
      return;
    }
    this.cancelExport();
    this.clearDownload();
    this.pause();
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.file = file;
    this.objectUrl = URL.createObjectURL(file);
    this.stylizer.resetVideo();
    const video = this.videoElement;
    video.src = this.objectUrl;
    this.showMessage(`Loading ${file.name}…`, 'info');
    if (this.styles.length) void this.stylizer.setStyles(this.styles);
    await new Promise<void>((resolve) => {
      const done = (): void => {
        video.removeEventListener('loadeddata', done);
        video.removeEventListener('error', done);
        resolve();
      };
      video.addEventListener('loadeddata', done);
      video.addEventListener('error', done);
    });
    if (video.error) {
      this.showMessage(`This browser cannot play ${file.name}.`, 'error');
      this.reportError(this.message, video.error);
      return;
    }
    this.durationS = Number.isFinite(video.duration) ? video.duration : 0;
    this.showMessage('', 'info');
    await this.renderCurrentFrame();
  }

  /** Plays the clip, stylising each frame as it is shown. */
  play(): void {
    if (!this.file || this.exporting) return;
    this.playing = true;
    void this.videoElement.play();
    this.scheduleFrame();
  }

  pause(): void {
    this.playing = false;
    const video = this.videoElement;
    if (!video) return;
    video.pause();
    if (this.frameCallback && 'cancelVideoFrameCallback' in video) video.cancelVideoFrameCallback(this.frameCallback);
    this.frameCallback = 0;
  }

  /**
   * Exports the whole clip, frame by frame, to a WebM (resolves with it; also offered as a
   * download link). Rejects with an AbortError when cancelled: then nothing is produced.
   */
  async exportWebm(): Promise<Blob> {
    const file = this.file;
    if (!file) throw new Error('open a video file first');
    if (this.exportAbort) throw new Error('an export is already running');
    this.pause();
    this.clearDownload();
    const abort = new AbortController();
    this.exportAbort = abort;
    this.progress = { framesDone: 0, framesTotal: 0, etaSeconds: null };
    try {
      const stylizer = await this.stylizer.getStylizer();
      await this.stylizer.setStyles(this.styles);
      if (!this.stylizer.ready) throw new Error(this.stylizer.errorMessage || 'choose a style first');
      const result = await exportStylizedWebm(file, stylizer, {
        processingSizePx: this.processingSidePx,
        signal: abort.signal,
        onProgress: (p) => {
          this.progress = p;
          this.dispatchEvent(new CustomEvent('export-progress', { detail: p, bubbles: true, composed: true }));
        },
      });
      const name = exportFileName(file.name);
      this.download = { url: URL.createObjectURL(result.blob), name };
      this.showMessage('', 'info');
      this.dispatchEvent(
        new CustomEvent('export-done', {
          detail: { blob: result.blob, frames: result.frames, fileName: name },
          bubbles: true,
          composed: true,
        }),
      );
      return result.blob;
    } catch (e) {
      if (e instanceof AbortError) {
        this.showMessage('Export cancelled; nothing was saved.', 'info');
        this.dispatchEvent(new CustomEvent('export-cancel', { detail: {}, bubbles: true, composed: true }));
      } else {
        this.showMessage(`Export failed: ${e instanceof Error ? e.message : String(e)}`, 'error');
        this.reportError(this.message, e);
      }
      throw e;
    } finally {
      this.exportAbort = null;
      this.progress = null;
      await this.renderCurrentFrame();
    }
  }

  /**
   * The stylised picture as a live `MediaStream`, with the clip's audio track(s) when it has sound,
   * e.g. for an `RTCPeerConnection`. It may be called before a file is opened and never throws: the
   * video track is live at once and carries frames from the first one drawn (while the clip plays,
   * or when a paused frame is redrawn); audio follows the file that is open. Each call returns a new
   * stream (stop its tracks when done); removing the element ends them all.
   * @param frameRate - at most this many frames per second; by default a frame per picture drawn
   */
  captureStream(frameRate?: number): MediaStream {
    return this.output.capture(frameRate);
  }

  /** Cancels a running export (nothing is produced). */
  cancelExport(): void {
    this.exportAbort?.abort();
  }

  override disconnectedCallback(): void {
    this.cancelExport();
    this.pause();
    this.clearDownload();
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = '';
    super.disconnectedCallback();
  }

  override willUpdate(changed: PropertyValues<this>): void {
    super.willUpdate(changed);
    // `file` is private, so not among the typed keys of `changed`.
    if ((changed as Map<PropertyKey, unknown>).has('file'))
      this.outputCanvas.setAttribute('aria-label', this.file ? `Stylised frame of ${this.file.name}` : 'Stylised video');
    // A paused clip shows the new settings at once.
    // (new styles re-render on `styles-ready`, see the constructor)
    if (
      (['alpha', 'method', 'preserveColor', 'preset', 'processingSize'] as const).some((k) => changed.has(k)) &&
      this.file &&
      !this.playing &&
      !this.exporting
    ) {
      void this.configured.then(() => this.renderCurrentFrame());
    }
  }

  private scheduleFrame(): void {
    const video = this.videoElement;
    if (!this.playing) return;
    if ('requestVideoFrameCallback' in video) {
      this.frameCallback = video.requestVideoFrameCallback((_now, meta) => void this.onVideoFrame(meta.mediaTime));
    } else {
      requestAnimationFrame(() => void this.onVideoFrame((video as HTMLVideoElement).currentTime));
    }
  }

  private async onVideoFrame(mediaTimeS: number): Promise<void> {
    if (this.playing && this.videoElement.ended) this.playing = false;
    if (!this.frameBusy) {
      this.frameBusy = true;
      try {
        await this.stylizeShownFrame(mediaTimeS * 1000, true);
      } finally {
        this.frameBusy = false;
      }
    }
    this.currentS = mediaTimeS;
    this.scheduleFrame();
  }

  private async renderCurrentFrame(): Promise<void> {
    const video = this.videoElement;
    if (!this.file || !video || video.readyState < 2 || this.exporting) return;
    this.currentS = video.currentTime;
    await this.stylizeShownFrame(video.currentTime * 1000, false);
  }

  private async stylizeShownFrame(timestampMs: number, videoMode: boolean): Promise<void> {
    const video = this.videoElement;
    if (!this.stylizer.ready) {
      // Until the model and styles are ready, show the frame as it is.
      drawScaled(video, video.videoWidth, video.videoHeight, this.outputCanvas, this.processingSidePx);
      return;
    }
    if (!drawScaled(video, video.videoWidth, video.videoHeight, this.workCanvas, this.processingSidePx)) return;
    try {
      const drawn = await this.stylizer.drawFrame(this.workCanvas, this.outputCanvas, videoMode ? timestampMs : null);
      if (drawn) this.frameDrawn(drawn, timestampMs);
    } catch (e) {
      this.showMessage(`Stylisation failed: ${e instanceof Error ? e.message : String(e)}`, 'error');
      this.reportError(this.message, e);
      this.pause();
    }
  }

  private seek(seconds: number): void {
    this.videoElement.currentTime = seconds;
    this.currentS = seconds;
    this.seekPending = true;
  }

  /**
   * The video's one `seeked` listener (bound in the template, so dragging the slider adds none):
   * after a slider seek, shows the frame there. Renders do not overlap: a seek that lands while one
   * runs is drawn once it ends, at the position the video has then (latest wins).
   */
  private readonly onSeeked = (): void => {
    if (!this.seekPending) return;
    this.seekPending = false;
    this.renderLatestFrame();
  };

  private renderLatestFrame(): void {
    if (this.seekRender) {
      this.renderAgain = true;
      return;
    }
    this.seekRender = this.renderCurrentFrame().finally(() => {
      this.seekRender = null;
      if (this.renderAgain) {
        this.renderAgain = false;
        this.renderLatestFrame();
      }
    });
  }

  private clearDownload(): void {
    if (this.download) URL.revokeObjectURL(this.download.url);
    this.download = null;
  }

  private showMessage(message: string, kind: 'info' | 'error'): void {
    this.message = message;
    this.messageKind = kind;
  }

  private onFiles(files: ArrayLike<File> | null | undefined): void {
    const file = files?.[0];
    if (file) void this.open(file);
  }

  override render(): unknown {
    const p = this.progress;
    const busy = this.exporting;
    const loading = this.file && !this.message ? this.loadingMessage() : '';
    const message = this.message || loading;
    return html`
      <div
        class="dropzone"
        part="dropzone"
        @dragover=${onDragOver}
        @dragleave=${onDragLeave}
        @drop=${onDropFiles((files) => this.onFiles(files))}
      >
        <div class="stage" part="stage">
          ${this.outputCanvas}
          <video
            muted
            playsinline
            preload="auto"
            aria-hidden="true"
            @ended=${() => (this.playing = false)}
            @seeked=${this.onSeeked}
          ></video>
          ${this.renderStats()} ${this.renderNotice()}
          ${
            message
              ? html`<div
                  class="message"
                  part="message"
                  role=${this.messageKind === 'error' ? 'alert' : 'status'}
                  data-kind=${this.messageKind}
                >
                  ${message}
                </div>`
              : nothing
          }
        </div>
      </div>
      <div class="controls" part="controls">
        <label class="button" part="button"
          >Open video…<input
            class="file"
            type="file"
            accept="video/*,.mp4,.webm,.mkv,.mov"
            ?disabled=${busy}
            @change=${(e: Event) => {
              const input = e.target as HTMLInputElement;
              this.onFiles(input.files);
              input.value = '';
            }}
        /></label>
        <button part="button" class="play" ?disabled=${!this.file || busy} @click=${() => (this.playing ? this.pause() : this.play())}>
          ${this.playing ? 'Pause' : 'Play'}
        </button>
        <input
          part="seek"
          class="seek"
          type="range"
          min="0"
          max=${this.durationS || 0}
          step="0.01"
          .value=${String(this.currentS)}
          ?disabled=${!this.file || busy}
          aria-label="Position"
          aria-valuetext=${`${formatSeconds(this.currentS)} of ${formatSeconds(this.durationS)}`}
          @input=${(e: Event) => this.seek(Number((e.target as HTMLInputElement).value))}
        />
        <span aria-hidden="true">${formatSeconds(this.currentS)} / ${formatSeconds(this.durationS)}</span>
        ${
          busy
            ? html`<progress
                  part="progress"
                  max=${p?.framesTotal || 1}
                  .value=${p?.framesDone ?? 0}
                  aria-label="Export progress"
                ></progress>
                <span class="progress-text" role="status"
                  >${p && p.framesTotal ? `${p.framesDone} / ${p.framesTotal} frames` : 'Preparing…'}${
                    p?.etaSeconds != null ? ` · about ${formatSeconds(p.etaSeconds)} left` : ''
                  }</span
                >
                <button part="button" class="cancel" @click=${() => this.cancelExport()}>Cancel</button>`
            : html`<button
                part="button"
                class="export"
                ?disabled=${!this.file}
                @click=${() => void this.exportWebm().catch(() => undefined)}
              >
                Export WebM
              </button>`
        }
        ${this.download ? html`<a part="download" class="download" href=${this.download.url} download=${this.download.name}>Download ${this.download.name}</a>` : nothing}
        <button part="button" class="stats-toggle" aria-pressed=${String(this.stats)} @click=${() => (this.stats = !this.stats)}>
          Stats
        </button>
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'livestyle-video': LivestyleVideo;
  }
}
