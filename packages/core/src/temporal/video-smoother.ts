/**
 * Optical-flow-guided temporal smoothing of stylised video.
 *
 * Per frame t: flows between the input frames t and t-1 (both directions, on a small grey pyramid)
 * and a confidence that is 1 where the two flows agree and the warped previous input matches the
 * current one. Then `out_t = a * prev + (1 - a) * stylised_t`, where `prev` is the previous output
 * (as is for static pixels, warped by the flow for moving ones) and `a = strength * confidence`
 * (times MOVING_PIXEL_SHARE for moving pixels). Occluded, disoccluded and mis-tracked pixels
 * (confidence 0) take the fresh stylisation. The previous output is warped with Catmull-Rom
 * (bicubic) interpolation. Finally each detail band (3, 7 and 15 px) gets back the local energy of
 * the fresh stylisation, so averaging does not wash the style out.
 * ref: Ruder, Dosovitskiy & Brox, "Artistic Style Transfer for Videos", GCPR 2016, §3–4 (warped
 * previous stylisation, forward–backward occlusion mask); Lai et al., "Learning Blind Video Temporal
 * Consistency", ECCV 2018, §3 (blending with the warped previous output under an occlusion mask).
 *
 * Measured (README, "Video"): smoothing the per-frame content statistics of the transform made
 * a noisy still scene LESS stable (its output wanders with the running statistics), so the
 * smoother works on outputs only.
 *
 * Nothing is read back on the per-frame path: the scene-cut test (too little of the frame tracked)
 * gates the blend weight on the backend, and the tracked fraction is kept as a scalar tensor that
 * {@link VideoSmoother.lastFrameInfo} reads only when asked.
 *
 * Tensor ownership: the smoother owns its state (previous frame, output, pyramid, tracked fraction)
 * and frees it on reset/dispose; `blend` returns a caller-owned tensor; inputs are never disposed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { constant } from '../backend/constants.js';
import {
  DEFAULT_FLOW_OPTIONS,
  consistencyMask,
  flowFromPyramids,
  greyPyramid,
  pyramidLevels,
  resizeFlow,
  toGrey255,
  type FlowOptions,
} from './flow.js';
import { warpBilinear, warpImage } from './warp.js';
import { boxMean } from './box-filter.js';

export interface SmootherSettings {
  /** In [0, 1]: weight of the previous output where tracking is confident (see the module doc). */
  readonly strength: number;
  /** Flow is estimated on frames scaled so the long side is at most this (0 = output size). */
  readonly flowMaxSidePx: number;
  /** Flow solver settings. */
  readonly flow?: Partial<FlowOptions>;
  /**
   * The occlusion check's forward flow is solved this many pyramid levels coarser than the backward flow
   * (default 0), never at a long side under {@link CHECK_FLOW_MIN_SIDE_PX}.
   */
  readonly flowCheckLevels?: number;
  /** Internal: the blend's tuning (measurement scripts only; defaults are the measured choice). */
  readonly tuning?: Partial<SmootherTuning>;
}

/** The blend's knobs, measured in docs/temporal.md. */
export interface SmootherTuning {
  /** Box-mean sides (px) splitting the output into detail bands, finest first. */
  readonly bandWindowsPx: readonly number[];
  /** Largest gain a detail band may get back. */
  readonly maxDetailGain: number;
  /** Weight share of the warped previous output for moving pixels. */
  readonly movingPixelShare: number;
  /** Resampling of the previous output. */
  readonly warp: 'bilinear' | 'cubic';
}

/**
 * A scene cut is declared when more than this fraction of the frame cannot be tracked. Measured
 * (README, "Video"): the cut in adain_cutbunny tracks 1% of the frame, while the fastest shared
 * footage (sintel_ambush_4, up to 250 px per frame at 1024 px) still tracks 9-10%; a cut at 40%
 * tracked reset the smoother on 7 of its 11 frame pairs. Untracked pixels take the fresh
 * stylisation anyway (confidence 0); this only guards against chance matches after a cut.
 */
