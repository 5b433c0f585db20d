/** `--no-style-cache`: the style-statistics cache of `stylize` and `video` (README, "Style statistics cache"). */
import { FileStyleStatsCache } from '@livestyle/core/internal/io/style-stats-files.js';
import type { StyleStatsCache } from '@livestyle/core/internal/pipeline/style-stats-cache.js';

/** The cache for a run: a folder ($LIVESTYLE_CACHE_DIR, $XDG_CACHE_HOME/livestyle, ~/.cache/livestyle), or none with --no-style-cache. */
export function styleStatsCacheFor(flags: { readonly styleCache?: boolean; readonly quiet: boolean }): StyleStatsCache | null {
  if (flags.styleCache === false) return null;
  // A discarded entry or a cache that cannot be written is worth one line; the run itself goes on.
  return new FileStyleStatsCache({ onWarning: (m) => void (flags.quiet || process.stderr.write(`livestyle: ${m}\n`)) });
}

/**
 * The line saying where the styles' statistics came from (the warm-run evidence the README's timing
 * refers to): "style statistics: cached", "computed" or "computed (3 of 5 cached)".
 */
export function styleStatsLine(sources: { readonly encoded: number; readonly cached: number }): string {
  if (sources.encoded === 0) return 'style statistics: cached';
  if (sources.cached === 0) return 'style statistics: computed';
  return `style statistics: computed (${sources.cached} of ${sources.cached + sources.encoded} cached)`;
}
