/**
 * The two numbers a stylised clip is judged by, accumulated frame by frame: the warping error
 * (Lai et al. 2018, see warping-error.ts; flow from the input frames) and, given a style image, the
 * mean Gram style loss of the output frames against it (the optimiser's loss network and style
 * layers). The style reference is the style image exactly as the stylizer used it: scaled by the
 * stylizer's own `prepareStyleImage` to the run's `styleMaxSizePx`, never rescaled to the frame.
 * Texture statistics depend on scale: against a style shrunk to the frame, a blurred output scored
 * closer to the style than the sharp one (issue 30), so the meter rewarded wash-out.
 * `livestyle eval temporal`, `npm run temporal` and the tests all measure through this class, so
 * their figures are the same measurement.
 *
 * Tensor ownership: `add` neither disposes nor keeps its arguments (it keeps its own copies of the
 * last pair); `dispose` frees them and the loss network.
 */
import * as tf from '@tensorflow/tfjs-core';
import { StyleOptimizer } from '../optimize/style-optimizer.js';
import type { StyleGrams } from '../optimize/objective.js';
import { DEFAULT_OPTIONS, effectiveLevels, type BackendName } from '../pipeline/options.js';
import type { StylizerInput } from '../pipeline/input.js';
import { checkStyleFitsLevels, prepareStyleImage } from '../pipeline/style-image.js';
import { pairWarpingError, type PairWarpingError } from './warping-error.js';
import { gaussianBlur } from './blur-equivalent.js';

export interface TemporalMeterOptions {
  /**
   * Style image for the Gram style loss, as the stylizer was given it (e.g. read with the CLI's
   * `--style-size`); without one only the warping error is measured.
   */
  readonly style?: StylizerInput;
  /** The run's `styleMaxSizePx` (default: the stylizer's default), applied as the stylizer applies it. */
  readonly styleMaxSizePx?: number;
  /** The run's levels (default: the default model's cascade): a style too small for them had no run. */
  readonly levels?: readonly number[];
  /** Backend of the loss network (default: the one already active). */
  readonly backend?: BackendName | 'auto';
}

/** The style reference the loss is measured against: the style's size as the stylizer used it. */
export interface StyleReferenceSize {
  readonly widthPx: number;
  readonly heightPx: number;
  readonly styleMaxSizePx: number;
}

export interface TemporalMeasure {
  /** Mean warping error over consecutive pairs (0 with fewer than 2 frames). */
  readonly warpingError: number;
  /** Mean Gram style loss over all frames (absent without a style image). */
  readonly styleLoss?: number;
  /** The style reference's size (absent without a style image). */
  readonly styleReference?: StyleReferenceSize;
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
    private readonly reference: StyleGrams | null,
    private readonly referenceSize: StyleReferenceSize | null,
  ) {}

  /** Refuses (InputError) a style smaller than the run's deepest level needs: no run used it at this scale. */
  static async create(options: TemporalMeterOptions = {}): Promise<TemporalMeter> {
    if (!options.style) return new TemporalMeter(null, null, null);
    const styleMaxSizePx = options.styleMaxSizePx ?? DEFAULT_OPTIONS.styleMaxSizePx;
    const image = prepareStyleImage(options.style, styleMaxSizePx, 'style');
    const style = tf.squeeze<tf.Tensor3D>(image, [0]);
    image.dispose();
    let optimiser: StyleOptimizer | null = null;
    try {
      const [heightPx, widthPx] = style.shape;
      checkStyleFitsLevels(heightPx, widthPx, options.levels ?? effectiveLevels(DEFAULT_OPTIONS), styleMaxSizePx, 'style');
      optimiser = await StyleOptimizer.create(options.backend ? { backend: options.backend } : {});
      const reference = optimiser.styleReference([{ image: style }]);
      return new TemporalMeter(optimiser, reference, { widthPx, heightPx, styleMaxSizePx });
    } catch (e) {
      optimiser?.dispose();
      throw e;
    } finally {
      style.dispose();
    }
  }

  /** The Gram style loss of one image `[1, H, W, 3]` (not disposed) against the reference, at its own size. */
  async styleLossOf(image: tf.Tensor4D): Promise<number> {
    if (!this.reference) throw new Error('temporal meter: no style image to measure the style loss against');
    return this.reference.value(image);
  }

  /**
   * The mean style loss of `frames` (each `[1, H, W, 3]`, not disposed) after a Gaussian blur of
   * `sigmaPx`: the loss side of a blur equivalent (metrics/blur-equivalent.ts).
   */
  async blurredStyleLoss(frames: readonly tf.Tensor4D[], sigmaPx: number): Promise<number> {
    if (frames.length === 0) throw new Error('temporal meter: no frames to blur');
    let sum = 0;
    for (const frame of frames) {
      const blurred = gaussianBlur(frame, sigmaPx);
      try {
        sum += await this.styleLossOf(blurred);
      } finally {
        blurred.dispose();
      }
    }
    return sum / frames.length;
  }

  /**
   * Adds the next frame: `input` and `output` are `[1,H,W,3]` in [0, 1] of the same size (neither
   * disposed). `forwardFlow` (previous frame to this one, `[1,H,W,2]`, not disposed) replaces the
   * estimated one, e.g. ground truth; `backwardFlow` (this frame to the previous one), given with it,
   * skips the last estimate (see pairWarpingError). Returns this pair's warping error (null for the
   * first frame).
   */
  async add(
    input: tf.Tensor4D,
    output: tf.Tensor4D,
    forwardFlow?: tf.Tensor4D,
    backwardFlow?: tf.Tensor4D,
  ): Promise<PairWarpingError | null> {
    if (input.shape[1] !== output.shape[1] || input.shape[2] !== output.shape[2])
      throw new Error(`temporal meter: output is ${output.shape[2]}x${output.shape[1]}, input ${input.shape[2]}x${input.shape[1]}`);
    let pair: PairWarpingError | null = null;
    if (this.prevInput && this.prevOutput) {
      pair = await pairWarpingError(this.prevInput, input, this.prevOutput, output, forwardFlow, {}, backwardFlow);
      this.warpingSum += pair.error;
      this.pairCount++;
    }
    if (this.reference) this.styleSum += await this.styleLossOf(output);
    tf.dispose([this.prevInput, this.prevOutput].filter((t): t is tf.Tensor4D => t !== null));
    this.prevInput = tf.clone(input);
    this.prevOutput = tf.clone(output);
    this.frameCount++;
    return pair;
  }

  result(): TemporalMeasure {
    return {
      warpingError: this.pairCount > 0 ? this.warpingSum / this.pairCount : 0,
      ...(this.referenceSize
        ? { styleLoss: this.frameCount > 0 ? this.styleSum / this.frameCount : 0, styleReference: this.referenceSize }
        : {}),
      frames: this.frameCount,
    };
  }

  dispose(): void {
    tf.dispose([this.prevInput, this.prevOutput].filter((t): t is tf.Tensor4D => t !== null));
    this.prevInput = this.prevOutput = null;
    this.reference?.dispose();
    this.optimiser?.dispose();
  }
}
