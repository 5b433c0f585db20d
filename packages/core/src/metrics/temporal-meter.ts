/**
 * The two numbers a stylised clip is judged by, accumulated frame by frame: the warping error
 * (Lai et al. 2018, see warping-error.ts; flow from the input frames) and, given a style image, the
 * mean Gram style loss of the output frames against it (the optimiser's loss network, which scales
 * the style image so its short side matches the frame's). `livestyle eval temporal`, `npm run temporal` and the tests all
 * measure through this class, so their figures are the same measurement.
 *
 * Tensor ownership: `add` neither disposes nor keeps its arguments (it keeps its own copies of the
 * last pair); `dispose` frees them and the loss network.
 */
import * as tf from '@tensorflow/tfjs-core';
import { StyleOptimizer } from '../optimize/style-optimizer.js';
import type { BackendName } from '../pipeline/options.js';
import type { PixelsLike } from '../pipeline/input.js';
import { pairWarpingError, type PairWarpingError } from './warping-error.js';

export interface TemporalMeterOptions {
  /** Style image for the Gram style loss; without one only the warping error is measured. */
  readonly style?: PixelsLike;
  /** Backend of the loss network (default: the one already active). */
  readonly backend?: BackendName | 'auto';
}

export interface TemporalMeasure {
  /** Mean warping error over consecutive pairs (0 with fewer than 2 frames). */
  readonly warpingError: number;
  /** Mean Gram style loss over all frames (absent without a style image). */
  readonly styleLoss?: number;
  readonly frames: number;
}

export class TemporalMeter {
  private prevInput: tf.Tensor4D | null = null;
  private prevOutput: tf.Tensor4D | null = null;
  private warpingSum = 0;
  private pairCount = 0;
  private styleSum = 0;
  private frameCount = 0;

  private constructor(
    private readonly optimiser: StyleOptimizer | null,
    private readonly style: PixelsLike | undefined,
  ) {}

  static async create(options: TemporalMeterOptions = {}): Promise<TemporalMeter> {
    const optimiser = options.style ? await StyleOptimizer.create(options.backend ? { backend: options.backend } : {}) : null;
    return new TemporalMeter(optimiser, options.style);
  }

  /**
   * Adds the next frame: `input` and `output` are `[1,H,W,3]` in [0, 1] of the same size (neither
   * disposed). `forwardFlow` (previous frame to this one, `[1,H,W,2]`, not disposed) replaces the
   * estimated one, e.g. ground truth. Returns this pair's warping error (null for the first frame).
   */
  async add(input: tf.Tensor4D, output: tf.Tensor4D, forwardFlow?: tf.Tensor4D): Promise<PairWarpingError | null> {
    if (input.shape[1] !== output.shape[1] || input.shape[2] !== output.shape[2])
      throw new Error(`temporal meter: output is ${output.shape[2]}x${output.shape[1]}, input ${input.shape[2]}x${input.shape[1]}`);
    let pair: PairWarpingError | null = null;
    if (this.prevInput && this.prevOutput) {
      pair = await pairWarpingError(this.prevInput, input, this.prevOutput, output, forwardFlow);
      this.warpingSum += pair.error;
      this.pairCount++;
    }
    if (this.optimiser && this.style) {
      const o3 = tf.squeeze<tf.Tensor3D>(output, [0]);
      const i3 = tf.squeeze<tf.Tensor3D>(input, [0]);
      try {
        this.styleSum += (await this.optimiser.losses(o3, i3, [{ image: this.style }])).style;
      } finally {
        tf.dispose([o3, i3]);
      }
    }
    tf.dispose([this.prevInput, this.prevOutput].filter((t): t is tf.Tensor4D => t !== null));
    this.prevInput = tf.clone(input);
    this.prevOutput = tf.clone(output);
    this.frameCount++;
    return pair;
  }

  result(): TemporalMeasure {
    return {
      warpingError: this.pairCount > 0 ? this.warpingSum / this.pairCount : 0,
      ...(this.optimiser ? { styleLoss: this.frameCount > 0 ? this.styleSum / this.frameCount : 0 } : {}),
      frames: this.frameCount,
    };
  }

  dispose(): void {
    tf.dispose([this.prevInput, this.prevOutput].filter((t): t is tf.Tensor4D => t !== null));
    this.prevInput = this.prevOutput = null;
    this.optimiser?.dispose();
  }
}
