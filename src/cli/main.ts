#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RestartdError } from '../errors.js';
import { printable } from '../report/printable.js';
import { EXIT } from './exit-codes.js';
import { processIO, type CliIO } from './io.js';
import { runCli } from './run-cli.js';

/** Only the entry touches process.exitCode. */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  try {
    return await runCli(argv, io);
  } catch (error) {
    if (error instanceof RestartdError) {
      // The message may name paths and units: shown printable, line by line.
      io.err(`restartd: ${error.message.split('\n').map(printable).join('\n')}\n`);
      return EXIT.ERROR;
    }
    io.err(`restartd: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.ERROR;
  }
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  // A reader that went away (`restartd status | head -1`) ends the command quietly.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(process.exitCode ?? EXIT.OK);
    });
  }
  const code = await main(process.argv.slice(2));
  // A finished command ends here, whatever is left open: a bus that accepted the connection but
  // never answered would otherwise keep its socket, and the process, alive. A pipe whose reader is
  // slower than us holds the rest of the output in our buffer: it is flushed first.
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', () => resolve())))));
  process.exit(code);
}
