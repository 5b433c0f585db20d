/**
 * A browser byte source that keeps model files in the Cache API, so a second visit (or an offline
 * one) reads the weights from disk instead of the network. The weight files are not named by their
 * content, so each is stored under its URL plus the SHA-256 the manifest gives it
 * (`…/enc4.bin?sha256=<hex>`): a re-converted model is another entry, and an entry is used only if its
 * bytes still hash to that value (a damaged one is deleted and fetched again). `manifest.json` is
 * fetched from the network every time (it says which weights are current) and read from the cache
 * only when the network fails. Where the Cache API is missing (Node, a page not served over https)
 * this is the plain fetch of {@link fetchByteSource}.
 */
import { fetchModelFile, type ByteSource } from './model-loader.js';
import { sha256Hex } from './model-format.js';

/** The Cache API cache the model files are kept in (bump the suffix if the scheme above changes). */
export const MODEL_CACHE_NAME = 'livestyle-models-v1';

/** How one model file is coming along (for progress displays). */
export interface ModelFileProgress {
  /** The file's URL. */
  readonly url: string;
  readonly loadedBytes: number;
  /** The manifest's size of a weight file (the response's Content-Length for the manifest; null if unknown). */
  readonly totalBytes: number | null;
  /** Read from the Cache API rather than the network. */
  readonly fromCache: boolean;
}

export interface CachedFetchOptions {
  /** Called as each file's bytes arrive, and once for a file read from the cache. */
  readonly onProgress?: (progress: ModelFileProgress) => void;
  /** Default {@link MODEL_CACHE_NAME}. */
  readonly cacheName?: string;
}

interface ExpectedFile {
  readonly sha256: string;
  readonly byteLength: number;
}

/** Weight file path -> size and SHA-256, from a manifest's groups (whatever does not parse is left out: the loader reports it). */
function expectedFiles(manifestBytes: Uint8Array): Map<string, ExpectedFile> {
  const out = new Map<string, ExpectedFile>();
  try {
    const raw = JSON.parse(new TextDecoder().decode(manifestBytes)) as { groups?: Record<string, unknown> };
    for (const g of Object.values(raw.groups ?? {})) {
      const group = g as { paths?: unknown; sha256?: unknown; byteLength?: unknown };
      const file = Array.isArray(group.paths) ? (group.paths[0] as unknown) : undefined;
      if (typeof file === 'string' && typeof group.sha256 === 'string' && typeof group.byteLength === 'number')
        out.set(file, { sha256: group.sha256, byteLength: group.byteLength });
    }
  } catch {
    // not JSON: LoadedModel.open says so
  }
  return out;
}

async function openCache(name: string): Promise<Cache | null> {
  if (typeof caches === 'undefined') return null;
  try {
    return await caches.open(name);
  } catch {
    return null; // storage blocked (private mode, quota): no cache, same bytes from the network
  }
}

/** The cached bytes of `key` if they are exactly `expected`; a damaged entry is deleted. */
async function cachedFile(cache: Cache, key: string, expected: ExpectedFile): Promise<Uint8Array | null> {
  const hit = await cache.match(key).catch(() => undefined);
  if (!hit) return null;
  const bytes = new Uint8Array(await hit.arrayBuffer().catch(() => new ArrayBuffer(0)));
  if (bytes.byteLength === expected.byteLength && (await sha256Hex(bytes)) === expected.sha256) return bytes;
  await cache.delete(key).catch(() => false);
  return null;
}

/** The Cache API key of a weight file: its URL plus the SHA-256 its bytes must have. */
const keyOf = (url: string, sha256: string): string => `${url}?sha256=${sha256}`;

/** Stores a verified weight file, and drops the entries of the same URL under other hashes (older conversions). */
async function storeFile(cache: Cache, url: string, sha256: string, bytes: Uint8Array): Promise<void> {
  try {
    const absolute = new URL(url, globalThis.location?.href).href;
    for (const old of await cache.keys()) {
      const u = new URL(old.url);
      const hash = u.searchParams.get('sha256');
      u.search = '';
      if (hash !== null && hash !== sha256 && u.href === absolute) await cache.delete(old);
    }
    await cache.put(keyOf(url, sha256), new Response(bytes as unknown as BodyInit));
  } catch {
    // quota exceeded or storage blocked: the next visit fetches again
  }
}

/** Model files over HTTP(S) from `baseUrl` (a model's folder), kept in the Cache API (see the module comment). */
export function cachedFetchByteSource(baseUrl: string, options: CachedFetchOptions = {}): ByteSource {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const cache = openCache(options.cacheName ?? MODEL_CACHE_NAME);
  const report = options.onProgress ?? (() => undefined);
  let expected = new Map<string, ExpectedFile>();
  return async (rel, signal) => {
    const url = `${base}${rel}`;
    const c = await cache;
    const expect = expected.get(rel);
    if (c && expect) {
      const hit = await cachedFile(c, keyOf(url, expect.sha256), expect);
      if (hit) {
        report({ url, loadedBytes: hit.byteLength, totalBytes: hit.byteLength, fromCache: true });
        return hit;
      }
      const bytes = await fetchModelFile(base, rel, signal, (loadedBytes) =>
        report({ url, loadedBytes, totalBytes: expect.byteLength, fromCache: false }),
      );
      // Only bytes the manifest vouches for are kept; the loader reports a mismatch.
      if (bytes.byteLength === expect.byteLength && (await sha256Hex(bytes)) === expect.sha256)
        await storeFile(c, url, expect.sha256, bytes);
      return bytes;
    }
    let bytes: Uint8Array;
    try {
      bytes = await fetchModelFile(base, rel, signal, (loadedBytes, totalBytes) =>
        report({ url, loadedBytes, totalBytes, fromCache: false }),
      );
      if (c && rel === 'manifest.json') await c.put(url, new Response(bytes as unknown as BodyInit)).catch(() => undefined);
    } catch (e) {
      // Offline (fetch itself failed, not an HTTP error): the manifest of the last visit, if any.
      const stored = c && rel === 'manifest.json' && e instanceof TypeError ? await c.match(url).catch(() => undefined) : undefined;
      if (!stored) throw e;
      bytes = new Uint8Array(await stored.arrayBuffer());
      report({ url, loadedBytes: bytes.byteLength, totalBytes: bytes.byteLength, fromCache: true });
    }
    if (rel === 'manifest.json') expected = expectedFiles(bytes);
    return bytes;
  };
}