export const SCENE_CUT_UNTRACKED_FRACTION = 0.95;
/** Photometric check: confidence falls as exp(-d / PHOTO_SCALE), d = mean squared RGB change (~0.1 RGB). */
const PHOTO_SCALE = 2 * 0.1 * 0.1;
/** Pixels moving less than this (output px per frame) count as static. */
export const STATIC_FLOW_PX = 0.5;
/**
 * Moving pixels blend with `strength * MOVING_PIXEL_SHARE` of the warped previous output: less
 * than static ones, because repeated resampling softens the texture. Measured (docs/temporal.md,
 * "Keeping the texture", honest meter): the full weight takes the style ratio from 1.31x to 1.39x
 * (sam2_bedroom 512 px) and 1.25x to 1.46x (sintel_raft_demo 512 px); 0.7 cut the warping error too
 * little on fast motion (-48% on sintel_ambush_4, issue 18).
 */
export const MOVING_PIXEL_SHARE = 0.85;
/**
 * Box-mean sides (px) splitting the output into detail bands, finest first; the rest is the base.
 * In output pixels at every size: the decoder paints strokes of a fixed size in pixels, whatever the
 * output size. Measured on the honest meter (issue 30; docs/temporal.md, "Keeping the texture"):
 * one 15 px band let the finest texture go (sam2_bedroom 512 px x la_muse, 12 frames: Gram style
 * loss 2.17x per-frame); octave-like bands 3, 7 and 15 px give each scale its own gain (1.38x; 1.31x
 * with the Catmull-Rom warp). A 31 px band or 3/5/9/17 px changed nothing. The old meter, which
 * rewarded blur, had chosen the single band (issue 18).
 */
const BAND_WINDOWS_PX = [3, 7, 15];
/** Largest gain a detail band may get back (flat regions must not amplify noise without bound). */
const MAX_DETAIL_GAIN = 3;

const DEFAULT_TUNING: SmootherTuning = {
  bandWindowsPx: BAND_WINDOWS_PX,
  maxDetailGain: MAX_DETAIL_GAIN,
  movingPixelShare: MOVING_PIXEL_SHARE,
  // Bilinear resampling of the previous output every frame softens its finest texture; Catmull-Rom
  // keeps it (1.38x -> 1.31x above). ref: Keys 1981 (cubic convolution).
  warp: 'cubic',
};

/** How the last video frame was smoothed (`stylizer.videoFrameInfo()`). */
export interface PreparedFrame {
  /** True when this frame starts a new shot (no previous frame, size change, or too little tracked). */
  readonly sceneCut: boolean;
  /** Mean tracking confidence over the frame in [0, 1] (0 without a previous frame). */
  readonly trackedFraction: number;
}

interface Pending {
  /** Previous output warped to the current frame, `[1,H,W,3]`. */
  readonly warpedOutput: tf.Tensor4D;
  /** `[1,H,W,1]` in [0, 1]. */
  readonly confidence: tf.Tensor4D;
  /** `[1,H,W,1]`, 1 where the pixel moved less than STATIC_FLOW_PX. */
  readonly isStatic: tf.Tensor4D;
  /** Flow from the current frame back to the previous one at the output size, `[1,H,W,2]`. */
  readonly flow: tf.Tensor4D;
}

/**
 * Weight of the warped previous person mask where tracking is confident ({@link VideoSmoother.smoothMask}).
 * The segmentation runs on a 256 px copy of each frame, so its edge jitters by a pixel or two from
 * frame to frame; carried along the flow, history steadies the edge without trailing a moving person.
 */
export const MASK_HISTORY_WEIGHT = 0.7;

/**
 * The occlusion check's forward flow is never solved at a long side under this (px), whatever
 * `flowCheckLevels` asks. Measured (docs/temporal.md, "What the flow costs"; realtime, 12 frames): solved
 * at 128 px (flow capped at 512 px, sintel_raft_demo 1200x512) the coarser check took the warping ratio
 * from 0.38x to 0.44x; solved at 64 px (the camera's 256 px frames) it raised it 1.4-2.1x on three of
 * five clips, 0.25x -> 0.51x on sam2_bedroom x starry_night and 0.34x -> 0.58x with mondrian, over the
 * 0.5x target (docs/temporal.md, "The camera's cells").
 */
export const CHECK_FLOW_MIN_SIDE_PX = 128;

/**
 * The pyramid level (0 = the flow's own size) at which the occlusion check's forward flow is solved:
 * `flowCheckLevels` coarser than the backward flow's `finestLevel`, stopping before the long side
 * would fall under {@link CHECK_FLOW_MIN_SIDE_PX}, and at most level 4 (the flow options' limit).
 */
