import { printable } from '../report/printable.js';

import type { ProgressStream } from '../status/progress.js';

/**
 * Where a command writes and what it may know of its process: stdout and stderr, the environment,
 * the terminal, the stop signals. Swappable in tests; only the entry (processIO) touches `process`.
 */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** The environment (RESTARTD_OLD, NO_COLOR, ...); absent: empty. */
  env?: Readonly<Record<string, string | undefined>>;
  /** stdout is a terminal (colour); absent: no. */
  isTTY?: boolean;
  /** Where a progress line may be drawn (only on a terminal); absent: none. */
  progress?: ProgressStream;
  /** Calls `stop` on SIGINT and SIGTERM (watch); absent: never. */
  onStop?: (stop: () => void) => void;
}

export const processIO: CliIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  isTTY: process.stdout.isTTY === true,
  progress: process.stderr,
  onStop: (stop) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stop);
  },
};

/**
 * The same IO with every line of text made printable (control characters escaped): for commands
 * whose lines name paths, units and causes from the system and carry no colour (hook, watch, fleet).
 */
export function printableIO(io: CliIO): CliIO {
  const clean = (text: string): string => text.split('\n').map(printable).join('\n');
  return { out: (text) => io.out(clean(text)), err: (text) => io.err(clean(text)) };
}
