/**
 * Draws a stylised frame (`[H, W, 3]` float in [0, 1]) on a canvas straight from GPU memory. On
 * webgl the tensor's texture is rendered by a tiny full-screen pass into the backend's own GL
 * canvas, and the visible canvas composites that with `drawImage` (a GPU-side copy in Chromium).
 * `tf.browser.toPixels` instead reads every frame back to the CPU, which stalls the GPU pipeline
 * once per frame.
 *
 * Other backends use `toPixels`: wasm and cpu hold the data in main memory already; on webgpu a
 * `GPUCanvasContext` path could not be verified here (on the software adapter of these machines,
 * `getCurrentTexture()` leaves the canvas black and makes every later `mapAsync` fail, which
 * would break tf.js's own reads), so it is not shipped untested.
 *
 * ref: WebGL 2.0 / OpenGL ES 3.0 (`texelFetch`, `gl_VertexID`); the full-screen-triangle idiom
 * (one oversized triangle, no vertex buffer).
 */
import * as tf from '@tensorflow/tfjs-core';

/** How the last frame reached the canvas: `'gpu'` = no readback; `'readback'` = via `toPixels`. */
export type PresentPath = 'gpu' | 'readback';

type AnyCanvas = HTMLCanvasElement | OffscreenCanvas;

/** One backend's way of drawing. */
interface GpuDrawer {
  /** Whether `image`'s values live in GPU memory (small or fresh tensors may still sit on the CPU). */
  holds(image: tf.Tensor3D): boolean;
  /** Renders `image` into the drawer's own canvas and returns that canvas (valid until the task ends). */
  render(image: tf.Tensor3D): AnyCanvas;
  dispose(): void;
}

function resize(canvas: AnyCanvas, widthPx: number, heightPx: number): void {
  if (canvas.width !== widthPx) canvas.width = widthPx;
  if (canvas.height !== heightPx) canvas.height = heightPx;
}

// A full-screen triangle from the vertex index: (-1,-1), (3,-1), (-1,3), counter-clockwise so
// tf.js's enabled back-face culling keeps it.
const GL_VERTEX = `#version 300 es
void main() {
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}`;

// tf.js's dense GPU layout: each RGBA texel holds 4 consecutive values of the row-major tensor.
const GL_FRAGMENT = `#version 300 es
precision highp float;
precision highp int;
precision highp sampler2D;
uniform sampler2D u_values;
uniform ivec2 u_sizePx;
uniform int u_texCols;
out vec4 outColor;
float valueAt(int i) {
  int t = i / 4;
  vec4 v = texelFetch(u_values, ivec2(t % u_texCols, t / u_texCols), 0);
  int c = i - t * 4;
  return c == 0 ? v.r : c == 1 ? v.g : c == 2 ? v.b : v.a;
}
void main() {
  int x = int(gl_FragCoord.x);
  int y = u_sizePx.y - 1 - int(gl_FragCoord.y); // GL rows count from the bottom
  int i = (y * u_sizePx.x + x) * 3;
  outColor = vec4(clamp(vec3(valueAt(i), valueAt(i + 1), valueAt(i + 2)), 0.0, 1.0), 1.0);
}`;

/** The webgl backend's GL context and tensor storage (tf.js internals, typed to what is used). */
interface WebGLBackendLike {
  gpgpu: { gl: WebGL2RenderingContext };
  texData: { get(dataId: object): { texture?: unknown; slice?: unknown } | undefined };
}

class WebGLDrawer implements GpuDrawer {
  private readonly gl: WebGL2RenderingContext;
  private readonly backend: WebGLBackendLike;
  private readonly program: WebGLProgram;
  private readonly vao: WebGLVertexArrayObject;
  private readonly uniforms: { values: WebGLUniformLocation | null; size: WebGLUniformLocation | null; cols: WebGLUniformLocation | null };

