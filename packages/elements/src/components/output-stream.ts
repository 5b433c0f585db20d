/**
 * The stylised picture of `<livestyle-camera>` and `<livestyle-video>` as `MediaStream`s (for a
 * video call, a `MediaRecorder`, a `<video>`): one output canvas per element, and every stream
 * handed out, so that stopping or removing the element ends them all.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** `HTMLMediaElement.captureStream()`: in Chromium and Safari, not yet in TypeScript's DOM library. */
type CapturableMedia = HTMLMediaElement & { captureStream?: () => MediaStream };

/** A Lit reactive controller owning an element's output canvas and the streams captured from it. */
export class OutputStreamController implements ReactiveController {
  /**
   * The canvas the element draws its picture on. It is created with the element rather than by its
   * first render, so a stream can be captured before the element renders, connects or starts: the
   * stream's video track is live from the start and carries frames once the first one is drawn.
   */
  readonly canvas: HTMLCanvasElement = document.createElement('canvas');
  private readonly streams = new Set<MediaStream>();
  /** Per stream: the capture of the source's media element its audio comes from. */
  private readonly audioSources = new Map<MediaStream, MediaStream>();
  /** Streams captured before the host rendered its media element: their audio is added once it has. */
  private readonly awaitingAudio = new Set<MediaStream>();

  private readonly audioSource: (() => CapturableMedia | null) | undefined;

  /**
   * `label` names the picture for assistive technology; `audioSource` gives the media element whose
   * audio the streams carry (omitted: picture only, as for the camera).
   */
  constructor(host: ReactiveControllerHost, options: { label: string; audioSource?: () => CapturableMedia | null }) {
    this.audioSource = options.audioSource;
    this.canvas.className = 'output';
    this.canvas.setAttribute('part', 'canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', options.label);
    host.addController(this);
  }

  /**
   * A new stream of the canvas (at most `frameRate` frames per second; without it, a frame each
   * time the picture changes) plus the audio of the source, if any. Each call captures anew, so
   * every consumer can stop its own tracks without ending anyone else's.
   */
  capture(frameRate?: number): MediaStream {
    const stream = frameRate === undefined ? this.canvas.captureStream() : this.canvas.captureStream(frameRate);
    this.streams.add(stream);
    this.addAudio(stream);
    return stream;
  }

  /**
   * Ends one stream's tracks (e.g. after a recording). `stop()` alone fires no `ended` event (the
   * spec keeps it for ends the consumer did not ask for); here the source ends, as when a camera
   * is unplugged, so each track also fires `ended` for the call or recorder holding it.
   */
  release(stream: MediaStream): void {
    this.streams.delete(stream);
    this.awaitingAudio.delete(stream);
    const source = this.audioSources.get(stream);
    this.audioSources.delete(stream);
    for (const track of stream.getTracks()) {
      if (track.readyState === 'ended') continue;
      track.stop();
      track.dispatchEvent(new Event('ended'));
    }
    if (source) for (const track of source.getTracks()) track.stop();
  }

  /** Ends every stream handed out: each live track stops and fires `ended`. */
  endAll(): void {
    for (const stream of [...this.streams]) this.release(stream);
  }

  hostDisconnected(): void {
    this.endAll();
  }

  hostUpdated(): void {
    for (const stream of [...this.awaitingAudio]) this.addAudio(stream);
  }

  /**
   * Mirrors the audio tracks of the source's capture into `stream`. The capture gains its tracks
   * only once media is loaded, and swaps them when another file opens, so its events are followed
   * rather than its tracks copied once.
   */
  private addAudio(stream: MediaStream): void {
    if (!this.audioSource) return;
    const media = this.audioSource();
    this.awaitingAudio.delete(stream);
    if (!media) {
      this.awaitingAudio.add(stream);
      return;
    }
    if (typeof media.captureStream !== 'function') return;
    let source: MediaStream;
    try {
      source = media.captureStream();
    } catch {
      return; // a browser that cannot capture media elements gives the picture alone
    }
    this.audioSources.set(stream, source);
    const adopt = (track: MediaStreamTrack): void => {
      // The picture comes from the canvas; the element's own (unstylised) video is not wanted.
      if (track.kind === 'audio') stream.addTrack(track);
      else track.stop();
    };
    for (const track of source.getTracks()) adopt(track);
    source.addEventListener('addtrack', (e) => adopt(e.track));
    source.addEventListener('removetrack', (e) => stream.removeTrack(e.track));
  }
}