export function checkFlowLevel(flowLongSidePx: number, finestLevel: number, flowCheckLevels: number): number {
  let sidePx = flowLongSidePx;
  for (let l = 0; l < finestLevel; l++) sidePx = Math.ceil(sidePx / 2);
  let level = finestLevel;
  for (let extra = 0; extra < flowCheckLevels && level < 4; extra++) {
    const nextPx = Math.ceil(sidePx / 2);
    if (nextPx < CHECK_FLOW_MIN_SIDE_PX) break;
    sidePx = nextPx;
    level++;
  }
  return level;
}

export class VideoSmoother {
  /** The previous input frame at the flow's size (colour), for the photometric check. */
  private prevFrame: tf.Tensor4D | null = null;
  private prevPyramid: tf.Tensor4D[] = [];
  private prevOutput: tf.Tensor4D | null = null;
  private frame: tf.Tensor4D | null = null;
  private pyramid: tf.Tensor4D[] = [];
  private pending: Pending | null = null;
  /** The last smoothed person mask (`[1,H,W,1]`), for {@link smoothMask}. */
  private prevMask: tf.Tensor4D | null = null;
  /** Mean confidence of the last prepared frame (a scalar; null when it had nothing to track). */
  private tracked: tf.Scalar | null = null;
  /** Whether the last prepared frame had no previous frame of its size to track (null: none prepared). */
  private lastUntracked: boolean | null = null;

  constructor(private settings: SmootherSettings) {}

  setSettings(settings: SmootherSettings): void {
    this.settings = settings;
  }

  private tuning(): SmootherTuning {
    return { ...DEFAULT_TUNING, ...this.settings.tuning };
  }

  /**
   * Tracks `frame` (`[1,H,W,3]` in [0,1] at the output size; not disposed) against the previous
   * frame and prepares the warped previous output. Call {@link blend} next.
   * @param flowSidePx long side the flow runs at for this frame (default: the settings'
   *   `flowMaxSidePx`; 0 = the frame's size). The stylizer passes its internal resolution.
   */
  prepare(frame: tf.Tensor4D, flowSidePx: number = this.settings.flowMaxSidePx): void {
    this.clearPending();
    tf.dispose([this.frame, this.tracked, ...this.pyramid].filter((t): t is NonNullable<typeof t> => t !== null));
    this.tracked = null;
    this.lastUntracked = true;
    const [, h, w] = frame.shape;
    const scale = flowSidePx > 0 ? Math.min(1, flowSidePx / Math.max(h, w)) : 1;
    const fh = Math.max(1, Math.round(h * scale));
    const fw = Math.max(1, Math.round(w * scale));
    const levels = pyramidLevels(fh, fw, 16);
    // The frame is kept at the flow's size: the photometric check runs there too (at 1200x512 with the
    // flow capped at 512 px, the full-size check was a fifth of the temporal stage; docs/temporal.md).
    const small = scale < 1 ? tf.image.resizeBilinear<tf.Tensor4D>(frame, [fh, fw], false, true) : tf.clone(frame);
    this.frame = small;
    this.pyramid = tf.tidy(() => greyPyramid(toGrey255(small), levels));
    const prev = this.prevFrame;
    const prevOut = this.prevOutput;
    // A new size, or a new flow size (the adaptive scale stepped): nothing to track against.
    const prevFinest = this.prevPyramid[0];
    if (
      !prev ||
      !prevOut ||
      prevOut.shape[1] !== h ||
      prevOut.shape[2] !== w ||
      prevFinest?.shape[1] !== fh ||
      prevFinest.shape[2] !== fw
    ) {
      return;
    }
    // Flow from the current frame back to the previous one pulls the previous output forward;
    // the forward flow is for the consistency check. Default flow options (solved at half the
    // flow size): solving the full size as well doubled the temporal stage's cost (README, Video).
    const flowOptions: Partial<FlowOptions> = { ...this.settings.flow };
    const back = flowFromPyramids(this.pyramid, this.prevPyramid, flowOptions);
    // The forward flow only checks the backward one: it may be solved coarser (flowCheckLevels), but
    // not below CHECK_FLOW_MIN_SIDE_PX. (Past the pyramid's depth the solver stops at its top.)
    const finest = checkFlowLevel(
      Math.max(fh, fw),
      flowOptions.finestLevel ?? DEFAULT_FLOW_OPTIONS.finestLevel,
      this.settings.flowCheckLevels ?? 0,
    );
    let fwd: tf.Tensor4D | null = null;
    let pending: Pending;
    try {
      fwd = flowFromPyramids(this.prevPyramid, this.pyramid, { ...flowOptions, finestLevel: finest });
      const forward = fwd;
      pending = tf.tidy(() => {
        const geometric = tf.image.resizeBilinear(consistencyMask(back, forward), [fh, fw], false, true);
        const warpedPrevFrame = warpBilinear(prev, resizeFlow(back, fh, fw));
        const photometric = tf.exp(tf.div(tf.neg(tf.mean(tf.squaredDifference(warpedPrevFrame, small), 3, true)), constant(PHOTO_SCALE)));
        const atFlowSize = tf.mul<tf.Tensor4D>(geometric, photometric);
        const confidence = scale < 1 ? tf.image.resizeBilinear<tf.Tensor4D>(atFlowSize, [h, w], false, true) : atFlowSize;
        const backFull = resizeFlow(back, h, w);
        const speed = tf.sqrt(tf.sum(tf.square(backFull), 3, true));
        const isStatic = tf.cast(tf.less(speed, constant(STATIC_FLOW_PX)), 'float32') as tf.Tensor4D;
        return { warpedOutput: warpImage(prevOut, backFull, this.tuning().warp), confidence, isStatic, flow: backFull };
      });
    } finally {
      tf.dispose([back, fwd].filter((t): t is tf.Tensor4D => t !== null));
    }
    this.pending = pending;
    this.tracked = tf.mean<tf.Scalar>(pending.confidence);
    this.lastUntracked = false;
  }