  constructor(backend: WebGLBackendLike) {
    const gl = backend.gpgpu.gl;
    if (typeof WebGL2RenderingContext === 'undefined' || !(gl instanceof WebGL2RenderingContext)) throw new Error('WebGL 2 required');
    this.gl = gl;
    this.backend = backend;
    const compile = (type: number, source: string): WebGLShader => {
      const s = gl.createShader(type);
      if (!s) throw new Error('createShader failed');
      gl.shaderSource(s, source);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`present shader: ${gl.getShaderInfoLog(s) ?? ''}`);
      return s;
    };
    const program = gl.createProgram();
    const vao = gl.createVertexArray();
    if (!program || !vao) throw new Error('createProgram failed');
    const vs = compile(gl.VERTEX_SHADER, GL_VERTEX);
    const fs = compile(gl.FRAGMENT_SHADER, GL_FRAGMENT);
    gl.attachShader(program, vs);
    gl.attachShader(program, fs);
    gl.linkProgram(program);
    gl.deleteShader(vs);
    gl.deleteShader(fs);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(`present program: ${gl.getProgramInfoLog(program) ?? ''}`);
    this.program = program;
    this.vao = vao;
    this.uniforms = {
      values: gl.getUniformLocation(program, 'u_values'),
      size: gl.getUniformLocation(program, 'u_sizePx'),
      cols: gl.getUniformLocation(program, 'u_texCols'),
    };
  }

  holds(image: tf.Tensor3D): boolean {
    const data = this.backend.texData.get(image.dataId);
    return data !== undefined && (data.texture != null || data.slice != null);
  }

  render(image: tf.Tensor3D): AnyCanvas {
    const gl = this.gl;
    const [heightPx, widthPx] = image.shape;
    const gpu = image.dataToGPU();
    try {
      const texture = gpu.texture;
      const texShape = gpu.texShape;
      if (!texture || !texShape) throw new Error('webgl dataToGPU gave no texture');
      const canvas = gl.canvas;
      resize(canvas, widthPx, heightPx);
      // Keep tf.js's GL state: it re-binds its framebuffer, program, VAO, viewport and scissor per
      // program, but the texture unit and binding are restored to be safe.
      const prev = {
        program: gl.getParameter(gl.CURRENT_PROGRAM) as WebGLProgram | null,
        vao: gl.getParameter(gl.VERTEX_ARRAY_BINDING) as WebGLVertexArrayObject | null,
        framebuffer: gl.getParameter(gl.FRAMEBUFFER_BINDING) as WebGLFramebuffer | null,
        activeTexture: gl.getParameter(gl.ACTIVE_TEXTURE) as number,
      };
      gl.activeTexture(gl.TEXTURE0);
      const prevTexture = gl.getParameter(gl.TEXTURE_BINDING_2D) as WebGLTexture | null;
      gl.bindFramebuffer(gl.FRAMEBUFFER, null);
      gl.viewport(0, 0, widthPx, heightPx);
      gl.scissor(0, 0, widthPx, heightPx);
      gl.useProgram(this.program);
      gl.bindVertexArray(this.vao);
      gl.bindTexture(gl.TEXTURE_2D, texture);
      gl.uniform1i(this.uniforms.values, 0);
      gl.uniform2i(this.uniforms.size, widthPx, heightPx);
      gl.uniform1i(this.uniforms.cols, texShape[1]);
      gl.drawArrays(gl.TRIANGLES, 0, 3);
      gl.bindTexture(gl.TEXTURE_2D, prevTexture);
      gl.activeTexture(prev.activeTexture);
      gl.bindVertexArray(prev.vao);
      gl.useProgram(prev.program);
      gl.bindFramebuffer(gl.FRAMEBUFFER, prev.framebuffer);
      return canvas;
    } finally {
      gpu.tensorRef.dispose();
    }
  }

  dispose(): void {
    this.gl.deleteProgram(this.program);
    this.gl.deleteVertexArray(this.vao);
  }
}

/** Consecutive failed GPU draws after which a presenter stays on `toPixels`. */
const MAX_GPU_FAILURES = 3;

/**
 * Draws stylised frames on canvases without a CPU round trip where the backend allows it.
 * Create one per tf.js backend in use; `dispose()` frees its GPU objects (idempotent).
 */
export class CanvasPresenter {
  private drawer: GpuDrawer | null = null;
  private drawerBackend: tf.KernelBackend | null = null;
  private gpuFailed = false;
  private gpuFailures = 0;
  private disposed = false;
  /** Why the last GPU draw attempt failed (that frame went through `toPixels`); null after a success. */
  gpuError: string | null = null;
  /** How the last frame was drawn. */
  lastPath: PresentPath | null = null;

  /**
   * Draws `image` on `target` (resized to the image; its 2D context is used). The GPU path takes
   * `[H, W, 3]` float32 in [0, 1] held in GPU memory; other images go through `tf.browser.toPixels`
   * (which accepts `[H, W]` and 1/3/4 channels). `image` is not disposed.
   */
  async draw(image: tf.Tensor2D | tf.Tensor3D, target: HTMLCanvasElement | OffscreenCanvas): Promise<PresentPath> {
    if (this.disposed) throw new Error('CanvasPresenter is disposed');
    const [heightPx, widthPx] = image.shape;
    resize(target, widthPx, heightPx);
    // The pass reads float RGB; anything else (grey, RGBA, int32) goes through toPixels, which
    // validates it.
    const rgb = image.rank === 3 && image.shape[2] === 3 && image.dtype === 'float32' ? (image as tf.Tensor3D) : null;
    const drawer = rgb ? this.drawerFor(tf.backend()) : null;
    if (rgb && drawer?.holds(rgb)) {
      try {
        const source = drawer.render(rgb);
        const ctx = target.getContext('2d');
        if (!ctx) throw new Error('the target canvas has no 2D context');
        ctx.drawImage(source, 0, 0);
        this.gpuFailures = 0;
        this.gpuError = null;
        this.lastPath = 'gpu';
        return 'gpu';
      } catch (e) {
        // This frame takes the safe path; repeated failures (a lost context, a driver that refuses
        // the pass) switch the GPU path off.
        this.gpuError = e instanceof Error ? e.message : String(e);
        if (++this.gpuFailures >= MAX_GPU_FAILURES) {
          this.gpuFailed = true;
          this.freeDrawer();
        }
      }
    }
    await tf.browser.toPixels(image, target as HTMLCanvasElement);
    this.lastPath = 'readback';
    return 'readback';
  }

  private drawerFor(backend: tf.KernelBackend): GpuDrawer | null {
    if (this.gpuFailed) return null;
    if (this.drawer && this.drawerBackend === backend) return this.drawer;
    this.freeDrawer();
    const name = tf.getBackend();
    try {
      if (name === 'webgl') this.drawer = new WebGLDrawer(backend as unknown as WebGLBackendLike);
      else return null;
    } catch (e) {
      this.gpuFailed = true;
      this.gpuError = e instanceof Error ? e.message : String(e);
      return null;
    }
    this.drawerBackend = backend;
    return this.drawer;
  }

  private freeDrawer(): void {
    this.drawer?.dispose();
    this.drawer = null;
    this.drawerBackend = null;
  }

  /** Frees the GPU objects. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.freeDrawer();
  }
}
