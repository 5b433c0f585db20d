/** Step progress on stderr (a bar on a terminal, nothing when piped or --quiet). */
import cliProgress from 'cli-progress';

export interface Progress {
  step(label: string): void;
  done(message: string): void;
  stop(): void;
}

export function createProgress(total: number, quiet: boolean): Progress {
  const enabled = !quiet && process.stderr.isTTY === true;
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'livestyle [{bar}] {percentage}% | {label} | {duration}s', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let value = 0;
  if (enabled) bar.start(total, 0, { label: 'starting' });
  return {
    step(label) {
      if (enabled) bar.update(Math.min(total - 1, value++), { label });
    },
    done(message) {
      if (enabled) {
        bar.update(total, { label: 'done' });
        bar.stop();
      }
      if (!quiet) process.stderr.write(`wrote ${message}\n`);
    },
    stop() {
      if (enabled) bar.stop();
    },
  };
}
