/** Where progress goes: stderr when it is a terminal. */
export interface ProgressStream {
  isTTY?: boolean | undefined;
  write(text: string): unknown;
}

export interface Progress {
  /** What runs now ("scanning processes", "measuring /nix/var/nix/profiles/system"). */
  phase(text: string): void;
  /** Clears the line; later calls do nothing. */
  done(): void;
}

const SPINNER = ['|', '/', '-', '\\'];

/**
 * A one-line progress indicator for long runs, on a terminal only: nothing is drawn for the first
 * `delayMs` (a quick status stays quiet), then the current phase and the elapsed time are redrawn
 * every `intervalMs` on one line, which `done()` clears. Off a terminal it writes nothing at all, so
 * pipes, logs and --json stay clean.
 */
export function createProgress(stream: ProgressStream, options: { delayMs?: number; intervalMs?: number; now?: () => number } = {}): Progress {
  if (stream.isTTY !== true) return { phase: () => {}, done: () => {} };
  const now = options.now ?? Date.now;
  const started = now();
  let text = 'working';
  let tick = 0;
  let drawn = false;
  const draw = (): void => {
    const seconds = ((now() - started) / 1000).toFixed(1);
    stream.write(`\r\x1b[K${SPINNER[tick++ % SPINNER.length]} ${text} (${seconds} s)`);
    drawn = true;
  };
  let timer: NodeJS.Timeout | undefined;
  const delay = setTimeout(() => {
    draw();
    timer = setInterval(draw, options.intervalMs ?? 100);
    timer.unref();
  }, options.delayMs ?? 400);
  delay.unref();
  let finished = false;
  return {
    phase(next) {
      text = next;
      if (drawn && !finished) draw();
    },
    done() {
      if (finished) return;
      finished = true;
      clearTimeout(delay);
      if (timer !== undefined) clearInterval(timer);
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
