// The browser's caches for a fast first frame (issue 32, item 4), with `fetch` and the Cache API
// stood in for: precomputed style statistics (read for any backend, only for file-keyed styles, a
// damaged entry never used), the layered cache, and model files kept under their manifest SHA-256 (a
// damaged or stale cached file is fetched again; the manifest of the last visit serves offline).
// IndexedDB itself is exercised in Chromium (test/integration/first-frame.test.ts); here its absence
// is, and (with a small stand-in) what the cache does when another tab closes its connection.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import {
  encodeStyleStatsEntry,
  styleStatsEntryId,
  type StyleLevelStatistics,
  type StyleStatsCache,
  type StyleStatsKey,
} from '../../packages/core/src/pipeline/style-stats-cache.js';
import {
  INDEX_RETRY_MS,
  LayeredStyleStatsCache,
  ShippedStyleStats,
  shippedStyleStatsIndex,
} from '../../packages/core/src/io/style-stats-shipped.js';
import { IndexedDbStyleStatsCache } from '../../packages/core/src/io/style-stats-idb.js';
import { cachedFetchByteSource, type ModelFileProgress } from '../../packages/core/src/weights/model-cache.js';

const KEY: StyleStatsKey = {
  imageSha256: 'a'.repeat(64),
  imageHashOf: 'file',
  styleHeightPx: 384,
  styleWidthPx: 512,
  model: 'cd16x',
  encoderSha256: 'b'.repeat(64),
  level: 4,
  backend: 'webgl',
};

const statsOf = (c: number, seed = 1): StyleLevelStatistics => ({
  channels: c,
  mean: Float64Array.from({ length: c }, (_, i) => Math.sin(i + seed)),
  std: Float64Array.from({ length: c }, (_, i) => 1 + Math.cos(i + seed) ** 2),
  colouring: Float64Array.from({ length: c * c }, (_, i) => Math.sin(i * 0.37 + seed)),
});

