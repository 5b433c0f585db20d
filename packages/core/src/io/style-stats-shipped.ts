/**
 * Precomputed style statistics served next to a style catalog (the demo build writes them for its
 * built-in styles), read as a read-only `styleStatsCache` layer, so a page encodes no built-in style.
 *
 * The folder holds `index.json` ({@link ShippedStyleStatsIndex}) and one entry per style and level,
 * `<entry id>.bin`, in the byte layout of style-stats-cache.ts, keyed by the style's file
 * (`imageHashOf: 'file'`: the browser's JPEG decoder need not give the build's pixels bit for bit).
 *
 * Backends: the entries were computed on the backend the index names (wasm, in Node), and they
 * answer a key of any backend. The key holds the backend because float32 encoders round differently
 * on each; for the statistics that difference is tiny (WebGL and WebGPU in Chromium against these:
 * at most 1.3e-7 of the largest value, docs/first-frame.md), far below what the cross-backend parity
 * tests allow of a whole output (2e-3 max abs, WebGL against wasm). A page's own statistics, in its
 * IndexedDB, keep their own backend in the key.
 */
import {
  STYLE_STATS_FORMAT_VERSION,
  decodeStyleStatsEntry,
  styleStatsEntryId,
  type StyleLevelStatistics,
  type StyleStatsCache,
  type StyleStatsKey,
} from '../pipeline/style-stats-cache.js';

export const SHIPPED_INDEX_FORMAT = 'livestyle-style-stats-index';

/** `index.json` of a folder of precomputed statistics. */
export interface ShippedStyleStatsIndex {
  readonly format: typeof SHIPPED_INDEX_FORMAT;
  readonly version: number;
  /** The backend that computed every entry (their keys hold it). */
  readonly backend: string;
  /** The entry ids ({@link styleStatsEntryId}) present as `<id>.bin`. */
  readonly entries: readonly string[];
}

/** The index of entries computed on `backend` (for the writer: the demo build). */
export function shippedStyleStatsIndex(backend: string, entryIds: readonly string[]): ShippedStyleStatsIndex {
  return { format: SHIPPED_INDEX_FORMAT, version: STYLE_STATS_FORMAT_VERSION, backend, entries: [...entryIds].sort() };
}

export interface ShippedStyleStatsOptions {
  /** Told, once per kind of event, when the folder or an entry cannot be used. */
  readonly onWarning?: (message: string) => void;
}

/** How long a transient failure to fetch the index is remembered before the index is asked for again. */
export const INDEX_RETRY_MS = 30_000;

/** Read-only statistics from a folder of precomputed entries (see the module comment). */
export class ShippedStyleStats implements StyleStatsCache {
  private readonly base: string;
  private index: Promise<{ backend: string; ids: Set<string> } | null> | null = null;
  /** After a transient failure: when (performance.now(), ms) the index may be asked for again. */
  private indexRetryAtMs: number | null = null;
  private readonly onWarning: (message: string) => void;
  private readonly warned = new Set<string>();

  /** @param baseUrl the folder's URL (relative ones resolve against the page). */
  constructor(baseUrl: string, options: ShippedStyleStatsOptions = {}) {
    this.base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    this.onWarning = options.onWarning ?? (() => undefined);
  }

  async get(key: StyleStatsKey): Promise<StyleLevelStatistics | null> {
    if (key.imageHashOf !== 'file') return null; // entries name files; pixels hashed here never match
    const index = await this.loadIndex();
    if (!index) return null;
    const shippedKey: StyleStatsKey = { ...key, backend: index.backend };
    const id = await styleStatsEntryId(shippedKey);
    if (!index.ids.has(id)) return null;
    try {
      const response = await fetch(`${this.base}${id}.bin`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return await decodeStyleStatsEntry(new Uint8Array(await response.arrayBuffer()), shippedKey);
    } catch (e) {
      // Never used when damaged: the style is computed here instead.
      this.warn('entry', `precomputed style statistics ${this.base}${id}.bin not used (${(e as Error).message}); computing them`);
      return null;
    }
  }

  /** Read-only: statistics computed on the page go to the next layer (IndexedDB). */
  put(): Promise<void> {
    return Promise.resolve();
  }

  private loadIndex(): Promise<{ backend: string; ids: Set<string> } | null> {
    if (this.indexRetryAtMs !== null && performance.now() >= this.indexRetryAtMs) {
      this.indexRetryAtMs = null;
      this.index = null;
    }
    this.index ??= (async () => {
      /** A failure that may pass (the network, a server error): the index is asked for again later. */
      let transient = true;
      try {
        const response = await fetch(`${this.base}index.json`);
        if (!response.ok) {
          transient = response.status >= 500 || response.status === 408 || response.status === 429;
          throw new Error(`HTTP ${response.status}`);
        }
        transient = false;
        const raw = (await response.json()) as Partial<ShippedStyleStatsIndex>;
        if (raw.format !== SHIPPED_INDEX_FORMAT || typeof raw.backend !== 'string' || !Array.isArray(raw.entries))
          throw new Error('not an index of precomputed style statistics');
        // Another format version: its ids are of other keys, so nothing would match; say why once.
        if (raw.version !== STYLE_STATS_FORMAT_VERSION)
          throw new Error(`version ${String(raw.version)}, expected ${STYLE_STATS_FORMAT_VERSION}`);
        return { backend: raw.backend, ids: new Set(raw.entries.filter((e): e is string => typeof e === 'string')) };
      } catch (e) {
        this.warn('index', `precomputed style statistics at ${this.base} not used (${(e as Error).message})`);
        // A folder that is not there or not an index stays so for the page's life; a dropped
        // connection or a server error does not, so the index is asked for again, at most every
        // INDEX_RETRY_MS (a server slow to fail would otherwise cost its timeout at every lookup).
        if (transient) this.indexRetryAtMs = performance.now() + INDEX_RETRY_MS;
        return null;
      }
    })();
    return this.index;
  }

  private warn(kind: string, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.onWarning(message);
  }
}

/**
 * Several caches read in order (the first hit wins) and written together: e.g. the read-only
 * precomputed statistics, then the page's IndexedDB. A layer that fails is skipped.
 */
export class LayeredStyleStatsCache implements StyleStatsCache {
  constructor(readonly layers: readonly StyleStatsCache[]) {}

  async get(key: StyleStatsKey): Promise<StyleLevelStatistics | null> {
    for (const layer of this.layers) {
      const hit = await layer.get(key).catch(() => null);
      if (hit) return hit;
    }
    return null;
  }

  async put(key: StyleStatsKey, stats: StyleLevelStatistics): Promise<void> {
    await Promise.all(this.layers.map((l) => l.put(key, stats).catch(() => undefined)));
  }
}
