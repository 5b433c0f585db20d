// Runs in headless Chromium for test/integration/capture-stream.test.ts: the elements' captureStream
// sent through two RTCPeerConnections in this page (loopback), and the pictures to compare.
import '../../packages/elements/src/elements.js';
import type { LivestyleCamera, LivestyleVideo } from '../../packages/elements/src/elements.js';

/** What the test reads back about a stream. */
export interface StreamInfo {
  isMediaStream: boolean;
  videoTracks: number;
  audioTracks: number;
  states: string[];
}

/** The helpers the test calls through page.evaluate. */
export interface CaptureTestApi {
  /** Adds a camera element (not started) with the given attributes. */
  addCamera(attributes: Record<string, string>): LivestyleCamera;
  info(stream: MediaStream): StreamInfo;
  /** Sends `stream`'s video track through a loopback pair of peer connections; resolves with the receiving `<video>`. */
  loopback(stream: MediaStream): Promise<HTMLVideoElement>;
  /** Frames the receiving `<video>` has presented so far. */
  receivedFrames(): number;
  /** MIME type of the codec the loopback negotiated ('' before it has). */
  codec(): Promise<string>;
  /** RGB in [0, 1] of a picture scaled to `width` x `height` (mirrored if asked). */
  pixels(source: CanvasImageSource, width: number, height: number, mirror?: boolean): number[];
  /** Mean RMS level (0..1) of `stream`'s audio over `ms`. */
  audioLevel(stream: MediaStream, ms: number): Promise<number>;
  addVideo(attributes: Record<string, string>): LivestyleVideo;
}

declare global {
  interface Window {
    captureTest?: CaptureTestApi;
  }
}

let framesReceived = 0;
let receiving: RTCPeerConnection | null = null;

function addElement<T extends HTMLElement>(tag: string, attributes: Record<string, string>): T {
  const el = document.createElement(tag) as T;
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  document.body.append(el);
  return el;
}

async function loopback(stream: MediaStream): Promise<HTMLVideoElement> {
  const sender = new RTCPeerConnection();
  const receiver = new RTCPeerConnection();
  receiving = receiver;
  sender.addEventListener('icecandidate', (e) => void (e.candidate && receiver.addIceCandidate(e.candidate)));
  receiver.addEventListener('icecandidate', (e) => void (e.candidate && sender.addIceCandidate(e.candidate)));
  const received = new Promise<MediaStream>((resolve) =>
    receiver.addEventListener('track', (e) => resolve(e.streams[0] ?? new MediaStream([e.track]))),
  );
  for (const track of stream.getVideoTracks()) sender.addTrack(track, stream);
  await sender.setLocalDescription();
  await receiver.setRemoteDescription(sender.localDescription!);
  await receiver.setLocalDescription();
  await sender.setRemoteDescription(receiver.localDescription!);
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = await received;
  document.body.append(video);
  const count = (): void => {
    framesReceived++;
    video.requestVideoFrameCallback(count);
  };
  video.requestVideoFrameCallback(count);
  void video.play();
  return video;
}

function pixels(source: CanvasImageSource, width: number, height: number, mirror = false): number[] {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  if (mirror) ctx.setTransform(-1, 0, 0, 1, width, 0);
  ctx.drawImage(source, 0, 0, width, height);
  const data = ctx.getImageData(0, 0, width, height).data;
  const rgb: number[] = [];
  for (let i = 0; i < data.length; i += 4) rgb.push(data[i]! / 255, data[i + 1]! / 255, data[i + 2]! / 255);
  return rgb;
}

async function audioLevel(stream: MediaStream, ms: number): Promise<number> {
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let sum = 0;
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    analyser.getFloatTimeDomainData(samples);
    sum += Math.sqrt(samples.reduce((a, v) => a + v * v, 0) / samples.length);
    n++;
  }
  await context.close();
  return n ? sum / n : 0;
}

window.captureTest = {
  addCamera: (attributes) => addElement<LivestyleCamera>('livestyle-camera', attributes),
  addVideo: (attributes) => addElement<LivestyleVideo>('livestyle-video', attributes),
  info: (stream) => ({
    isMediaStream: stream instanceof MediaStream,
    videoTracks: stream.getVideoTracks().length,
    audioTracks: stream.getAudioTracks().length,
    states: stream.getTracks().map((t) => `${t.kind}:${t.readyState}`),
  }),
  loopback,
  receivedFrames: () => framesReceived,
  codec: async () => {
    const stats = await receiving?.getStats();
    let mimeType = '';
    stats?.forEach((report: { type: string; mimeType?: string }) => {
      if (report.type === 'codec' && report.mimeType?.startsWith('video/')) mimeType = report.mimeType;
    });
    return mimeType;
  },
  pixels,
  audioLevel,
};
