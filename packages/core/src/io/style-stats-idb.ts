/**
 * The browser's style-statistics cache (the Stylizer's `styleStatsCache`): one IndexedDB record per
 * style and level, the entry bytes of style-stats-cache.ts under the key's SHA-256, in a store named
 * by the format version. A record that does not decode exactly (bad checksum, another version or key,
 * not bytes at all) is deleted and read as a miss, so the statistics are computed again and the
 * record rewritten. Where IndexedDB is missing or refused (some private modes, sandboxed frames) the
 * cache is simply empty: it costs speed, never a result.
 */
import {
  STYLE_STATS_FORMAT_VERSION,
  decodeStyleStatsEntry,
  encodeStyleStatsEntry,
  styleStatsEntryId,
  type StyleLevelStatistics,
  type StyleStatsCache,
  type StyleStatsKey,
} from '../pipeline/style-stats-cache.js';

/** The database the elements use. */
export const STYLE_STATS_DB_NAME = 'livestyle-style-stats';
/** The object store of this format version (older versions' stores are dropped on upgrade). */
export const STYLE_STATS_STORE = `style-stats-v${STYLE_STATS_FORMAT_VERSION}`;

export interface IndexedDbStyleStatsCacheOptions {
  /** Default {@link STYLE_STATS_DB_NAME}. */
  readonly dbName?: string;
  /** Told, once per kind of event, when a record is discarded or the database cannot be used. */
  readonly onWarning?: (message: string) => void;
}

/** A request's result as a promise. */
function settle<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

/** A transaction's completion as a promise (a write is durable only once it completes). */
function completed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** Opens the database; `onClosed` is told when this page lets go of it (see below). */
function openDatabase(name: string, onClosed: () => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, STYLE_STATS_FORMAT_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const store of [...db.objectStoreNames]) if (store !== STYLE_STATS_STORE) db.deleteObjectStore(store);
      if (!db.objectStoreNames.contains(STYLE_STATS_STORE)) db.createObjectStore(STYLE_STATS_STORE);
    };
    request.onsuccess = () => {
      const db = request.result;
      // Another tab opening a newer version or deleting the database: let it go ahead. The page
      // forgets this handle (a closed one throws on every transaction) and opens again when next
      // asked: that works after a deletion, and after an upgrade fails once (warned) and the page
      // goes on without the cache. The browser closing it (storage cleared) is the same.
      db.onversionchange = () => {
        db.close();
        onClosed();
      };
      db.onclose = onClosed;
      resolve(db);
    };
    request.onerror = () => reject(request.error ?? new Error('IndexedDB open failed'));
    request.onblocked = () => reject(new Error('IndexedDB upgrade blocked by another tab'));
  });
}

/** Style statistics kept in IndexedDB (see the module comment). */
export class IndexedDbStyleStatsCache implements StyleStatsCache {
  private readonly dbName: string;
  private readonly onWarning: (message: string) => void;
  private readonly warned = new Set<string>();
  private db: Promise<IDBDatabase | null> | null = null;

  constructor(options: IndexedDbStyleStatsCacheOptions = {}) {
    this.dbName = options.dbName ?? STYLE_STATS_DB_NAME;
    this.onWarning = options.onWarning ?? (() => undefined);
  }

  async get(key: StyleStatsKey): Promise<StyleLevelStatistics | null> {
    const db = await this.open();
    if (!db) return null;
    const id = await styleStatsEntryId(key);
    let value: unknown;
    try {
      value = await settle(db.transaction(STYLE_STATS_STORE, 'readonly').objectStore(STYLE_STATS_STORE).get(id));
    } catch (e) {
      // A read that fails (the connection closing under it, a quota or disk error) is a miss.
      this.warn('read', `style statistics cache: not read (${(e as Error).message}); computing them`);
      return null;
    }
    if (value === undefined) return null;
    try {
      if (!(value instanceof ArrayBuffer)) throw new Error('record is not an entry');
      return await decodeStyleStatsEntry(new Uint8Array(value), key);
    } catch (e) {
      // Damaged or stale: never used, removed so the recomputed statistics take its place.
      await this.remove(db, id).catch(() => undefined);
      this.warn('discarded', `style statistics cache: discarded a record (${(e as Error).message}); recomputing`);
      return null;
    }
  }

  async put(key: StyleStatsKey, stats: StyleLevelStatistics): Promise<void> {
    const db = await this.open();
    if (!db) return;
    const bytes = await encodeStyleStatsEntry(key, stats);
    try {
      const id = await styleStatsEntryId(key);
      const tx = db.transaction(STYLE_STATS_STORE, 'readwrite');
      tx.objectStore(STYLE_STATS_STORE).put(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), id);
      await completed(tx);
    } catch (e) {
      this.warn('write', `style statistics cache: not saved (${(e as Error).message})`);
    }
  }

  private async remove(db: IDBDatabase, id: string): Promise<void> {
    const tx = db.transaction(STYLE_STATS_STORE, 'readwrite');
    tx.objectStore(STYLE_STATS_STORE).delete(id);
    await completed(tx);
  }

  private open(): Promise<IDBDatabase | null> {
    const opening: Promise<IDBDatabase | null> = (this.db ??= (async () => {
      try {
        if (typeof indexedDB === 'undefined') return null;
        return await openDatabase(this.dbName, () => {
          if (this.db === opening) this.db = null;
        });
      } catch (e) {
        this.warn('open', `style statistics cache: IndexedDB unavailable (${(e as Error).message}); styles are computed each visit`);
        return null;
      }
    })());
    return opening;
  }

  private warn(kind: string, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.onWarning(message);
  }
}
