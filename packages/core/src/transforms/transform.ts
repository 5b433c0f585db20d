/**
 * The feature transform of one level, chosen in one place: WCT on the backend (Newton–Schulz
 * whitening, nothing read back), exact WCT (float64 eigen-decomposition of the content moments) or
 * AdaIN. The caller keeps `features`; the result is the caller's.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { tidy } from '@tensorflow/tfjs-core';
import { featureMoments, type StatisticsPrecision } from './moments.js';
import { applyWct, blendWctStats, wctOnBackend, type WctStyleStats, type WctStyleTensors } from './wct.js';
import { adain, blendAdainStats, type AdaInStyleStats } from './adain.js';
import { storesHalfFloats } from '../backend/precision.js';

/** How a level's features are transformed. */
export interface TransformChoice {
  readonly method: 'wct' | 'adain';
  readonly wctWhitening: 'eigen' | 'newton-schulz';
  readonly statisticsPrecision: StatisticsPrecision;
  readonly alpha: number;
}

/** The styles of a blend at one level: their statistics and weights. */
export interface LevelStyles {
  readonly wct: readonly WctStyleStats[];
  readonly adain: readonly AdaInStyleStats[];
  readonly weights: readonly number[];
  /**
   * The blended WCT statistics as backend tensors (uploaded once per style set and weights by the
   * caller's cache); `owned`: the caller of transformFeatures must dispose them.
   */
  readonly backendStats: () => [WctStyleTensors, boolean];
}

/** Transforms one level's content features toward the styles. */
export async function transformFeatures(features: tf.Tensor4D, choice: TransformChoice, styles: LevelStyles): Promise<tf.Tensor4D> {
  if (choice.method === 'adain') return adain(features, blendAdainStats(styles.adain, styles.weights), choice.alpha);
  // Half-float textures cannot hold the Newton–Schulz iteration: covariance eigenvalues below float16's
  // resolution come out negative and it diverges (every pixel NaN; README, "Precision"). There the exact
  // whitening runs instead, at one readback a level.
  if (choice.wctWhitening === 'newton-schulz' && !storesHalfFloats()) {
    const [styleTensors, owned] = styles.backendStats();
    try {
      return tidy(() => wctOnBackend(features, styleTensors, choice.alpha));
    } finally {
      if (owned) {
        styleTensors.colouring.dispose();
        styleTensors.mean.dispose();
      }
    }
  }
  const moments = await featureMoments(features, choice.statisticsPrecision);
  return applyWct(features, moments, blendWctStats(styles.wct, styles.weights), choice.alpha);
}
