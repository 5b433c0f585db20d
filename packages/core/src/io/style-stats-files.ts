/**
 * Node's style-statistics cache (the Stylizer's `styleStatsCache`): one small binary file per style
 * and level under `<dir>/style-stats-v<version>/`, named by the key's SHA-256, written atomically. An
 * entry that does not decode exactly (truncated, bad checksum, another version or key) is deleted and
 * reported as a miss, so the statistics are computed again and the entry rewritten.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  STYLE_STATS_FORMAT_VERSION,
  decodeStyleStatsEntry,
  encodeStyleStatsEntry,
  styleStatsEntryId,
  type StyleLevelStatistics,
  type StyleStatsCache,
  type StyleStatsKey,
} from '../pipeline/style-stats-cache.js';
import { describeWriteError, sweepStaleTemporaries, writeFileAtomic } from './atomic-file.js';

/**
 * The cache folder: `$LIVESTYLE_CACHE_DIR`, else `$XDG_CACHE_HOME/livestyle`, else
 * `~/.cache/livestyle` (the XDG default), so one `rm -r` of it clears everything livestyle caches.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): string {
  if (env.LIVESTYLE_CACHE_DIR) return path.resolve(env.LIVESTYLE_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return path.resolve(env.XDG_CACHE_HOME, 'livestyle');
  return path.join(home, '.cache', 'livestyle');
}

/** Where a {@link FileStyleStatsCache} keeps its files and whom it tells about trouble. */
export interface FileStyleStatsCacheOptions {
  /** The cache folder (created on first write). Default {@link defaultCacheDir}. */
  readonly dir?: string;
  /** Told, once per kind of event, when an entry is discarded or cannot be written (the run goes on). */
  readonly onWarning?: (message: string) => void;
}

/** Style statistics kept as files in a folder (see the module comment). */
export class FileStyleStatsCache implements StyleStatsCache {
  /** The folder the entries are in. */
  readonly entriesDir: string;
  private readonly onWarning: (message: string) => void;
  private readonly warned = new Set<string>();
  private swept = false;

  constructor(options: FileStyleStatsCacheOptions = {}) {
    this.entriesDir = path.join(options.dir ?? defaultCacheDir(), `style-stats-v${STYLE_STATS_FORMAT_VERSION}`);
    this.onWarning = options.onWarning ?? (() => undefined);
  }

  /** The file that holds `key`'s entry. */
  async entryPath(key: StyleStatsKey): Promise<string> {
    return path.join(this.entriesDir, `${await styleStatsEntryId(key)}.bin`);
  }

  async get(key: StyleStatsKey): Promise<StyleLevelStatistics | null> {
    const file = await this.entryPath(key);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch {
      return null; // absent (or unreadable: then the put after the miss says why)
    }
    try {
      return await decodeStyleStatsEntry(bytes, key);
    } catch (e) {
      // Damaged or stale: never used, removed so the recomputed statistics take its place.
      await rm(file, { force: true }).catch(() => undefined);
      this.warn('discarded', `style statistics cache: discarded ${file} (${(e as Error).message}); recomputing`);
      return null;
    }
  }

  async put(key: StyleStatsKey, stats: StyleLevelStatistics): Promise<void> {
    const file = await this.entryPath(key);
    try {
      await mkdir(this.entriesDir, { recursive: true });
      if (!this.swept) {
        this.swept = true;
        await sweepStaleTemporaries(this.entriesDir); // a killed run's half-written temporaries
      }
      await writeFileAtomic(file, await encodeStyleStatsEntry(key, stats));
    } catch (e) {
      this.warn('write', `style statistics cache: not saved (${describeWriteError(e)})`);
    }
  }

  private warn(kind: string, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.onWarning(message);
  }
}