  /**
   * The last prepared frame's tracking, read back now (one scalar). For overlays and tests: the
   * per-frame path never calls it. Null before the first frame and after a reset.
   */
  async lastFrameInfo(): Promise<PreparedFrame | null> {
    if (this.lastUntracked === null) return null;
    if (this.lastUntracked || !this.tracked) return { sceneCut: true, trackedFraction: 0 };
    const trackedFraction = (await this.tracked.data())[0] ?? 0;
    return { sceneCut: trackedFraction < 1 - SCENE_CUT_UNTRACKED_FRACTION, trackedFraction };
  }

  /**
   * Steadies a person mask over time (`[1,H,W,1]` in [0, 1] at the output size; not disposed): the
   * previous smoothed mask, warped by this frame's flow, weighs {@link MASK_HISTORY_WEIGHT} x the
   * tracking confidence; untracked pixels, a new shot or a new size take the fresh mask. Call after
   * {@link prepare} and before {@link blend}. Caller owns the result.
   */
  smoothMask(mask: tf.Tensor4D): tf.Tensor4D {
    const pending = this.pending;
    const prev = this.prevMask;
    const tracked = this.tracked;
    const sameSize = prev !== null && prev.shape[1] === mask.shape[1] && prev.shape[2] === mask.shape[2];
    const out =
      pending && prev && sameSize && tracked && pending.flow.shape[1] === mask.shape[1] && pending.flow.shape[2] === mask.shape[2]
        ? tf.tidy(() => {
            const sameShot = tf.cast(tf.greaterEqual(tracked, constant(1 - SCENE_CUT_UNTRACKED_FRACTION)), 'float32');
            const a = tf.mul(tf.mul(pending.confidence, sameShot), constant(MASK_HISTORY_WEIGHT));
            const warped = warpBilinear(prev, pending.flow);
            return tf.add<tf.Tensor4D>(tf.mul(warped, a), tf.mul(mask, tf.sub(constant(1), a)));
          })
        : tf.clone(mask);
    prev?.dispose();
    this.prevMask = tf.clone(out);
    return out;
  }

  /** Forgets the person mask (frames stylised whole in between would make it stale). */
  clearMask(): void {
    this.prevMask?.dispose();
    this.prevMask = null;
  }

