/**
 * Person / background (the `subject` option): a feathered person mask from the selfie segmentation
 * network, and the composite that keeps the unstylised frame where the subject is not.
 */
import * as tf from '@tensorflow/tfjs-core';
import { constant } from '../backend/constants.js';
import { PersonSegmenter } from '../nets/segmenter.js';
import { boxMean } from '../temporal/box-filter.js';
import { loadSegmentationModelBytes } from '../weights/segmentation-model.js';
import type { ByteSource } from '../weights/model-loader.js';
import type { Subject } from './options.js';

/**
 * Feather width (px) of the mask's edge at an `h x w` output: about 1% of the long side (odd, at
 * least 3). The network sees a 256 px copy of the frame, so its edge is only that exact; a hard
 * edge at the output's size would show the 256 px staircase.
 */
export function featherWindowPx(h: number, w: number): number {
  const k = Math.max(3, Math.round(Math.max(h, w) / 100));
  return k % 2 === 1 ? k : k + 1;
}

/**
 * `subject` 'background' or 'person' asked for, and the segmentation model could not be loaded (missing,
 * damaged, unreadable); the message says why. The stylizer's options are left as they were.
 */
export class SegmentationUnavailableError extends Error {
  override name = 'SegmentationUnavailableError';
}

/** The person mask of frames (owns its network; dispose). */
export class SubjectMasker {
  private constructor(private readonly segmenter: PersonSegmenter) {}

  /**
   * Loads and verifies the model from `source` (the models' `selfie/` folder), and runs it once on a
   * small blank frame: a graph that cannot run fails here, not on the first video frame, and on a GPU
   * its shaders are compiled before the first frame needs them.
   */
  static async load(source: ByteSource, signal?: AbortSignal): Promise<SubjectMasker> {
    const bytes = await loadSegmentationModelBytes(source, signal);
    const segmenter = PersonSegmenter.fromTflite(bytes);
    try {
      const probe = tf.tidy(() => segmenter.segment(tf.zeros<tf.Rank.R4>([1, 8, 8, 3])));
      try {
        await probe.data();
      } finally {
        probe.dispose();
      }
    } catch (e) {
      segmenter.dispose();
      throw e;
    }
    return new SubjectMasker(segmenter);
  }

  /**
   * @param content `[1, H, W, 3]` in [0, 1] (not disposed).
   * @returns `[1, H, W, 1]` person probability, feathered. Caller owns.
   */
  personMask(content: tf.Tensor4D): tf.Tensor4D {
    const [, h, w] = content.shape;
    return tf.tidy(() => {
      const mask = tf.reshape<tf.Rank.R4>(this.segmenter.segment(content), [1, h, w, 1]);
      const k = featherWindowPx(h, w);
      // Two box passes: a tent-shaped edge, with no box corners.
      return boxMean(boxMean(mask, k), k);
    });
  }

  dispose(): void {
    this.segmenter.dispose();
  }
}

/**
 * The output for `subject`: the stylisation where the subject is, the content elsewhere.
 * @param stylised `[H, W, 3]`; @param content `[1, H', W', 3]` with H' >= H, W' >= W (cropped to
 * the stylisation's size from the top left, as the stylizer crops); @param personMask `[1, H, W, 1]`.
 * None is disposed. @returns `[H, W, 3]`, caller owns.
 */
export function composeSubject(
  stylised: tf.Tensor3D,
  content: tf.Tensor4D,
  personMask: tf.Tensor4D,
  subject: Exclude<Subject, 'all'>,
): tf.Tensor3D {
  const [h, w] = stylised.shape;
  return tf.tidy(() => {
    const source = content.shape[1] === h && content.shape[2] === w ? content : tf.slice(content, [0, 0, 0, 0], [1, h, w, 3]);
    const mask = tf.reshape<tf.Rank.R3>(personMask, [h, w, 1]);
    // Weight of the stylisation: the person for 'person', everything else for 'background'.
    const styled = subject === 'person' ? mask : tf.sub(constant(1), mask);
    const original = tf.reshape<tf.Rank.R3>(source, [h, w, 3]);
    return tf.add<tf.Tensor3D>(original, tf.mul(tf.sub(stylised, original), styled));
  });
}
