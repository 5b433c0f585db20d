/**
 * Where a frame's work is, for per-stage GPU timing (the GPU benchmark's `GpuPassTimer` with
 * stages). The stylizer marks each stage as it starts issuing work; with no listener a mark is one
 * null check. Marks follow the order work is issued, which on WebGPU is the order it runs.
 */
export type FrameStage = 'input' | 'style' | 'encode' | 'transform' | 'decode' | 'output' | 'temporal';

export const FRAME_STAGES: readonly FrameStage[] = ['input', 'style', 'encode', 'transform', 'decode', 'output', 'temporal'];

let listener: ((stage: FrameStage) => void) | null = null;

/** Says that the work issued from now on belongs to `stage`. */
export function markStage(stage: FrameStage): void {
  if (listener) listener(stage);
}

/** Hears every mark until the returned function is called (one listener at a time). */
export function listenStages(l: (stage: FrameStage) => void): () => void {
  listener = l;
  return () => {
    if (listener === l) listener = null;
  };
}
