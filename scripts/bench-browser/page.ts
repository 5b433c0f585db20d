// The browser benchmark page (driven by scripts/bench-browser.js): frames per second of the live
// path — stylizeVideoFrame (temporal smoothing on) + CanvasPresenter.draw — per preset and size on
// one backend, and the backend's large-matmul GFLOP/s measured in the same run.
import * as tf from '@tensorflow/tfjs-core';
import { Stylizer, CanvasPresenter, setWasmPaths, type Preset } from '../../packages/core/src/index.js';

export interface BrowserBenchRow {
  preset: Preset;
  sizePx: number;
  /** Frames per second over each timed run (frames in a row, synchronised at the end). */
  fpsRuns: number[];
  fpsMedian: number;
  presentPath: string;
}

export interface BrowserBenchResult {
  backend: string;
  /** The GPU as the browser names it (a software renderer says so: SwiftShader, llvmpipe). */
  renderer: string;
  peakGflops: number;
  rows: BrowserBenchRow[];
  error?: string;
}

declare global {
  interface Window {
    benchResult?: BrowserBenchResult;
  }
}

setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');

const params = new URLSearchParams(location.search);
const backend = params.get('backend') ?? 'webgpu';
const sizes = (params.get('sizes') ?? '256,512,1024').split(',').map(Number);
const presets = (params.get('presets') ?? 'realtime,balanced,best').split(',') as Preset[];
const runs = Number(params.get('runs') ?? 5);
const framesPerRun = Number(params.get('frames') ?? 10);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** A moving test pattern: frame k of a `size x size` pan (so the flow has real motion to find). */
function frame(sizePx: number, k: number): tf.Tensor3D {
  return tf.tidy(() => {
    const x = tf.reshape(tf.linspace(0, 1, sizePx), [1, sizePx, 1]);
    const y = tf.reshape(tf.linspace(0, 1, sizePx), [sizePx, 1, 1]);
    const shift = (2 * k) / sizePx;
    const r = tf.sin(tf.mul(tf.add(tf.square(tf.sub(tf.add(x, shift), 0.5)), tf.square(tf.sub(y, 0.5))), 60));
    const c = [tf.add(tf.mul(r, 0.3), 0.5), tf.add(tf.mul(x, 0.6), 0.2), tf.sub(0.9, tf.mul(y, 0.6))];
    return tf.concat<tf.Tensor3D>(
      c.map((t) => tf.broadcastTo<tf.Rank.R3>(t, [sizePx, sizePx, 1])),
      2,
    );
  });
}

function rendererName(): string {
  const b = tf.backend() as unknown as { gpgpu?: { gl: WebGL2RenderingContext }; adapterInfo?: { vendor?: string; architecture?: string } };
  if (b.gpgpu) {
    const gl = b.gpgpu.gl;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  }
  if (b.adapterInfo) return `${b.adapterInfo.vendor ?? ''} ${b.adapterInfo.architecture ?? ''}`.trim();
  return tf.getBackend();
}

/** GFLOP/s of a 1024x1024 float32 matmul on this backend (median of 5 after a warm-up). */
async function matmulPeak(): Promise<number> {
  const n = 1024;
  const a = tf.randomUniform([n, n]);
  const b = tf.randomUniform([n, n]);
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
    if (i > 0) times.push(performance.now() - t0);
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / (median(times) * 1e6);
}

async function run(): Promise<BrowserBenchResult> {
  await tf.setBackend(backend);
  await tf.ready();
  const result: BrowserBenchResult = { backend: tf.getBackend(), renderer: rendererName(), peakGflops: await matmulPeak(), rows: [] };
  const view = document.querySelector<HTMLCanvasElement>('#view') ?? document.createElement('canvas');
  const presenter = new CanvasPresenter();
  const style = frame(256, 7);
  try {
    for (const preset of presets) {
      const stylizer = await Stylizer.create({ backend: backend as 'webgpu', preset, modelBaseUrl: '/models/' });
      try {
        await stylizer.setStyles([{ image: style }]);
        for (const sizePx of sizes) {
          const frames = [0, 1, 2, 3].map((k) => frame(sizePx, k));
          let i = 0;
          const step = async (): Promise<tf.Tensor3D> => {
            const out = await stylizer.stylizeVideoFrame(frames[i % frames.length] as tf.Tensor3D, i * 33);
            i++;
            await presenter.draw(out, view);
            return out;
          };
          stylizer.reset();
          for (let w = 0; w < 3; w++) (await step()).dispose(); // warm-up: weights, shaders
          const fpsRuns: number[] = [];
          for (let r = 0; r < runs; r++) {
            const t0 = performance.now();
            for (let f = 0; f < framesPerRun; f++) {
              const out = await step();
              // One pixel read at the end of the run waits for the GPU to finish all its frames.
              if (f === framesPerRun - 1) {
                const pixel = tf.slice(out, [0, 0, 0], [1, 1, 1]);
                await pixel.data();
                pixel.dispose();
              }
              out.dispose();
            }
            fpsRuns.push((framesPerRun * 1000) / (performance.now() - t0));
          }
          tf.dispose(frames);
          result.rows.push({ preset, sizePx, fpsRuns, fpsMedian: median(fpsRuns), presentPath: presenter.lastPath ?? '' });
        }
      } finally {
        stylizer.dispose();
      }
    }
  } catch (e) {
    result.error = String((e as Error).stack ?? e);
  } finally {
    style.dispose();
    presenter.dispose();
  }
  return result;
}

window.benchResult = await run();
