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

/** Iteration progress: a bar with the loss and ETA on a terminal, a line every `everyN` otherwise. */
export interface IterationProgress {
  update(iteration: number, label: string): void;
  stop(): void;
}

export function createIterationProgress(total: number, quiet: boolean, everyN = 25): IterationProgress {
  const tty = !quiet && process.stderr.isTTY === true;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'livestyle [{bar}] {value}/{total} | {label} | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  if (tty) bar.start(total, 0, { label: 'starting' });
  let stopped = false;
  return {
    update(iteration, label) {
      if (tty) bar.update(iteration, { label });
      else if (!quiet && (iteration % everyN === 0 || iteration === total)) process.stderr.write(`${iteration}/${total} ${label}\n`);
    },
    stop() {
      if (tty && !stopped) bar.stop();
      stopped = true;
    },
  };
}