  /**
   * Blends the stylised current frame (`[1,H,W,3]`, not disposed) with the previous output and
   * remembers the result for the next frame. Without a tracked previous frame it is a copy.
   * @returns the smoothed frame. Caller owns; dispose.
   */
  blend(stylised: tf.Tensor4D): tf.Tensor4D {
    const frame = this.frame;
    if (!frame) throw new Error('VideoSmoother.blend: call prepare() first');
    const pending = this.pending;
    const prevOut = this.prevOutput;
    const strength = this.settings.strength;
    const tracked = this.tracked;
    const tuning = this.tuning();
    const share = tuning.movingPixelShare;
    const out =
      pending && prevOut && tracked && strength > 0
        ? tf.tidy(() => {
            // Static pixels blend with the previous output itself: no resampling, so nothing
            // blurs however long the shot. Moving pixels blend more lightly with the warped one.
            // A scene cut (too little of the frame tracked) zeroes the weight on the backend:
            // deciding it on the CPU would need a readback every frame.
            const sameShot = tf.cast(tf.greaterEqual(tracked, constant(1 - SCENE_CUT_UNTRACKED_FRACTION)), 'float32');
            const a = tf.mul(
              tf.mul(pending.confidence, sameShot),
              tf.add(tf.mul(pending.isStatic, constant(strength * (1 - share))), constant(strength * share)),
            );
            const previous = tf.add(tf.mul(prevOut, pending.isStatic), tf.mul(pending.warpedOutput, tf.sub(constant(1), pending.isStatic)));
            const mixed = tf.add<tf.Tensor4D>(tf.mul(previous, a), tf.mul(stylised, tf.sub(constant(1), a)));
            // Averaging decorrelated stylisations (texture that re-synthesised differently) lowers
            // the detail bands' contrast and washes the style out; give each detail band back the
            // local energy of the fresh stylisation. Where the two agree the gain is 1.
            // ref: Heitz & Neyret, "High-Performance By-Example Noise using a Histogram-Preserving
            // Blending Operator", HPG 2018, §2 (variance-preserving blending).
            const restored = restoreDetail(mixed, stylised, tuning);
            return tf.clipByValue<tf.Tensor4D>(restored, 0, 1);
          })
        : tf.clone(stylised);
    this.clearPending();
    tf.dispose([this.prevFrame, this.prevOutput, ...this.prevPyramid].filter((t): t is tf.Tensor4D => t !== null));
    this.prevFrame = frame;
    this.prevPyramid = this.pyramid;
    this.prevOutput = tf.clone(out);
    this.frame = null;
    this.pyramid = [];
    return out;
  }

  /** Forgets the previous frame: the next frame starts a new shot. */
  reset(): void {
    this.clearPending();
    tf.dispose(
      [this.prevFrame, this.prevOutput, this.prevMask, this.frame, this.tracked, ...this.prevPyramid, ...this.pyramid].filter(
        (t): t is NonNullable<typeof t> => t !== null,
      ),
    );
    this.prevFrame = this.prevOutput = this.prevMask = this.frame = this.tracked = null;
    this.lastUntracked = null;
    this.prevPyramid = [];
    this.pyramid = [];
  }

  dispose(): void {
    this.reset();
  }

  private clearPending(): void {
    if (this.pending) tf.dispose([this.pending.warpedOutput, this.pending.confidence, this.pending.isStatic, this.pending.flow]);
    this.pending = null;
  }
}

/**
 * Gives each detail band of `mixed` the local energy that band has in `reference` (gain clipped
 * to [1, MAX_DETAIL_GAIN]); the base (coarsest mean) is kept. Caller owns the result.
 */
function restoreDetail(mixed: tf.Tensor4D, reference: tf.Tensor4D, tuning: SmootherTuning): tf.Tensor4D {
  return tf.tidy(() => {
    let out: tf.Tensor4D = tf.zerosLike(mixed);
    let restM: tf.Tensor4D = mixed;
    let restR: tf.Tensor4D = reference;
    for (const k of tuning.bandWindowsPx) {
      const baseM = boxMean(restM, k);
      const baseR = boxMean(restR, k);
      const bandM = tf.sub<tf.Tensor4D>(restM, baseM);
      const bandR = tf.sub<tf.Tensor4D>(restR, baseR);
      const energy = (d: tf.Tensor4D): tf.Tensor4D => boxMean(tf.mean<tf.Tensor4D>(tf.square(d), 3, true), k);
      const ratio = tf.sqrt(tf.div(tf.add(energy(bandR), constant(1e-6)), tf.add(energy(bandM), constant(1e-6))));
      const gain = tf.clipByValue(ratio, 1, tuning.maxDetailGain);
      out = tf.add(out, tf.mul(bandM, gain));
      restM = baseM;
      restR = baseR;
    }
    return tf.add(out, restM);
  });
}
