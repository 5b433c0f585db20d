/** What the browser smoke page reports per backend (shared by the page and the test). */
export interface BackendResult {
  backend: string;
  ok: boolean;
  error?: string;
  shape?: number[];
  pixels?: number[];
}