/** A fetch over an in-memory folder of files (URL -> bytes); every URL asked is logged. */
function fakeFetch(files: Map<string, Uint8Array>, log: string[] = []): typeof fetch {
  return (input: RequestInfo | URL) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    log.push(url);
    const body = files.get(url);
    if (!body) return Promise.resolve(new Response('missing', { status: 404, headers: { 'content-type': 'text/plain' } }));
    return Promise.resolve(new Response(body as unknown as BodyInit, { headers: { 'content-length': String(body.byteLength) } }));
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('precomputed (shipped) style statistics', () => {
  async function shippedFolder(stats: StyleLevelStatistics): Promise<Map<string, Uint8Array>> {
    const wasmKey = { ...KEY, backend: 'wasm' };
    const id = await styleStatsEntryId(wasmKey);
    return new Map([
      ['https://x/stats/index.json', new TextEncoder().encode(JSON.stringify(shippedStyleStatsIndex('wasm', [id])))],
      [`https://x/stats/${id}.bin`, await encodeStyleStatsEntry(wasmKey, stats)],
    ]);
  }

  it('answers a file-keyed style on any backend from entries computed on the index backend', async () => {
    const stats = statsOf(8);
    const log: string[] = [];
    vi.stubGlobal('fetch', fakeFetch(await shippedFolder(stats), log));
    const shipped = new ShippedStyleStats('https://x/stats');
    expect(await shipped.get(KEY)).toEqual(stats);
    expect(await shipped.get({ ...KEY, backend: 'webgpu' })).toEqual(stats);
    // Another level, and pixel-keyed styles (the page's own decoding), are not in the folder: no request for them.
    const before = log.length;
    expect(await shipped.get({ ...KEY, level: 3 })).toBeNull();
    expect(await shipped.get({ ...KEY, imageHashOf: 'pixels' })).toBeNull();
    expect(log.length).toBe(before);
    expect(log.filter((u) => u.endsWith('index.json'))).toHaveLength(1); // read once
  });

  it('never hands back a damaged entry, and says so once', async () => {
    const files = await shippedFolder(statsOf(8));
    for (const [url, bytes] of files) if (url.endsWith('.bin')) bytes[bytes.length - 1]! ^= 0xff;
    vi.stubGlobal('fetch', fakeFetch(files));
    const warnings: string[] = [];
    const shipped = new ShippedStyleStats('https://x/stats/', { onWarning: (m) => warnings.push(m) });
    expect(await shipped.get(KEY)).toBeNull();
    expect(await shipped.get(KEY)).toBeNull();
    expect(warnings).toEqual([expect.stringMatching(/not used \(checksum mismatch\); computing them$/)]);
  });

  it('a folder without an index (a dev server) is no statistics, not an error', async () => {
    vi.stubGlobal('fetch', fakeFetch(new Map()));
    const warnings: string[] = [];
    const shipped = new ShippedStyleStats('https://x/none/', { onWarning: (m) => warnings.push(m) });
    expect(await shipped.get(KEY)).toBeNull();
    expect(warnings).toEqual([expect.stringMatching(/at https:\/\/x\/none\/ not used \(HTTP 404\)/)]);
  });

  it('asks for the index again after a dropped connection or a server error (at most every 30 s), never after a 404', async () => {
    const stats = statsOf(8);
    const files = await shippedFolder(stats);
    const log: string[] = [];
    const served = fakeFetch(files, log);
    let failures: Array<'network' | 503> = ['network', 503];
    vi.stubGlobal('fetch', (input: RequestInfo | URL) => {
      const failure = failures.shift();
      if (failure === undefined) return served(input);
      log.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      return failure === 'network'
        ? Promise.reject(new TypeError('Failed to fetch'))
        : Promise.resolve(new Response('busy', { status: 503 }));
    });
    let nowMs = 1000;
    vi.spyOn(performance, 'now').mockImplementation(() => nowMs);
    const indexFetches = (): number => log.filter((u) => u.endsWith('index.json')).length;
    const warnings: string[] = [];
    const shipped = new ShippedStyleStats('https://x/stats/', { onWarning: (m) => warnings.push(m) });
    expect(await shipped.get(KEY)).toBeNull(); // the network drops
    nowMs += INDEX_RETRY_MS - 1;
    expect(await shipped.get(KEY)).toBeNull(); // within the cool-down: not asked again
    expect(indexFetches()).toBe(1);
    nowMs += 1;
    expect(await shipped.get(KEY)).toBeNull(); // asked again: 503
    expect(indexFetches()).toBe(2);
    nowMs += INDEX_RETRY_MS;
    expect((await shipped.get(KEY))?.mean).toEqual(stats.mean);
    expect(await shipped.get(KEY)).not.toBeNull(); // kept once it arrived
    expect(indexFetches()).toBe(3);
    expect(warnings).toEqual([expect.stringMatching(/not used \(Failed to fetch\)$/)]);
    // A folder that is not there is asked for once, however many styles and seconds follow.
    log.length = 0;
    failures = [];
    vi.stubGlobal('fetch', fakeFetch(new Map(), log));
    const none = new ShippedStyleStats('https://x/none/');
    for (let i = 0; i < 3; i++) {
      expect(await none.get(KEY)).toBeNull();
      nowMs += 2 * INDEX_RETRY_MS;
    }
    expect(log).toEqual(['https://x/none/index.json']);
  });

  it('layers: the first hit wins, a failing layer is skipped, puts reach every layer', async () => {
    const puts: string[] = [];
    const layer = (name: string, hit: StyleLevelStatistics | null | 'fail'): StyleStatsCache => ({
      get: () => (hit === 'fail' ? Promise.reject(new Error('broken')) : Promise.resolve(hit)),
      put: () => {
        puts.push(name);
        return Promise.resolve();
      },
    });
    const second = statsOf(4, 2);
    const layered = new LayeredStyleStatsCache([layer('a', 'fail'), layer('b', second), layer('c', statsOf(4, 3))]);
    expect(await layered.get(KEY)).toBe(second);
    expect(await new LayeredStyleStatsCache([layer('a', null)]).get(KEY)).toBeNull();
    await layered.put(KEY, second);
    expect(puts).toEqual(['a', 'b', 'c']);
  });
});

describe('IndexedDbStyleStatsCache without IndexedDB (Node, some private modes)', () => {
  it('is an empty cache: misses, and puts nothing, without an error', async () => {
    const cache = new IndexedDbStyleStatsCache();
    expect(await cache.get(KEY)).toBeNull();
    await expect(cache.put(KEY, statsOf(4))).resolves.toBeUndefined();
  });
});

/**
 * An IndexedDB stand-in with one database: enough of open, transactions and `versionchange` for the
 * cache's handle bookkeeping (the real one is exercised in Chromium). A closed connection throws on
 * `transaction`, as the real one does.
 */
interface FakeConnection {
  closed: boolean;
  onversionchange: (() => void) | null;
  onclose: (() => void) | null;
}

function fakeIndexedDb(): { indexedDB: IDBFactory; connections: FakeConnection[]; newerVersionElsewhere: () => void } {
  const records = new Map<string, unknown>();
  const connections: FakeConnection[] = [];
  const request = <T>(result: () => T): IDBRequest<T> => {
    const r = { result: undefined as T | undefined, onsuccess: null as (() => void) | null, onerror: null, error: null };
    setTimeout(() => {
      r.result = result();
      r.onsuccess?.();
    }, 0);
    return r as unknown as IDBRequest<T>;
  };
  const transaction = () => {
    const tx = { oncomplete: null as (() => void) | null, onabort: null, onerror: null, error: null };
    const done = () => setTimeout(() => tx.oncomplete?.(), 0);
    return Object.assign(tx, {
      objectStore: () => ({
        get: (id: string) => request(() => records.get(id)),
        put: (value: unknown, id: string) => (records.set(id, value), done()),
        delete: (id: string) => (records.delete(id), done()),
      }),
    });
  };
  const factory = {
    open: () =>
      Object.assign(
        request(() => {
          const connection = {
            closed: false,
            onversionchange: null as (() => void) | null,
            onclose: null as (() => void) | null,
            objectStoreNames: ['style-stats-v1'],
            close: () => void (connection.closed = true),
            transaction: () => {
              if (connection.closed) throw new DOMException('The database connection is closing.', 'InvalidStateError');
              return transaction();
            },
          };
          connections.push(connection);
          return connection;
        }),
        { onupgradeneeded: null, onblocked: null },
      ),
  };
  return {
    indexedDB: factory as unknown as IDBFactory,
    connections,
    newerVersionElsewhere: () => connections.forEach((c) => c.onversionchange?.()),
  };
}

describe('IndexedDbStyleStatsCache when another tab upgrades or deletes the database', () => {
  it('lets go of the closed connection and opens again when next asked, instead of failing every read', async () => {
    const fake = fakeIndexedDb();
    vi.stubGlobal('indexedDB', fake.indexedDB);
    const warnings: string[] = [];
    const cache = new IndexedDbStyleStatsCache({ onWarning: (m) => warnings.push(m) });
    const stats = statsOf(4);
    await cache.put(KEY, stats);
    expect((await cache.get(KEY))?.std).toEqual(stats.std);
    expect(fake.connections).toHaveLength(1);
    fake.newerVersionElsewhere();
    expect((await cache.get(KEY))?.std).toEqual(stats.std);
    expect(fake.connections).toHaveLength(2);
    // The old connection's late `close` event does not drop the new one.
    fake.connections[0]!.onclose?.();
    expect((await cache.get(KEY))?.std).toEqual(stats.std);
    expect(fake.connections).toHaveLength(2);
    expect(warnings).toEqual([]);
  });

  it('a read on a connection closed before its event arrives is a miss, said once', async () => {
    const fake = fakeIndexedDb();
    vi.stubGlobal('indexedDB', fake.indexedDB);
    const warnings: string[] = [];
    const cache = new IndexedDbStyleStatsCache({ onWarning: (m) => warnings.push(m) });
    await cache.put(KEY, statsOf(4));
    fake.connections[0]!.closed = true;
    expect(await cache.get(KEY)).toBeNull();
    expect(await cache.get(KEY)).toBeNull();
    expect(warnings).toEqual([
      expect.stringMatching(/^style statistics cache: not read \(The database connection is closing\.\); computing them$/),
    ]);
  });
});

/** A Cache API stand-in: one cache of URL -> bytes. */
function fakeCaches(): { store: Map<string, Uint8Array>; caches: CacheStorage } {
  const store = new Map<string, Uint8Array>();
  const abs = (r: RequestInfo | URL): string => (typeof r === 'string' ? r : r instanceof URL ? r.href : r.url);
  const cache = {
    match: (r: RequestInfo | URL) => {
      const body = store.get(abs(r));
      return Promise.resolve(body ? new Response(body as unknown as BodyInit) : undefined);
    },
    put: async (r: RequestInfo | URL, response: Response) => {
      store.set(abs(r), new Uint8Array(await response.arrayBuffer()));
    },
    delete: (r: RequestInfo | URL) => Promise.resolve(store.delete(abs(r))),
    keys: () => Promise.resolve([...store.keys()].map((url) => new Request(url))),
  };
  return { store, caches: { open: () => Promise.resolve(cache) } as unknown as CacheStorage };
}

describe('model files in the Cache API', () => {
  const weights = Uint8Array.from({ length: 4000 }, (_, i) => (i * 7) % 251);
  const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
  const manifestFor = (w: Uint8Array): Uint8Array =>
    new TextEncoder().encode(JSON.stringify({ groups: { enc1: { paths: ['enc1.bin'], sha256: sha(w), byteLength: w.byteLength } } }));
  const base = 'https://x/models/cd16x/';

  it('a second load reads the weights from the cache; the manifest is always asked for', async () => {
    const { store, caches } = fakeCaches();
    vi.stubGlobal('caches', caches);
    const log: string[] = [];
    const files = new Map([
      [`${base}manifest.json`, manifestFor(weights)],
      [`${base}enc1.bin`, weights],
    ]);
    vi.stubGlobal('fetch', fakeFetch(files, log));
    const progress: ModelFileProgress[] = [];
    for (let visit = 0; visit < 2; visit++) {
      const source = cachedFetchByteSource(base, { onProgress: (p) => progress.push(p) });
      await source('manifest.json');
      expect(await source('enc1.bin')).toEqual(weights);
    }
    expect(log).toEqual([`${base}manifest.json`, `${base}enc1.bin`, `${base}manifest.json`]);
    expect([...store.keys()].sort()).toEqual([`${base}enc1.bin?sha256=${sha(weights)}`, `${base}manifest.json`]);
    const enc = progress.filter((p) => p.url.endsWith('enc1.bin'));
    expect(enc.at(-2)).toEqual({ url: `${base}enc1.bin`, loadedBytes: 4000, totalBytes: 4000, fromCache: false });
    expect(enc.at(-1)).toEqual({ url: `${base}enc1.bin`, loadedBytes: 4000, totalBytes: 4000, fromCache: true });
  });

  it('a damaged cached file is fetched again; a new conversion replaces the old entry; offline, the last manifest serves', async () => {
    const { store, caches } = fakeCaches();
    vi.stubGlobal('caches', caches);
    const log: string[] = [];
    const files = new Map([
      [`${base}manifest.json`, manifestFor(weights)],
      [`${base}enc1.bin`, weights],
    ]);
    vi.stubGlobal('fetch', fakeFetch(files, log));
    const load = async (): Promise<Uint8Array> => {
      const source = cachedFetchByteSource(base);
      await source('manifest.json');
      return source('enc1.bin');
    };
    await load();
    store.get(`${base}enc1.bin?sha256=${sha(weights)}`)![10]! ^= 1;
    expect(await load()).toEqual(weights);
    expect(log.filter((u) => u.endsWith('enc1.bin'))).toHaveLength(2);
    expect(store.get(`${base}enc1.bin?sha256=${sha(weights)}`)).toEqual(weights); // stored again, intact

    const reconverted = weights.map((v) => 255 - v);
    files.set(`${base}manifest.json`, manifestFor(reconverted));
    files.set(`${base}enc1.bin`, reconverted);
    expect(await load()).toEqual(reconverted);
    expect([...store.keys()].filter((k) => k.includes('enc1.bin'))).toEqual([`${base}enc1.bin?sha256=${sha(reconverted)}`]);

    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('Failed to fetch')));
    expect(await load()).toEqual(reconverted);
  });

  it('without the Cache API it is a plain fetch', async () => {
    vi.stubGlobal('caches', undefined);
    const log: string[] = [];
    vi.stubGlobal('fetch', fakeFetch(new Map([[`${base}enc1.bin`, weights]]), log));
    const source = cachedFetchByteSource(base);
    expect(await source('enc1.bin')).toEqual(weights);
    expect(await source('enc1.bin')).toEqual(weights);
    expect(log).toHaveLength(2);
    await expect(source('missing.bin')).rejects.toThrow(/not found \(HTTP 404\): this page does not serve the models/);
  });
});
