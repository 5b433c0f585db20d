/**
 * Adaptive internal resolution: picks the largest processing scale whose frame time fits a target
 * frame rate. The cost of a frame is roughly proportional to its pixel count (convolutions), so each
 * step of the scale ladder (2^-1/4 per side) changes the cost by about 1/sqrt(2).
 *
 * Scales come from a fixed ladder rather than a continuous value: on WebGL and WebGPU every new
 * tensor shape compiles new shaders, so a size that changed every frame would recompile every frame.
 * A change waits for `holdFrames` frames of a smoothed frame time, and the ladder is climbed back up
 * only when the next step up is predicted to fit with a margin, so the scale settles instead of
 * oscillating. Pure logic, no tensors.
 */

/** Processing scales (per side): 1, 2^-1/4, 2^-1/2, … down to 1/4. */
export const ADAPTIVE_SCALE_LADDER: readonly number[] = Array.from({ length: 9 }, (_, k) => 2 ** (-k / 4));

export interface AdaptiveResolutionOptions {
  /** Frames per second to hold (> 0). */
  readonly targetFps: number;
  /** Frames to wait after a change before the next one (the smoothed time must settle). Default 8. */
  readonly holdFrames?: number;
  /** Weight of the newest frame in the smoothed frame time. Default 0.25. */
  readonly smoothing?: number;
}

/** Step up only when the cost after the step (x sqrt 2) stays under this share of the budget. */
const STEP_UP_HEADROOM = 0.85;
/** Step down when the smoothed time exceeds the budget by more than this factor. */
const STEP_DOWN_TOLERANCE = 1.05;

export class AdaptiveResolution {
  private step = 0;
  private smoothedMs: number | null = null;
  private framesSinceChange = 0;
  private readonly budgetMs: number;
  private readonly holdFrames: number;
  private readonly smoothing: number;

  constructor(options: AdaptiveResolutionOptions) {
    if (!(options.targetFps > 0) || !Number.isFinite(options.targetFps)) {
      throw new Error(`targetFps must be a finite number > 0 (got ${String(options.targetFps)})`);
    }
    this.budgetMs = 1000 / options.targetFps;
    this.holdFrames = options.holdFrames ?? 8;
    this.smoothing = options.smoothing ?? 0.25;
  }

  /** The processing scale (per side, in (0, 1]) for the next frame. */
  get scale(): number {
    return ADAPTIVE_SCALE_LADDER[this.step] ?? 1;
  }

  /** Feeds the time one frame took (ms); returns the scale for the next frame. */
  update(frameMs: number): number {
    if (!Number.isFinite(frameMs) || frameMs < 0) return this.scale;
    this.smoothedMs = this.smoothedMs === null ? frameMs : this.smoothedMs + this.smoothing * (frameMs - this.smoothedMs);
    this.framesSinceChange++;
    if (this.framesSinceChange < this.holdFrames) return this.scale;
    const t = this.smoothedMs;
    const last = ADAPTIVE_SCALE_LADDER.length - 1;
    if (t > this.budgetMs * STEP_DOWN_TOLERANCE && this.step < last) {
      // Enough steps at once to fit (each divides the cost by ~sqrt 2), at most 3 per change.
      const steps = Math.min(3, Math.max(1, Math.ceil(Math.log(t / this.budgetMs) / Math.log(Math.SQRT2))));
      this.change(Math.min(last, this.step + steps), t / Math.SQRT2 ** steps);
    } else if (t * Math.SQRT2 < this.budgetMs * STEP_UP_HEADROOM && this.step > 0) {
      this.change(this.step - 1, t * Math.SQRT2);
    }
    return this.scale;
  }

  /** Forgets the timing history (the scale is kept: the machine did not change). */
  reset(): void {
    this.smoothedMs = null;
    this.framesSinceChange = 0;
  }

  private change(step: number, predictedMs: number): void {
    this.step = step;
    this.smoothedMs = predictedMs;
    this.framesSinceChange = 0;
  }
}
