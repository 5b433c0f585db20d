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
}
