/** What the browser smoke page reports per backend (shared by the page and the test). */
export interface BackendResult {
  backend: string;
  ok: boolean;
  error?: string;
  shape?: number[];
  pixels?: number[];
  /** Gatys optimiser, 6 L-BFGS iterations on the 32x32 pattern: total loss per iteration. */
  optimizerTotals?: number[];
  optimizerError?: string;
  /** Dense warp of a fixed 24x32x3 image by a fixed flow: the backend's kernel, and stock tf ops. */
  warpHasKernel?: boolean;
  warpPixels?: number[];
  warpOpsPixels?: number[];
  /** The Catmull-Rom warp kernel's output on the same image and flow. */
  warpCubicPixels?: number[];
  /** Mean estimated flow (x, y) over the interior for a (+3, -2) px shift of the 64x64 pattern. */
  flowMean?: number[];
  warpError?: string;
  /** The backend has the fused TV-L1 kernels. */
  tvl1HasKernels?: boolean;
  /** Max |fused − composed-ops| flow (px) after one linearisation of 8 iterations (one level). */
  tvl1StepMaxDiffPx?: number;
  /** Mean |fused − composed-ops| flow (px) of the whole coarse-to-fine solve. */
  tvl1SolveMeanDiffPx?: number;
  /** Kernels run by one estimateFlow of that pair: fused passes vs composed ops. */
  flowKernelCalls?: { fused: number; ops: number };
  /** Video mode, realtime preset: readbacks counted during frames 3–5 (after warm-up). */
  readbacksPerFrame?: Record<string, number>;
  /** Compiled programs / pipelines added during frames 3–5 (null where the backend has no cache to count). */
  programsAdded?: number | null;
  /** tf.memory().numTensors after frames 3 and 5 (no growth across frames). */
  tensorsAfterFrames?: number[];
  /** The last smoothed frame is finite and in [0, 1]. */
  videoFrameValid?: boolean;
  /** Calls the spies counted for one deliberate readback of a GPU tensor (proves they work). */
  spyCalibration?: number;
  noReadbackError?: string;
  /** Readbacks counted while `CanvasPresenter.draw` put frames 3–5 on a canvas. */
  readbacksPerDraw?: Record<string, number>;
  /** How each of frames 3–5 reached the canvas (`CanvasPresenter.draw`). */
  presentPaths?: string[];
  /** Max |drawn - toPixels| over the last frame's RGBA bytes. */
  presentMaxDiff?: number;
  presentSize?: number[];
  /** The presenter's last GPU-draw error, if any. */
  presentError?: string | null;
  /** Paths for a CPU-resident RGB tensor, a grey [H, W] image and int32 RGB (all via toPixels). */
  presentOddPaths?: string[];
  presentOddError?: string | null;
  /** Rows `webgl-presets` and `webgl-float16` (half-float textures): each preset's output pixels. */
  presetPixels?: Record<string, number[]>;
  /** `storesHalfFloats()` on that page after the runs. */
  storesHalfFloats?: boolean;
}
