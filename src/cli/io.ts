import { printable } from '../report/printable.js';

/** Where a command writes: stdout and stderr, swappable in tests. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

export const processIO: CliIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/**
 * The same IO with every line of text made printable (control characters escaped): for commands
 * whose lines name paths, units and causes from the system and carry no colour (hook, watch, fleet).
 */
export function printableIO(io: CliIO): CliIO {
  const clean = (text: string): string => text.split('\n').map(printable).join('\n');
  return { out: (text) => io.out(clean(text)), err: (text) => io.err(clean(text)) };
}
