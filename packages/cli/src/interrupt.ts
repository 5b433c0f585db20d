/**
 * Ctrl-C (SIGINT) and SIGTERM (what `timeout`, systemd, `docker stop` and CI cancellation send) stop
 * a long command the same way: it finishes the step in progress, keeps what is complete and exits
 * with 128 + the signal's number (130, 143), as shells report a process a signal ended.
 */
const EXIT_CODES: Readonly<Record<InterruptSignal, number>> = { SIGINT: 130, SIGTERM: 143 };

export type InterruptSignal = 'SIGINT' | 'SIGTERM';

export interface Interrupt {
  /** The first signal received, or null. */
  readonly received: InterruptSignal | null;
  /** 130 or 143 once a signal arrived, else null. */
  readonly exitCode: number | null;
  /** Stops listening (the default handlers apply again). */
  dispose(): void;
}

/**
 * Listens for SIGINT and SIGTERM; `onFirst` runs on the first, and a second signal of either kind
 * exits at once (the user insists).
 */
export function listenForInterrupt(onFirst: (signal: InterruptSignal) => void): Interrupt {
  let received: InterruptSignal | null = null;
  const handler = (signal: InterruptSignal): void => {
    if (received) process.exit(EXIT_CODES[signal]);
    received = signal;
    onFirst(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    get received() {
      return received;
    },
    get exitCode() {
      return received ? EXIT_CODES[received] : null;
    },
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
